using System.Text.Json;
using LayerDive.Core.Model;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Sources.Images;

/// <summary>
/// The legacy <c>docker save</c> form: only <c>repositories</c> (repository, tag, top layer id) and a
/// folder per layer, <c>ID/json</c> with a parent link and <c>ID/layer.tar</c>. The chain of parents is
/// the image; each json is its history entry, the top one its config.
/// </summary>
internal static class DockerV1Chain
{
    public const string RepositoriesFile = "repositories";

    public static List<ImageCandidate> Candidates(BlobStore store, IBlobReader blobs)
    {
        using var doc = Json.Parse(store.ReadDocument(RepositoriesFile, DocumentKind.Manifest), RepositoriesFile);
        if (doc.RootElement.ValueKind != JsonValueKind.Object)
            throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Archive_RepositoriesNotObject, Json.Describe(doc.RootElement)));
        var list = new List<ImageCandidate>();
        foreach (var repo in doc.RootElement.EnumerateObject())
        {
            if (repo.Value.ValueKind != JsonValueKind.Object) continue;
            foreach (var tag in repo.Value.EnumerateObject())
            {
                if (tag.Value.ValueKind != JsonValueKind.String) continue;
                string id = tag.Value.GetString()!;
                string name = $"{repo.Name}:{tag.Name}";
                list.Add(new ImageCandidate { Name = name, Tags = [name], Resolve = _ => Resolve(store, name, id, blobs) });
            }
        }
        if (list.Count == 0) throw new ImageException(FaultKind.Damaged, Strings.Archive_RepositoriesEmpty);
        return list;
    }

    private static ResolvedImage Resolve(BlobStore store, string name, string topId, IBlobReader blobs)
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
        var refs = new List<LayerDescriptor>();
        for (int i = 0; i < chain.Count; i++)
        {
            using var d = Json.Parse(chain[i].Json, $"{chain[i].Id}/json");
            var cmd = d.RootElement.Get("container_config") is { } cc ? cc.Strings("Cmd") : [];
            history.Add(new HistoryEntry(i, d.RootElement.Time("created"), string.Join(' ', cmd), d.RootElement.String("comment"), d.RootElement.String("author"), false) { LayerIndex = i });
            var member = $"{chain[i].Id}/layer.tar";
            refs.Add(new LayerDescriptor(i, new LayerLocator.Member(member), null, null, store.SizeOf(member), null));
        }
        // an image config beside the layer folders (as go-containerregistry writes this form) gives the
        // history and the diff ids, so the layers verify; it belongs when it lists as many layers
        if (ImageConfigBeside(store, chain.Count) is { } config)
            return new ResolvedImage(name, config, refs.Select(r => r with { DiffId = config.DiffIds[r.Index] }).ToList(), null, blobs);
        var top = ImageConfigParser.Parse(chain[^1].Json, null, $"{topId}/json") with { History = history, DiffIds = [] };
        return new ResolvedImage(name, top, refs, null, blobs);
    }

    /// <summary>The one top-level <c>*.json</c> image config whose rootfs lists <paramref name="layers"/> layers, if there is exactly one.</summary>
    private static ImageConfig? ImageConfigBeside(BlobStore store, int layers)
    {
        var found = new List<ImageConfig>();
        foreach (var path in store.Paths.Where(p => !p.Contains('/') && p.EndsWith(".json", StringComparison.Ordinal) && p != DockerArchiveManifest.ManifestFile))
        {
            try
            {
                var bytes = store.ReadDocument(path);
                using var doc = Json.Parse(bytes, path);
                if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.Get("rootfs")?.Strings("diff_ids") is { } ids && ids.Count == layers)
                    found.Add(ImageConfigParser.Parse(bytes, null, path));
            }
            catch (ImageException) { /* not a config: the chain's own json stands */ }
        }
        return found.Count == 1 ? found[0] : null;
    }
}
