using LayerDive.Core.Resources;

namespace LayerDive.Core.Sources;

/// <summary>A platform as an index names it: os/architecture[/variant].</summary>
public sealed record PlatformInfo(string Os, string Architecture, string? Variant)
{
    public override string ToString() => Variant is null ? $"{Os}/{Architecture}" : $"{Os}/{Architecture}/{Variant}";

    public static PlatformInfo Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length is < 2 or > 3 || parts.Any(p => p.Length == 0))
            throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Image_PlatformMalformed, text));
        return new PlatformInfo(parts[0], parts[1], parts.Length == 3 ? parts[2] : null);
    }

    public bool Matches(PlatformInfo wanted) =>
        Os == wanted.Os && Architecture == wanted.Architecture && (wanted.Variant is null || wanted.Variant == Variant);
}

