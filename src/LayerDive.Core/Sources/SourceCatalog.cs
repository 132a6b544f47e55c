using System.Text.RegularExpressions;
using LayerDive.Core.Resources;
using LayerDive.Core.Sources.Engines;
using LayerDive.Core.Sources.OnePass;
using LayerDive.Core.Sources.Registry;

namespace LayerDive.Core.Sources;

/// <summary>
/// Every kind of source, and how a name finds its source (docs/sources.md): "-" is standard input; a scheme
/// prefix or <c>--source</c> names the kind; a path that exists is an archive or layout, its kind told
/// from the content; any other image name is looked up in the Docker Engine, then in Podman, then in containerd, then in
/// its registry, and the first that has it serves it (a note on stderr says which).
/// </summary>
public static partial class SourceCatalog
{
    internal static IReadOnlyList<SourceFactory> All { get; } =
    [
        Archive(ArchiveSource.DockerArchive, ["docker-archive://", "docker-tar://"], () => Strings.Source_HelpDockerArchive),
        Archive(ArchiveSource.OciArchive, ["oci-archive://"], () => Strings.Source_HelpOciArchive),
        Archive(ArchiveSource.OciLayout, ["oci://", "oci-dir://"], () => Strings.Source_HelpOciLayout),
        new(EngineSource.Docker, ["docker://"], () => Strings.Source_HelpDocker,
            LooksLikeImageName, (name, o, ct) => EngineSource.Open(Engine.Docker, name, o, ct)),
        new(EngineSource.Podman, ["podman://"], () => Strings.Source_HelpPodman,
            LooksLikeImageName, (name, o, ct) => EngineSource.Open(Engine.Podman, name, o, ct)),
        new(ContainerSource.KindName, ["container://"], () => Strings.Source_HelpContainer,
            _ => false, ContainerSource.Open),
        new(Storage.ContainersStorageSource.KindName, ["containers-storage:"], () => Strings.Source_HelpContainersStorage,
            _ => false, Storage.ContainersStorageSource.Open),
        new(Containerd.ContainerdSource.KindName, ["containerd://"], () => Strings.Source_HelpContainerd, LooksLikeImageName, Containerd.ContainerdSource.Open),
        new(RegistrySource.KindName, ["registry://"], () => Strings.Source_HelpRegistry,
            name => RegistryReference.Parse(name) is not null, RegistrySource.Open),
    ];

    /// <summary>Every kind, as <c>--source</c> names it.</summary>
    public static IReadOnlyList<string> Kinds { get; } = All.Select(f => f.Kind).ToList();

    /// <summary>The help text of <c>--source</c>, from the list, in the language of the moment.</summary>
    public static string Help =>
        Text.Fill(Strings.Source_Help, string.Join("; ", All.Select(f => $"{f.Kind}: {f.Description()}")));

    private static SourceFactory Archive(string kind, IReadOnlyList<string> schemes, Func<string> description) =>
        new(kind, schemes, description, path => File.Exists(path) || Directory.Exists(path), (path, o, ct) => OpenPath(path, kind, o, ct));

    /// <summary>
    /// A path: an archive file or a layout folder, read in place; a pipe (<c>&lt;(docker save x)</c>, a
    /// named pipe) or a device is read once as it streams, like standard input.
    /// </summary>
    private static IImageSource OpenPath(string path, string? kind, SourceOptions options, CancellationToken ct) =>
        FileKind.Of(path) == FileKind.Kind.Other
            ? StreamSource.Open(File.OpenRead(path), path, Text.Fill(Strings.Stream_NamedPath, path), options, ct)
            : ArchiveSource.Open(path, kind, options, ct);

    /// <summary>Opens the source <paramref name="reference"/> names.</summary>
    internal static IImageSource Open(string reference, SourceOptions options, CancellationToken ct)
    {
        string? kind = options.Kind;
        if (kind is not null && All.All(f => f.Kind != kind))
            throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Source_UnknownKind, kind, string.Join(", ", All.Select(f => f.Kind))));
        if (reference == "-")
        {
            if (kind is EngineSource.Docker or EngineSource.Podman)
                throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Source_StdinNotEngine, kind));
            var stdin = options.StandardInput?.Invoke() ?? Console.OpenStandardInput();
            return StreamSource.Open(stdin, "-", Strings.Stream_StandardInput, options, ct);
        }
        foreach (var f in All)
            foreach (var scheme in f.Schemes)
                if (reference.StartsWith(scheme, StringComparison.Ordinal))
                    return f.Open(reference[scheme.Length..], options, ct);
        if (kind is not null)
            return All.First(f => f.Kind == kind).Open(reference, options, ct);
        // no scheme, no --source: the kinds whose cheap probe takes the name, in the list's order
        var takers = All.Where(f => f.Probe(reference)).ToList();
        if (takers.Any(f => ArchiveSource.Kinds.Contains(f.Kind)))
            return OpenPath(reference, null, options, ct); // among the archive kinds, the content decides
        if (takers.Count == 0 || LooksLikePath(reference))
            throw new ImageException(FaultKind.NotFound, Strings.Source_NoSuchFile);
        // a bare name: each source in turn, until one has it
        var misses = new List<string>();
        foreach (var f in takers)
        {
            try
            {
                return f.Open(reference, options with { BareName = true }, ct);
            }
            catch (ImageException miss) when (miss.Kind is FaultKind.NotFound or FaultKind.Unreachable)
            {
                misses.Add(miss.Message);
            }
        }
        throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Source_NotFoundAnywhere, string.Join("; ", misses)));
    }

    /// <summary>
    /// The images and artifacts the source <paramref name="reference"/> names holds, in its order; an
    /// image its index gives no platform is resolved for its config's.
    /// </summary>
    public static IReadOnlyList<ImageListing> List(string reference, SourceOptions options, CancellationToken ct = default)
    {
        using var source = Open(reference, options, ct);
        return source.Candidates.Select(c => c.IsArtifact
            ? new ImageListing(c.Name, c.Platform?.ToString(), c.ManifestDigest ?? c.ConfigDigest, c.ArtifactType ?? Strings.Image_ArtifactUnknown)
            : new ImageListing(c.Name, c.Platform?.ToString() ?? c.Resolve(ct).Config.Platform, c.ManifestDigest ?? c.ConfigDigest, null)).ToList();
    }

    /// <summary>A name as the Docker CLI accepts it: [HOST[:PORT]/]PATH[:TAG][@DIGEST], or an image id.</summary>
    public static bool LooksLikeImageName(string name) => name.Length is > 0 and < 512 && ImageName().IsMatch(name);

    /// <summary>Names a user means as files: starting with '.', '/' or '~', or ending like an archive.</summary>
    private static bool LooksLikePath(string name) =>
        name.StartsWith('.') || name.StartsWith('/') || name.StartsWith('~')
        || ArchiveEnding().IsMatch(name);

    [GeneratedRegex(@"^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$|^(?:sha256:)?[0-9a-f]{4,64}$")]
    private static partial Regex ImageName();

    [GeneratedRegex(@"\.(?:tar|tgz|tar\.gz|tar\.xz|tar\.zst|tar\.bz2|txz|tzst|oci)$", RegexOptions.IgnoreCase)]
    private static partial Regex ArchiveEnding();
}
