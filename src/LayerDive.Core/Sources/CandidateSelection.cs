using LayerDive.Core.Resources;

namespace LayerDive.Core.Sources;

/// <summary>Choosing one image among a source's candidates (docs/sources.md): the same rules for every source.</summary>
internal static class CandidateSelection
{
    /// <summary>Picks the image to analyse (docs/sources.md): --image, then --platform, then the first tagged one.</summary>
    public static ImageCandidate Select(this IImageSource source, SourceOptions options, out IReadOnlyList<string> others)
    {
        var images = source.Candidates.Where(c => !c.IsArtifact).ToList();
        if (images.Count == 0)
            throw new ImageException(FaultKind.NotFound, source.Candidates.Count == 0 ? Strings.Image_IndexEmpty : Strings.Image_OnlyArtifacts);
        if (options.Image is { } query)
        {
            var matched = images.Where(c => Matches(c, query)).ToList();
            if (matched.Count == 0)
                throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Image_NoneMatches, query, string.Join(", ", images.Select(c => c.Name).Distinct())));
            images = matched;
        }
        var withPlatform = images.Where(c => c.Platform is not null).ToList();
        ImageCandidate chosen;
        if (options.Platform is { } wantedText)
        {
            var wanted = PlatformInfo.Parse(wantedText);
            chosen = withPlatform.FirstOrDefault(c => c.Platform!.Matches(wanted))
                ?? (withPlatform.Count == 0 && images.Count > 0 ? images[0]
                    : throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Image_NoneForPlatform, wanted, string.Join(", ", withPlatform.Select(c => c.Platform!.ToString()).Distinct()))));
        }
        else
        {
            var preferred = images.Where(c => c.IsTagged).DefaultIfEmpty(images[0]).First();
            var group = images.Where(c => c.Name == preferred.Name && c.Platform is not null).ToList();
            var amd64 = new PlatformInfo("linux", "amd64", null);
            chosen = group.FirstOrDefault(c => c.Platform!.Matches(amd64)) ?? preferred;
        }
        others = images.Where(c => c.Name != chosen.Name).Select(c => c.Name).Distinct().ToList();
        return chosen;
    }

    /// <summary>
    /// Resolves the chosen image. Where its source names no platform for it (an archive's manifest.json,
    /// an engine's or a store's image), the platform asked for is checked against its config instead: an
    /// image of another platform is not found, never shown in its place.
    /// </summary>
    public static ResolvedImage ResolveFor(this ImageCandidate chosen, SourceOptions options, CancellationToken ct)
    {
        var image = chosen.Resolve(ct);
        if (chosen.Platform is null && options.Platform is { } wantedText && image.Config.Os is { } os && image.Config.Architecture is { } arch)
        {
            var has = new PlatformInfo(os, arch, image.Config.Variant);
            if (!has.Matches(PlatformInfo.Parse(wantedText)))
                throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Image_NoneForPlatform, wantedText, has));
        }
        return image;
    }

    private static bool Matches(ImageCandidate c, string query)
    {
        foreach (var t in c.Tags)
            if (t == query || t == query + ":latest" || t.EndsWith("/" + query, StringComparison.Ordinal) || t.EndsWith("/" + query + ":latest", StringComparison.Ordinal))
                return true;
        if (c.Name == query) return true;
        var hex = query.StartsWith("sha256:", StringComparison.Ordinal) ? query[7..] : query;
        if (hex.Length >= 4 && hex.All(Uri.IsHexDigit))
            return (c.ManifestDigest?[7..].StartsWith(hex, StringComparison.OrdinalIgnoreCase) ?? false)
                || (c.ConfigDigest?[7..].StartsWith(hex, StringComparison.OrdinalIgnoreCase) ?? false);
        return false;
    }

}
