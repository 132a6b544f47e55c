using System.Text.Json;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Sources.Images;

/// <summary>
/// The images an OCI index names, walked through nested indexes (a multi-platform image, a layout that
/// names several images): each manifest becomes a candidate with its name, platform and digests, or an
/// artifact (a signature, an SBOM) that is listed and never analysed. Everything is read by its digest
/// from an <see cref="IDescriptorStore"/>, and checked against it when asked to.
/// </summary>
internal static class ImageIndexWalker
{
    /// <summary>How deep indexes may nest (an index naming an index naming ...).</summary>
    private const int MaxDepth = 8;

    /// <summary>One entry of an index: the descriptor, and what the index says of it.</summary>
    private readonly record struct Entry(string Digest, string? MediaType, PlatformInfo? Platform, string? Name);

    /// <summary>The images an index document names (an OCI layout's index.json).</summary>
    public static List<ImageCandidate> FromIndex(IDescriptorStore store, JsonElement index, IBlobReader blobs, bool verify)
    {
        var list = new List<ImageCandidate>();
        WalkIndex(store, index, null, blobs, verify, list, depth: 0);
        return list;
    }

    /// <summary>The images one descriptor names, a manifest or an index (a registry's reference), under <paramref name="name"/>.</summary>
    public static List<ImageCandidate> FromDescriptor(IDescriptorStore store, string digest, string? mediaType, string name, IBlobReader blobs, bool verify)
    {
        var list = new List<ImageCandidate>();
        Walk(store, new Entry(digest, mediaType, null, name), blobs, verify, list, depth: 1);
        return list;
    }

    private static void WalkIndex(IDescriptorStore store, JsonElement index, string? inheritedName, IBlobReader blobs, bool verify, List<ImageCandidate> list, int depth)
    {
        if (depth > MaxDepth) throw new ImageException(FaultKind.Damaged, Strings.Image_IndexNestsTooDeep);
        foreach (var m in index.Array("manifests"))
        {
            var digest = m.String("digest") ?? throw new ImageException(FaultKind.Damaged, Strings.Image_IndexEntryNoDigest);
            var annotations = m.StringMap("annotations");
            string? name = annotations.GetValueOrDefault("io.containerd.image.name") is { Length: > 0 } full ? full
                : annotations.GetValueOrDefault("org.opencontainers.image.ref.name") ?? inheritedName;
            var platform = m.Get("platform") is { ValueKind: JsonValueKind.Object } p && p.String("os") is { } os && p.String("architecture") is { } arch
                ? new PlatformInfo(os, arch, p.String("variant")) : null;
            Walk(store, new Entry(digest, m.String("mediaType"), platform, name), blobs, verify, list, depth + 1);
        }
    }

    private static void Walk(IDescriptorStore store, Entry entry, IBlobReader blobs, bool verify, List<ImageCandidate> list, int depth)
    {
        var digest = DigestCheck.WellFormed(entry.Digest);
        if (!store.Has(digest))
        {
            // index entries may point at content a layout does not carry (other platforms, referrers)
            list.Add(new ImageCandidate
            {
                Name = entry.Name ?? ImageException.ShortDigest(digest), ManifestDigest = digest, Platform = entry.Platform, IsArtifact = true, ArtifactType = Strings.Image_ArtifactBlobMissing,
                Resolve = _ => throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Image_ManifestMissing, digest)),
            });
            return;
        }
        var bytes = store.ReadDocument(digest, DocumentKind.Manifest);
        if (verify) DigestCheck.Document(bytes, digest, Strings.Image_DigestOfManifest);
        using var doc = Json.Parse(bytes, Text.Fill(Strings.Image_ManifestDocument, ImageException.ShortDigest(digest)));
        var root = doc.RootElement;
        var innerType = root.String("mediaType") ?? entry.MediaType;
        if (MediaTypes.IsIndex(innerType) || (innerType is null && root.Get("manifests") is not null))
        {
            WalkIndex(store, root, entry.Name, blobs, verify, list, depth);
            return;
        }
        var config = root.Get("config");
        var configType = config?.String("mediaType");
        var artifactType = root.String("artifactType");
        bool isArtifact = artifactType is not null || !MediaTypes.IsImageConfig(configType);
        string name = entry.Name ?? ImageException.ShortDigest(digest);
        var manifest = root.Clone();
        list.Add(new ImageCandidate
        {
            Name = name,
            Tags = entry.Name is null ? [] : [entry.Name],
            ManifestDigest = digest,
            ConfigDigest = config?.String("digest"),
            Platform = entry.Platform,
            IsArtifact = isArtifact,
            ArtifactType = isArtifact ? artifactType ?? configType ?? Strings.Image_ArtifactUnknown : null,
            Resolve = _ => Resolve(store, manifest, name, digest, blobs, verify),
        });
    }

    /// <summary>A manifest's config, read and checked, and its layers' descriptors.</summary>
    private static ResolvedImage Resolve(IDescriptorStore store, JsonElement manifest, string name, string manifestDigest, IBlobReader blobs, bool verify)
    {
        var configDigest = manifest.Get("config")?.String("digest") is { } named ? DigestCheck.WellFormed(named) : throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Image_ManifestNoConfig, ImageException.ShortDigest(manifestDigest)));
        if (!store.Has(configDigest)) throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Image_ConfigMissing, store.Locate(configDigest)));
        var bytes = store.ReadDocument(configDigest, DocumentKind.Config);
        if (verify) DigestCheck.Document(bytes, configDigest, Strings.Image_DigestOfConfig);
        var config = ImageConfigParser.Parse(bytes, configDigest, Strings.Image_ConfigDocument);
        var layers = new List<LayerDescriptor>();
        foreach (var l in manifest.Array("layers"))
        {
            int i = layers.Count;
            var digest = DigestCheck.WellFormed(l.String("digest") ?? throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Image_ManifestLayerNoDigest, i)));
            layers.Add(new LayerDescriptor(i, store.Locate(digest), l.String("mediaType"), digest, l.Long("size"), ImageConfigParser.DiffId(config, i))
            {
                EStargzAnnotation = l.StringMap("annotations").ContainsKey("containerd.io/snapshot/stargz/toc.digest"),
            });
        }
        ImageConfigParser.CheckLayerCount(layers.Count, config);
        return new ResolvedImage(name, config, layers, manifestDigest, blobs);
    }
}
