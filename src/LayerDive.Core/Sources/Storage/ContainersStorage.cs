using System.Text.Json;
using System.Text.RegularExpressions;
using LayerDive.Core.Interop;
using LayerDive.Core.Model;
using LayerDive.Core.Resources;
using LayerDive.Core.Sources.Images;

namespace LayerDive.Core.Sources.Storage;

/// <summary>
/// An image in a containers-storage store (what podman, buildah and CRI-O keep on disk), read without
/// any engine: <c>containers-storage:[DRIVER@ROOT+RUNROOT]NAME</c> as skopeo and podman spell it. The
/// image's record in <c>images.json</c> names its top layer and its config and manifest (big-data files
/// <c>=base64(key)</c>); <c>layers.json</c> chains the layers; each layer's exact tar is rebuilt from its
/// <c>tar-split</c> (the tar's headers and padding, as JSON lines) with the file bodies from the layer's
/// folder (overlay: <c>overlay/ID/diff</c>; vfs: <c>vfs/dir/ID</c>), so its diff id verifies and the merge
/// sees what an export would give, with no compression at all. Nothing is written; a layer the store
/// marks incomplete (being written) is refused. Every file is opened beneath the store's root with no
/// link followed (see <see cref="Store"/>).
/// </summary>
internal sealed partial class ContainersStorageSource : IImageSource
{
    public const string KindName = "containers-storage";
    public const string DefaultRoot = "/var/lib/containers/storage";

    private readonly Store _store;

    private ContainersStorageSource(Store store, string location, IReadOnlyList<ImageCandidate> candidates) =>
        (_store, Location, Candidates) = (store, location, candidates);

    public string Kind => KindName;
    public string Location { get; }
    public IReadOnlyList<ImageCandidate> Candidates { get; }
    public void Dispose() => _store.Dispose();

