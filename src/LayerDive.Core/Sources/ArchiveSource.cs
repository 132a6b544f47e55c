using LayerDive.Core;
using System.Security.Cryptography;
using System.Text.Json;
using LayerDive.Core.Layers;
using LayerDive.Core.Model;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Sources;

/// <summary>
/// An image archive or layout on disk: a docker-archive, an oci-archive or an OCI layout directory,
/// compressed as a whole or not. The kind is told from the content (magic bytes, member names), never
/// from the file extension. Its candidate logic also serves archives read from a stream (<see cref="OnePassArchive"/>).
/// </summary>
internal sealed class ArchiveSource : IImageSource
{
    public const string DockerArchive = "docker-archive";
    public const string OciArchive = "oci-archive";
    public const string OciLayout = "oci";
    public static readonly string[] Kinds = [DockerArchive, OciArchive, OciLayout];

    private ArchiveSource(string path, string kind, BlobStore store, IReadOnlyList<ImageCandidate> candidates)
    {
        Location = path;
        Kind = kind;
        Store = store;
        Candidates = candidates;
        Blobs = new StoreBlobReader(store);
    }

    public string Location { get; }
    public string Kind { get; }
    internal BlobStore Store { get; }
    public IReadOnlyList<ImageCandidate> Candidates { get; }
    public IBlobReader Blobs { get; }

