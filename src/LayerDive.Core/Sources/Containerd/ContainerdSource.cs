using System.Text.RegularExpressions;
using LayerDive.Core.Model;
using LayerDive.Core.Resources;
using LayerDive.Core.Sources.Containerd.Api.Images;
using LayerDive.Core.Sources.Images;
using LayerDive.Core.Sources.Registry;

namespace LayerDive.Core.Sources.Containerd;

/// <summary>
/// An image in containerd (a Kubernetes node, k3s, nerdctl, Docker's containerd store), read through
/// containerd's gRPC API: the image record from the Images service, then every document and layer blob
/// from the Content service by its digest, as stored (compressed, with the manifest's sizes and media
/// types), so the walk of indexes, platforms and artifacts that reads a registry reads containerd too
/// (<see cref="ImageIndexWalker"/>). A lease held while reading keeps garbage collection off what is read.
/// Names are taken as nerdctl and crictl print them: a full reference, a short name normalised as
/// Docker normalises it, or a prefix of an image's digest; a name missing from the namespace asked is
/// looked for in the others, and read from the one that holds it (a note says which).
/// </summary>
internal sealed partial class ContainerdSource : IImageSource
{
    public const string KindName = "containerd";
    public const string DefaultNamespace = "default";

    private readonly ContainerdClient _client;

    /// <summary>Notes: how the image was found; which layers were read from snapshots (known once resolved).</summary>
    private readonly List<string> _notes;

    /// <summary>Where the image chosen was unpacked (known once resolved), or null.</summary>
    private readonly Func<EngineStorage?> _storage;

    private ContainerdSource(ContainerdClient client, IReadOnlyList<ImageCandidate> candidates, string location, List<string> notes, Func<EngineStorage?> storage) =>
        (_client, Candidates, Location, _notes, _storage) = (client, candidates, location, notes, storage);

    public string Kind => KindName;
    public string Location { get; }
    public string? Note { get { lock (_notes) return _notes.Count == 0 ? null : string.Join("; ", _notes); } }
    public IReadOnlyList<ImageCandidate> Candidates { get; }
    public EngineStorage? Storage => _storage();
    public void Dispose() => _client.Dispose();

    /// <summary>An image's snapshot folders (bottom first) as an engine's inspect gives its overlay folders: <c>LowerDir</c>, top first.</summary>
    private static EngineStorage SnapshotStorage(string snapshotter, IReadOnlyList<string> folders) =>
        new(snapshotter, new Dictionary<string, string>(StringComparer.Ordinal) { ["LowerDir"] = string.Join(':', folders.Reverse()) });