    /// <summary>Parses <c>[DRIVER@ROOT+RUNROOT:OPTIONS]NAME</c> (every part of the brackets optional) and opens the image.</summary>
    public static IImageSource Open(string spec, SourceOptions options, CancellationToken ct)
    {
        string? driver = null, root = null;
        string name = spec;
        if (spec.StartsWith('['))
        {
            int close = spec.IndexOf(']');
            if (close < 0) throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Storage_SpecUnclosed, spec));
            var inside = spec[1..close];
            name = spec[(close + 1)..];
            int at = inside.IndexOf('@');
            if (at >= 0) { driver = inside[..at]; inside = inside[(at + 1)..]; }
            int colon = inside.IndexOf(':');
            if (colon >= 0) inside = inside[..colon]; // mount options: nothing to read with them
            int plus = inside.IndexOf('+');
            root = plus >= 0 ? inside[..plus] : inside;
            if (root.Length == 0) root = null;
        }
        if (name.Length == 0) throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Storage_NoImageNamed, spec));
        var (confDriver, confRoot) = StorageConf(options);
        root ??= confRoot ?? DefaultRoot;
        Folder folder;
        try
        {
            folder = Folder.Open(root); // the root the user (or storage.conf) names: links on the way to it are theirs
        }
        catch (IOException)
        {
            throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Storage_NoStore, root, driver ?? "overlay, vfs"));
        }
        try
        {
            bool Has(string d) => folder.Look(d + "-images", Links.Refused, out int type, out _) == Found.Ok && type == Libc.TypeDirectory;
            var found = driver ?? (confDriver is { } d && Has(d) ? d : new[] { "overlay", "vfs" }.FirstOrDefault(Has));
            if (found is null || !Has(found))
                throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Storage_NoStore, root, driver ?? "overlay, vfs"));
            return Open(new Store(found, folder), name, options);
        }
        catch
        {
            folder.Dispose();
            throw;
        }
    }

    private static ContainersStorageSource Open(Store store, string name, SourceOptions options)
    {
        var location = $"{KindName}:[{store.Driver}@{store.Root}]{name}";
        // the store's own read locks while its records are read: a podman or buildah writing them is waited for
        var wait = StoreLock.Wait(options);
        JsonDocument images, layers;
        using (StoreLock.Shared(store, $"{store.Images}/images.lock", wait))
        using (StoreLock.Shared(store, $"{store.Layers}/layers.lock", wait))
        {
            images = ReadRecord(store, $"{store.Images}/images.json");
            layers = ReadRecord(store, $"{store.Layers}/layers.json");
        }
        using var imagesOwner = images;
        using var layersOwner = layers;
        var image = Find(images.RootElement, name) ?? throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Storage_NoImage, name, store.Root,
            string.Join(", ", (images.RootElement.ValueKind == JsonValueKind.Array ? images.RootElement.EnumerateArray() : default)
                .SelectMany(i => i.Strings("names")).Take(8).DefaultIfEmpty(Strings.Storage_HoldsNone))));
        var id = Store.Id(image.String("id"));
        var names = image.Strings("names");
        string shown = names.FirstOrDefault(n => n == name || n.EndsWith("/" + name, StringComparison.Ordinal) || n.EndsWith("/" + name + ":latest", StringComparison.Ordinal)) ?? names.FirstOrDefault() ?? id[..12];
        var byId = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        if (layers.RootElement.ValueKind == JsonValueKind.Array)
            foreach (var l in layers.RootElement.EnumerateArray())
                if (l.String("id") is { } layerId) byId[layerId] = l;
        var chain = Chain(image.String("layer"), byId, name).Select(l => l.Clone()).ToList();
        var manifestDigest = image.String("digest");
        var candidate = new ImageCandidate
        {
            Name = shown,
            Tags = names,
            ConfigDigest = "sha256:" + id,
            ManifestDigest = manifestDigest,
            Resolve = _ => Resolve(store, id, shown, chain, options, manifestDigest, new TarSplitBlobs(store, wait)),
        };
        return new ContainersStorageSource(store, location, [candidate]);
    }

    private static ResolvedImage Resolve(Store store, string id, string name, IReadOnlyList<JsonElement> chain, SourceOptions options, string? manifestDigest, IBlobReader blobs)
    {
        var configPath = store.BigData(id, "sha256:" + id);
        var bytes = store.Read(configPath, BlobStore.MaxDocumentSize, Strings.Document_ConfigTooLarge, Strings.Image_ConfigMissing);
        if (options.Verify) DigestCheck.Document(bytes, "sha256:" + id, Strings.Image_DigestOfConfig);
        var config = ImageConfigParser.Parse(bytes, "sha256:" + id, Strings.Image_ConfigDocument);
        if (config.DiffIds.Count != chain.Count)
            throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Image_LayerCountMismatch, chain.Count, config.DiffIds.Count));
        var layers = new List<LayerDescriptor>();
        for (int i = 0; i < chain.Count; i++)
        {
            var l = chain[i];
            var layerId = Store.Id(l.String("id"));
            // the rebuilt tar is the layer's uncompressed stream: its digest is the diff digest the store recorded
            layers.Add(new LayerDescriptor(i, new LayerLocator.StoreLayer(layerId), MediaTypes.OciLayerTar, l.String("diff-digest"), l.Long("diff-size"), config.DiffIds[i]));
        }
        return new ResolvedImage(name, config, layers, manifestDigest, blobs);
    }

    /// <summary>The layers from the bottom to <paramref name="top"/>, by their parents (each an id: see <see cref="Store.Id"/>).</summary>
    private static List<JsonElement> Chain(string? top, Dictionary<string, JsonElement> byId, string name)
    {
        var chain = new List<JsonElement>();
        for (var id = top; id is not null;)
        {
            Store.Id(id);
            if (!byId.TryGetValue(id, out var layer)) throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Storage_LayerNotListed, ImageException.ShortDigest(id), name));
            if (layer.Get("flags") is { } flags && flags.Bool("incomplete"))
                throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Storage_LayerIncomplete, ImageException.ShortDigest(id)));
            chain.Add(layer);
            if (chain.Count > 4096) throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Storage_LayerLoop, name));
            id = layer.String("parent");
        }
        chain.Reverse();
        return chain;
    }

    /// <summary>The image <paramref name="name"/> names: a name as stored, the same with <c>:latest</c>, <c>localhost/</c> or <c>docker.io/[library/]</c> before it, or an id (prefix).</summary>
    private static JsonElement? Find(JsonElement images, string name)
    {
        if (images.ValueKind != JsonValueKind.Array) return null;
        var all = images.EnumerateArray().ToList();
        var wanted = new List<string> { name };
        bool tagged = name.Contains('@') || name[(name.LastIndexOf('/') + 1)..].Contains(':');
        if (!tagged) wanted.Add(name + ":latest");
        bool hasDomain = name.IndexOf('/') is var slash and > 0 && (name[..slash].Contains('.') || name[..slash].Contains(':') || name[..slash] == "localhost");
        if (!hasDomain)
            foreach (var w in wanted.ToList())
            {
                wanted.Add("localhost/" + w);
                wanted.Add("docker.io/" + w);
                if (!w.Contains('/')) wanted.Add("docker.io/library/" + w);
            }
        foreach (var w in wanted)
            foreach (var i in all)
                if (i.Strings("names").Contains(w)) return i;
        var hex = name.StartsWith("sha256:", StringComparison.Ordinal) ? name[7..] : name;
        if (HexId().IsMatch(hex))
        {
            var matches = all.Where(i => (i.String("id") ?? "").StartsWith(hex, StringComparison.Ordinal) || i.String("digest") == "sha256:" + hex).ToList();
            if (matches.Count == 1) return matches[0];
        }
        return null;
    }

    [GeneratedRegex("^[0-9a-f]{4,64}$")]
    private static partial Regex HexId();

    /// <summary>One of the store's records (images.json, layers.json), refused past <see cref="Store.MaxRecordSize"/>.</summary>
    private static JsonDocument ReadRecord(Store store, string relative) =>
        Json.Parse(store.Read(relative, Store.MaxRecordSize, Strings.Storage_RecordTooLarge, null), store.Full(relative));

    /// <summary>The driver and root of <c>storage.conf</c> ($CONTAINERS_STORAGE_CONF, else /etc/containers/storage.conf), where set.</summary>
    private static (string? Driver, string? Root) StorageConf(SourceOptions options)
    {
        var path = options.Env("CONTAINERS_STORAGE_CONF") ?? "/etc/containers/storage.conf";
        // read as any settings file is: a named pipe, a device or a huge file there is not read (the defaults hold)
        string text;
        try
        {
            text = System.Text.Encoding.UTF8.GetString(SettingsFile.Read(path));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ImageException)
        {
            return (null, null);
        }
        string? driver = null, root = null;
        bool inStorage = false;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.StartsWith('[')) { inStorage = line == "[storage]"; continue; }
            if (!inStorage) continue;
            var m = TomlString().Match(line);
            if (!m.Success) continue;
            if (m.Groups[1].Value == "driver") driver = m.Groups[2].Value;
            else if (m.Groups[1].Value == "graphroot") root = m.Groups[2].Value;
        }
        return (driver is { Length: > 0 } ? driver : null, root is { Length: > 0 } ? root : null);
    }

    [GeneratedRegex("""^([a-z_]+)\s*=\s*"([^"]*)"\s*(?:#.*)?$""")]
    private static partial Regex TomlString();

    /// <summary>Every layer rebuilt on its own, in any order and at once: the store is a folder.</summary>
    private sealed class TarSplitBlobs(Store store, TimeSpan wait) : IRandomAccessBlobs
    {
        /// <summary>The layer's folder and tar-split are there (opened and let go: nothing is read; the tar is rebuilt, so no size to compare).</summary>
        public bool CheckPresent(LayerDescriptor layer, long storedSize)
        {
            Open(layer).Dispose();
            return true;
        }

        public Stream Open(LayerDescriptor layer)
        {
            // the layers' read lock for as long as the layer is read: podman cannot remove it meanwhile
            var held = StoreLock.Shared(store, $"{store.Layers}/layers.lock", wait);
            Folder? files = null;
            try
            {
                var id = Store.Id(layer.Locator is LayerLocator.StoreLayer stored ? stored.Id : null);
                files = store.OpenFolder(store.Files(id), Strings.Storage_LayerFolderMissing);
                var split = store.Open(store.TarSplit(id), missingIsError: false)
                    ?? throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Storage_TarSplitMissing, store.Full(store.TarSplit(id))));
                return new TarSplitStream(new HandleStream(split.Handle!, split.Size), files) { Lock = held };
            }
            catch (ImageException ex)
            {
                files?.Dispose();
                held?.Dispose();
                throw ex.InLayer(layer.Index, layer.DiffId);
            }
            catch
            {
                files?.Dispose();
                held?.Dispose();
                throw;
            }
        }
    }
}