    /// <summary>Opens the archive or layout at <paramref name="path"/>; <paramref name="kindHint"/> overrides detection.</summary>
    public static ArchiveSource Open(string path, string? kindHint, SourceOptions options)
    {
        if (kindHint is not null && !Kinds.Contains(kindHint))
            throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Archive_UnknownKind, kindHint, string.Join(", ", Kinds)));
        var store = OpenStore(path);
        try
        {
            // dive's --source docker-archive means "an archive file": an OCI layout in it is read as one
            string kind = kindHint is null or DockerArchive ? Detect(store, Directory.Exists(path)) : kindHint;
            if (kind == OciArchive && Directory.Exists(path)) kind = OciLayout;
            if (kind == OciLayout && !Directory.Exists(path)) kind = OciArchive;
            return new ArchiveSource(path, kind, store, CandidatesOf(store, kind, options.Verify));
        }
        catch
        {
            store.Dispose();
            throw;
        }
    }

    /// <summary>The images a store holds, read as an archive of <paramref name="kind"/>.</summary>
    internal static List<ImageCandidate> CandidatesOf(BlobStore store, string kind, bool verify) =>
        kind == DockerArchive ? DockerCandidates(store, verify) : OciCandidates(store, verify);

    private static BlobStore OpenStore(string path)
    {
        if (Directory.Exists(path)) return new DirectoryBlobStore(path);
        if (!File.Exists(path)) throw new ImageException(FaultKind.NotFound, Strings.Source_NoSuchFile);
        Compression outer;
        using (var f = File.OpenRead(path))
        {
            var head = new byte[Decompression.MagicLength];
            int n = f.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            if (n == 0) throw new ImageException(FaultKind.Damaged, Strings.Archive_Empty);
            outer = Decompression.Sniff(head.AsSpan(0, n));
        }
        try
        {
            return outer == Compression.None ? new TarFileBlobStore(path) : new CompressedTarBlobStore(path, outer);
        }
        catch (Exception ex) when (ex is InvalidDataException or EndOfStreamException or FormatException or OverflowException or ArgumentException or NotSupportedException or IOException)
        {
            throw new ImageException(FaultKind.Damaged, outer == Compression.None ? Text.Fill(Strings.Archive_NotTar, ex.Message)
                : Text.Fill(Strings.Archive_NotCompressedTar, Decompression.Name(outer), ex.Message), inner: ex);
        }
    }

    /// <summary>The kind from the member names: docker-archive (manifest.json or repositories) or an OCI layout (index.json).</summary>
    internal static string Detect(BlobStore store, bool directory)
    {
        if (store.Exists("manifest.json") || store.Exists("repositories")) return DockerArchive;
        if (store.Exists("index.json")) return directory ? OciLayout : OciArchive;
        throw new ImageException(FaultKind.Unsupported, Strings.Archive_NotAnImage);
    }

    public void Dispose() => Store.Dispose();

    // ---------------- docker-archive ----------------

    private static List<ImageCandidate> DockerCandidates(BlobStore store, bool verify)
    {
        if (!store.Exists("manifest.json"))
        {
            if (store.Exists("repositories")) return V1Candidates(store);
            throw new ImageException(FaultKind.Unsupported, Strings.Archive_NotDockerArchive);
        }
        using var doc = Json.Parse(store.ReadDocument("manifest.json", DocumentKind.Manifest), "manifest.json");
        if (doc.RootElement.ValueKind != JsonValueKind.Array)
            throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Archive_ManifestJsonNotList, Describe(doc.RootElement)));
        var list = new List<ImageCandidate>();
        foreach (var item in doc.RootElement.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
                throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Archive_ManifestJsonEntryNotObject, Describe(item)));
            var configPath = item.String("Config") ?? throw new ImageException(FaultKind.Damaged, Strings.Archive_ManifestJsonEntryNoConfig);
            var tags = item.Strings("RepoTags");
            var layers = item.Strings("Layers");
            // only blobs/<alg>/<hex> is a content address; "<hex>.json" names are not checked by docker either
            var configDigest = BlobDigestFromPath(configPath);
            string name = tags.Count > 0 ? tags[0] : configDigest is null ? configPath : ImageException.ShortDigest(configDigest);
            list.Add(new ImageCandidate
            {
                Name = name,
                Tags = tags,
                ConfigDigest = configDigest,
                Resolve = () =>
                {
                    var config = ReadConfig(store, configPath, configDigest, verify);
                    var refs = layers.Select((p, i) => new LayerRef(i, p, null, BlobDigestFromPath(p), store.SizeOf(p), i < config.DiffIds.Count ? config.DiffIds[i] : null)).ToList();
                    CheckLayerCount(refs.Count, config);
                    return new ResolvedImage(name, config, refs, null);
                },
            });
        }
        if (list.Count == 0) throw new ImageException(FaultKind.Damaged, Strings.Archive_ManifestJsonEmpty);
        return list;
    }

    private static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Null => "null",
        JsonValueKind.Object => "an object",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => e.ValueKind.ToString().ToLowerInvariant(),
    };

    /// <summary>The v1 form: only "repositories" and &lt;id&gt;/json with parent links.</summary>
    private static List<ImageCandidate> V1Candidates(BlobStore store)
    {
        using var doc = Json.Parse(store.ReadDocument("repositories", DocumentKind.Manifest), "repositories");
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
            throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Archive_RepositoriesNotObject, Describe(doc.RootElement)));
        var list = new List<ImageCandidate>();
        foreach (var repo in doc.RootElement.EnumerateObject())
        {
            if (repo.Value.ValueKind != JsonValueKind.Object) continue;
            foreach (var tag in repo.Value.EnumerateObject())
            {
                if (tag.Value.ValueKind != JsonValueKind.String) continue;
                string id = tag.Value.GetString()!;
                string name = $"{repo.Name}:{tag.Name}";
                list.Add(new ImageCandidate { Name = name, Tags = [name], Resolve = () => ResolveV1(store, name, id) });
            }
        }
        if (list.Count == 0) throw new ImageException(FaultKind.Damaged, Strings.Archive_RepositoriesEmpty);
        return list;
    }

    private static ResolvedImage ResolveV1(BlobStore store, string name, string topId)
    {
        var chain = new List<(string Id, byte[] Json)>();
        var seen = new HashSet<string>();
        for (string? id = topId; id is not null; )
        {
            if (!seen.Add(id)) throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Archive_V1ParentLoop, name, id));
            if (!store.Exists($"{id}/json")) throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Archive_V1ParentMissing, id));
            var bytes = store.ReadDocument($"{id}/json");
            using var d = Json.Parse(bytes, $"{id}/json");
            chain.Add((id, bytes));
            id = d.RootElement.String("parent");
        }
        chain.Reverse();
        var history = new List<HistoryEntry>();
        var refs = new List<LayerRef>();
        for (int i = 0; i < chain.Count; i++)
        {
            using var d = Json.Parse(chain[i].Json, $"{chain[i].Id}/json");
            var cmd = d.RootElement.Get("container_config") is { } cc ? cc.Strings("Cmd") : [];
            history.Add(new HistoryEntry(i, d.RootElement.Time("created"), string.Join(' ', cmd), d.RootElement.String("comment"), d.RootElement.String("author"), false) { LayerIndex = i });
            refs.Add(new LayerRef(i, $"{chain[i].Id}/layer.tar", null, null, store.SizeOf($"{chain[i].Id}/layer.tar"), null));
        }
        // an image config beside the layer folders (as go-containerregistry writes this form) gives the
        // history and the diff ids, so the layers verify; it belongs when it lists as many layers
        if (ImageConfigBeside(store, chain.Count) is { } config)
            return new ResolvedImage(name, config, refs.Select(r => r with { DiffId = config.DiffIds[r.Index] }).ToList(), null);
        var top = ParseConfig(chain[^1].Json, null, $"{topId}/json") with { History = history, DiffIds = [] };
        return new ResolvedImage(name, top, refs, null);
    }

    /// <summary>The one top-level <c>*.json</c> image config whose rootfs lists <paramref name="layers"/> layers, if there is exactly one.</summary>
    private static ImageConfig? ImageConfigBeside(BlobStore store, int layers)
    {
        var found = new List<ImageConfig>();
        foreach (var path in store.Paths.Where(p => !p.Contains('/') && p.EndsWith(".json", StringComparison.Ordinal) && p != "manifest.json"))
        {
            try
            {
                var bytes = store.ReadDocument(path);
                using var doc = Json.Parse(bytes, path);
                if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.Get("rootfs")?.Strings("diff_ids") is { } ids && ids.Count == layers)
                    found.Add(ParseConfig(bytes, null, path));
            }
            catch (ImageException) { /* not a config: the chain's own json stands */ }
        }
        return found.Count == 1 ? found[0] : null;
    }

    // ---------------- OCI layout ----------------

    private const string OciIndexType = "application/vnd.oci.image.index.v1+json";
    private const string DockerListType = "application/vnd.docker.distribution.manifest.list.v2+json";
    private const string OciManifestType = "application/vnd.oci.image.manifest.v1+json";
    private const string DockerManifestType = "application/vnd.docker.distribution.manifest.v2+json";
    private static readonly HashSet<string> ImageConfigTypes = ["application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json"];

    private static List<ImageCandidate> OciCandidates(BlobStore store, bool verify)
    {
        if (!store.Exists("index.json")) throw new ImageException(FaultKind.Unsupported, Strings.Archive_OciLayoutNoIndex);
        using var doc = Json.Parse(store.ReadDocument("index.json", DocumentKind.Manifest), "index.json");
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
            throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Archive_IndexJsonNotIndex, Describe(doc.RootElement)));
        var list = new List<ImageCandidate>();
        WalkIndex(store, doc.RootElement, null, verify, list, depth: 0);
        return list;
    }

    private static void WalkIndex(BlobStore store, JsonElement index, string? inheritedName, bool verify, List<ImageCandidate> list, int depth)
    {
        if (depth > 8) throw new ImageException(FaultKind.Damaged, Strings.Image_IndexNestsTooDeep);
        foreach (var m in index.Array("manifests"))
        {
            var digest = m.String("digest") ?? throw new ImageException(FaultKind.Damaged, Strings.Image_IndexEntryNoDigest);
            var annotations = m.StringMap("annotations");
            string? refName = annotations.GetValueOrDefault("io.containerd.image.name") is { } full && full.Length > 0 ? full
                : annotations.GetValueOrDefault("org.opencontainers.image.ref.name") ?? inheritedName;
            var mediaType = m.String("mediaType");
            var path = BlobPath(digest);
            if (!store.Exists(path))
            {
                // index entries may point at blobs a layout does not carry (other platforms, referrers)
                list.Add(new ImageCandidate { Name = refName ?? ImageException.ShortDigest(digest), ManifestDigest = digest, IsArtifact = true, ArtifactType = "missing blob", Resolve = () => throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Image_ManifestMissing, digest)) });
                continue;
            }
            var bytes = store.ReadDocument(path, DocumentKind.Manifest);
            if (verify) VerifyDocument(bytes, digest, "manifest");
            using var doc = Json.Parse(bytes, $"manifest {ImageException.ShortDigest(digest)}");
            var root = doc.RootElement;
            var innerType = root.String("mediaType") ?? mediaType;
            if (innerType is OciIndexType or DockerListType || (innerType is null && root.Get("manifests") is not null))
            {
                WalkIndex(store, root, refName, verify, list, depth + 1);
                continue;
            }
            var platform = m.Get("platform") is { ValueKind: JsonValueKind.Object } p && p.String("os") is { } os && p.String("architecture") is { } arch
                ? new PlatformInfo(os, arch, p.String("variant")) : null;
            var config = root.Get("config");
            var configType = config?.String("mediaType");
            var artifactType = root.String("artifactType");
            bool isArtifact = artifactType is not null || configType is null || !ImageConfigTypes.Contains(configType);
            string name = refName ?? ImageException.ShortDigest(digest);
            var manifestCopy = root.Clone();
            list.Add(new ImageCandidate
            {
                Name = name,
                Tags = refName is null ? [] : [refName],
                ManifestDigest = digest,
                ConfigDigest = config?.String("digest"),
                Platform = platform,
                IsArtifact = isArtifact,
                ArtifactType = isArtifact ? artifactType ?? configType ?? "unknown" : null,
                Resolve = () => ResolveOci(store, manifestCopy, name, digest, verify),
            });
        }
    }

    private static ResolvedImage ResolveOci(BlobStore store, JsonElement manifest, string name, string manifestDigest, bool verify)
    {
        var configDigest = manifest.Get("config")?.String("digest") ?? throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Image_ManifestNoConfig, ImageException.ShortDigest(manifestDigest)));
        var config = ReadConfig(store, BlobPath(configDigest), configDigest, verify);
        var refs = new List<LayerRef>();
        int i = 0;
        foreach (var l in manifest.Array("layers"))
        {
            var digest = l.String("digest") ?? throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Image_ManifestLayerNoDigest, i));
            var annotations = l.StringMap("annotations");
            bool estargz = annotations.ContainsKey("containerd.io/snapshot/stargz/toc.digest");
            refs.Add(new LayerRef(i, BlobPath(digest), l.String("mediaType"), digest, l.Long("size"), i < config.DiffIds.Count ? config.DiffIds[i] : null, estargz));
            i++;
        }
        CheckLayerCount(refs.Count, config);
        return new ResolvedImage(name, config, refs, manifestDigest);
    }

    private static string BlobPath(string digest)
    {
        int colon = digest.IndexOf(':');
        if (colon <= 0 || colon == digest.Length - 1 || digest.AsSpan(colon + 1).ContainsAny("/\\.") )
            throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Image_NotADigest, digest));
        return $"blobs/{digest[..colon]}/{digest[(colon + 1)..]}";
    }

    // ---------------- shared ----------------

    /// <summary>"sha256:hex" when a docker-archive member is content-addressed (blobs/sha256/hex).</summary>
    private static string? BlobDigestFromPath(string path)
    {
        var parts = path.Split('/');
        return parts.Length == 3 && parts[0] == "blobs" && parts[1] is "sha256" or "sha512" && parts[2].All(Uri.IsHexDigit) ? $"{parts[1]}:{parts[2]}" : null;
    }

    internal static void VerifyDocument(byte[] bytes, string digest, string what)
    {
        string? actual = digest.StartsWith("sha256:", StringComparison.Ordinal) ? "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes))
            : digest.StartsWith("sha512:", StringComparison.Ordinal) ? "sha512:" + Convert.ToHexStringLower(SHA512.HashData(bytes)) : null;
        if (actual is not null && !string.Equals(actual, digest, StringComparison.OrdinalIgnoreCase))
            throw new ImageException(FaultKind.DigestMismatch, Text.Fill(Strings.Image_DigestMismatch, what, digest, actual));
    }

    private static ImageConfig ReadConfig(BlobStore store, string path, string? digest, bool verify)
    {
        if (!store.Exists(path)) throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Image_ConfigMissing, path));
        var bytes = store.ReadDocument(path);
        if (verify && digest is not null) VerifyDocument(bytes, digest, "config");
        return ParseConfig(bytes, digest, "config");
    }

    private static void CheckLayerCount(int layers, ImageConfig config)
    {
        if (config.DiffIds.Count > 0 && config.DiffIds.Count != layers)
            throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Image_LayerCountMismatch, layers, config.DiffIds.Count));
    }

    /// <summary>Parses an image config (OCI, Docker, or a v1 layer json).</summary>
    public static ImageConfig ParseConfig(byte[] bytes, string? digest, string what)
    {
        using var doc = Json.Parse(bytes, what);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
            throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Image_ConfigNotObject, what, Describe(root)));
        var rootfs = root.Get("rootfs");
        var diffIds = rootfs?.Strings("diff_ids") ?? [];
        var history = new List<HistoryEntry>();
        int layer = 0, index = 0;
        foreach (var h in root.Array("history"))
        {
            bool empty = h.Bool("empty_layer");
            history.Add(new HistoryEntry(index++, h.Time("created"), h.String("created_by") ?? "", h.String("comment"), h.String("author"), empty)
            {
                LayerIndex = empty ? null : layer++,
            });
        }
        var cfg = root.Get("config") is { ValueKind: JsonValueKind.Object } c ? c : default;
        bool has = cfg.ValueKind == JsonValueKind.Object;
        return new ImageConfig
        {
            Digest = digest ?? "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes)),
            Os = root.String("os"),
            Architecture = root.String("architecture"),
            Variant = root.String("variant"),
            Created = root.Time("created"),
            DiffIds = diffIds,
            History = history,
            Env = has ? cfg.Strings("Env") : [],
            Cmd = has ? cfg.Strings("Cmd") : [],
            Entrypoint = has ? cfg.Strings("Entrypoint") : [],
            WorkingDir = has ? cfg.String("WorkingDir") : null,
            User = has ? cfg.String("User") : null,
            Labels = has ? cfg.StringMap("Labels") : new Dictionary<string, string>(),
            Raw = bytes,
        };
    }
}