    public static IImageSource Open(string name, SourceOptions options, CancellationToken ct)
    {
        if (name.Length == 0) throw new ImageException(FaultKind.BadArgument, Strings.Containerd_NoName);
        var socket = ContainerdClient.SocketFor(options);
        var ns = NamespaceFor(options);
        ContainerdClient client;
        try
        {
            client = ContainerdClient.Connect(socket, ns, ct);
        }
        catch (ImageException denied) when (denied.Kind == FaultKind.Unauthorized && options.BareName)
        {
            // a bare name goes on to the registry: a socket this user may not open is a containerd that does not have it
            throw new ImageException(FaultKind.Unreachable, denied.Message);
        }
        try
        {
            string? note = null;
            var image = Find(client.ListImages(ns, ct), name, client.Describe, i => ConfigDigests(client, ns, i, ct));
            if (image is null)
            {
                // Kubernetes keeps its images in k8s.io, Docker in moby: the name may be in another namespace
                var holders = new List<(string Namespace, Image Image)>();
                var others = client.ListNamespaces(ct).Where(n => n != ns).Order(StringComparer.Ordinal).ToList();
                foreach (var other in others)
                    if (Find(client.ListImages(other, ct), name, Text.Fill(Strings.Containerd_Where, socket, other), i => ConfigDigests(client, other, i, ct)) is { } there)
                        holders.Add((other, there));
                if (holders.Count == 0)
                    throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Containerd_NoImage, socket, name, ns,
                        others.Count == 0 ? Strings.Containerd_NoOtherNamespace : string.Join(", ", others)));
                if (holders.Count > 1)
                    throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Containerd_InSeveralNamespaces, socket, name, ns, string.Join(", ", holders.Select(h => h.Namespace))));
                (client.Namespace, image) = holders[0];
                note = Text.Fill(Strings.Containerd_FoundInNamespace, ns, client.Namespace, socket);
            }
            else if (options.BareName)
            {
                note = Text.Fill(Strings.Source_ReadFrom, client.Describe);
            }
            var target = image.Target ?? throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Containerd_NoTarget, client.Describe, image.Name));
            var root = DigestCheck.WellFormed(target.Digest);
            client.TakeLease(ct);
            client.Hold(root, ct);
            var store = new ContainerdDescriptors(client, ct);
            var blobs = new ContainerdBlobs(client, options.Counter, ct);
            var notes = new List<string>();
            if (note is not null) notes.Add(note);
            EngineStorage? storage = null;
            var candidates = ImageIndexWalker.FromDescriptor(store, root, target.MediaType, image.Name, blobs, options.Verify)
                .Select(c => c.WithResolve(token =>
                {
                    var resolving = c.Resolve(token);
                    // where it was unpacked: a layer whose blob is gone is read from its snapshot, and overlay
                    // and explain name the snapshots' real folders
                    (SnapshotLayers.Chain? chain, string? why) = (null, null);
                    bool missing = resolving.Layers.Any(l => l.Digest is { } d && !store.Has(d));
                    try
                    {
                        (chain, why) = SnapshotLayers.Locate(client, resolving, c.ConfigDigest, token);
                    }
                    catch (ImageException) when (!missing)
                    {
                        // every blob is there: the folders are only shown, and a snapshotter that cannot give them leaves them unknown
                    }
                    var (resolved, fromSnapshots) = SnapshotLayers.Replace(client, resolving, chain, why, store.Has, token);
                    if (fromSnapshots is not null) lock (notes) notes.Add(fromSnapshots);
                    if (chain is { Folders: { } folders }) storage = SnapshotStorage(chain.Snapshotter, folders);
                    // the config was read; the layers are held before they are read
                    foreach (var l in resolved.Layers)
                        if (l.Digest is { } d) client.Hold(d, token);
                    options.Counter?.Expect(resolved.Layers.Sum(l => l.Size ?? 0));
                    return resolved;
                })).ToList();
            return new ContainerdSource(client, candidates, $"{KindName}://{image.Name}", notes, () => storage);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>The namespace <c>--namespace</c>, else CONTAINERD_NAMESPACE names, else <c>default</c>.</summary>
    internal static string NamespaceFor(SourceOptions options) =>
        options.Namespace is { Length: > 0 } asked ? asked : options.Env("CONTAINERD_NAMESPACE") is { Length: > 0 } fromEnv ? fromEnv : DefaultNamespace;

    private const string ConfigLabel = "containerd.io/gc.ref.content.config";
    private const string ManifestLabel = "containerd.io/gc.ref.content.m.";

    /// <summary>
    /// The config digests of an image record (crictl's IMAGE ID is its config's digest), read from the
    /// labels containerd puts on what it stores: a manifest names its config, an index its manifests (those
    /// present: a node keeps its own platform's), nested indexes followed a few levels down.
    /// </summary>
    private static List<string> ConfigDigests(ContainerdClient client, string ns, Image image, CancellationToken ct)
    {
        var configs = new List<string>();
        void Walk(string digest, int depth)
        {
            if (client.Info(digest, ns, ct)?.Labels is not { } labels) return;
            if (labels.TryGetValue(ConfigLabel, out var config)) configs.Add(config);
            if (depth < 3)
                foreach (var (key, child) in labels)
                    if (key.StartsWith(ManifestLabel, StringComparison.Ordinal)) Walk(child, depth + 1);
        }
        if (image.Target?.Digest is { Length: > 0 } target) Walk(target, 0);
        return configs;
    }

    /// <summary>
    /// The record <paramref name="name"/> names among <paramref name="images"/>: the name as stored; the
    /// name normalised as Docker normalises it (<c>nginx:1.27</c> is <c>docker.io/library/nginx:1.27</c>,
    /// no tag is <c>:latest</c>); the same by digest (<c>@sha256:...</c>); or a prefix of an image's
    /// digest (nerdctl's IMAGE ID), of a name that is a digest (which CRI stores as a record), or of its
    /// config's digest (crictl's IMAGE ID, 13 hex digits; <paramref name="configs"/> reads them, only
    /// for a name that is hex).
    /// </summary>
    /// <exception cref="ImageException">A digest prefix matches different images.</exception>
    internal static Image? Find(IReadOnlyList<Image> images, string name, string where, Func<Image, IReadOnlyList<string>>? configs = null)
    {
        if (images.FirstOrDefault(i => i.Name == name) is { } exact) return exact;
        if (RegistryReference.Parse(name) is { } reference)
        {
            var wanted = new List<string> { reference.ToString() };
            if (reference.Digest is { } digest)
            {
                wanted.Add($"{reference.Host}/{reference.Repository}@{digest}");
                if (images.FirstOrDefault(i => wanted.Contains(i.Name)) is { } pinned) return pinned;
                // a tagged record whose target is the digest asked for
                return images.FirstOrDefault(i => i.Target?.Digest == digest && i.Name.StartsWith($"{reference.Host}/{reference.Repository}:", StringComparison.Ordinal));
            }
            if (images.FirstOrDefault(i => wanted.Contains(i.Name)) is { } normalised) return normalised;
        }
        var hex = name.StartsWith("sha256:", StringComparison.Ordinal) ? name[7..] : name;
        if (!HexPrefix().IsMatch(hex)) return null;
        var prefix = "sha256:" + hex;
        // the configs asked once per target (CRI keeps three records of one image: its name, name@digest, sha256:config)
        var byTarget = new Dictionary<string, bool>(StringComparer.Ordinal);
        bool ConfigMatches(Image i) => configs is not null && i.Target?.Digest is { } t
            && (byTarget.TryGetValue(t, out var m) ? m : byTarget[t] = configs(i).Any(c => c.StartsWith(prefix, StringComparison.Ordinal)));
        var matches = images.Where(i => (i.Target?.Digest ?? "").StartsWith(prefix, StringComparison.Ordinal)
            || i.Name.StartsWith(prefix, StringComparison.Ordinal) || ConfigMatches(i)).ToList();
        var targets = matches.Select(i => i.Target?.Digest).Distinct().ToList();
        if (targets.Count > 1)
            throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Containerd_PrefixAmbiguous, where, name, string.Join(", ", matches.Select(i => i.Name).Take(8))));
        // of the names one image has, a reference before a bare digest
        return matches.OrderBy(i => i.Name.StartsWith("sha256:", StringComparison.Ordinal)).ThenBy(i => i.Name, StringComparer.Ordinal).FirstOrDefault();
    }

    [GeneratedRegex("^[0-9a-f]{4,64}$")]
    private static partial Regex HexPrefix();

    /// <summary>The content store by digest: whether it holds a document (a node keeps only its own platform's), and the document whole.</summary>
    private sealed class ContainerdDescriptors(ContainerdClient client, CancellationToken ct) : IDescriptorStore
    {
        private readonly Dictionary<string, long?> _sizes = new(StringComparer.Ordinal);

        private long? Size(string digest)
        {
            if (!_sizes.TryGetValue(digest, out var size)) _sizes[digest] = size = client.Size(digest, ct);
            return size;
        }

        public bool Has(string digest) => Size(digest) is not null;

        public byte[] ReadDocument(string digest, DocumentKind kind)
        {
            var size = Size(digest) ?? throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Containerd_BlobMissing, client.Describe, ImageException.ShortDigest(digest)));
            client.Hold(digest, ct);
            return ContentStream.ReadAll(client, digest, size, kind == DocumentKind.Manifest ? BlobStore.MaxManifestDocumentSize : BlobStore.MaxDocumentSize, ct);
        }

        public LayerLocator Locate(string digest) => new LayerLocator.Blob(digest);
    }

    /// <summary>Layer blobs: any of them, several at once, each its own stream of calls on the one channel.</summary>
    private sealed class ContainerdBlobs(ContainerdClient client, ReadCounter? counter, CancellationToken ct) : IRandomAccessBlobs
    {
        public Stream Open(LayerDescriptor layer)
        {
            if (layer.Locator is LayerLocator.Snapshot snapshot)
            {
                var files = SnapshotLayers.Open(layer, snapshot.Folder, client, ct);
                return counter is null ? files : counter.Counting(files);
            }
            var digest = layer.Digest ?? throw new ImageException(FaultKind.Damaged, Strings.Registry_LayerNoDigest, layer.Index);
            // the manifest's size is what is read; where it gives none, the store's
            var size = layer.Size ?? client.Size(digest, ct)
                ?? throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Containerd_BlobMissing, client.Describe, ImageException.ShortDigest(digest)), layer.Index, digest);
            Stream blob = new LayerContent(new ContentStream(client, digest, size, ct), client, digest, layer.Index);
            return counter is null ? blob : counter.Counting(blob);
        }
    }

    /// <summary>A layer's stream whose faults name the layer, and a blob the store lacks as such.</summary>
    private sealed class LayerContent(ContentStream inner, ContainerdClient client, string digest, int index) : Layers.ReadOnlyForwardStream
    {
        public override int Read(Span<byte> buffer)
        {
            try
            {
                return inner.Read(buffer);
            }
            catch (ImageException ex) when (ex.Kind == FaultKind.NotFound)
            {
                throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Containerd_BlobMissing, client.Describe, ImageException.ShortDigest(digest)), index, digest);
            }
            catch (ImageException ex)
            {
                throw ex.InLayer(index, digest);
            }
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
