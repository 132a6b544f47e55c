using System.Formats.Tar;
using LayerDive.Core.Model;
using LayerDive.Core.Resources;
using LayerDive.Core.Sources.Containerd.Api.Containers;
using LayerDive.Core.Sources.Engines;

namespace LayerDive.Core.Sources.Containerd;

/// <summary>
/// A containerd container (<c>container://ID</c> when neither Docker nor Podman has one of that name; a
/// Kubernetes pod's container in <c>k8s.io</c>): its image's layers, read as <c>containerd://</c> reads
/// them, and on top its read-write layer, the upper directory of its active snapshot (the Snapshots
/// service's mounts), read as a Docker container's is (<see cref="UpperDirLayer"/>). The snapshot's
/// folders are the storage <c>overlay</c> and <c>explain</c> name.
/// </summary>
internal sealed class ContainerdContainerSource : IImageSource
{
    private readonly IImageSource _image;

    private ContainerdContainerSource(IImageSource image, string id, string upper, EngineStorage storage, string note, SourceOptions options)
    {
        _image = image;
        Location = $"{ContainerSource.KindName}://{id}";
        Note = note;
        Storage = storage;
        var candidate = image.Select(options, out _);
        var name = $"{id} ({candidate.Name})";
        Candidates =
        [
            new ImageCandidate
            {
                Name = name, Tags = candidate.Tags, ConfigDigest = candidate.ConfigDigest, Platform = candidate.Platform,
                Resolve = ct =>
                {
                    var r = candidate.Resolve(ct);
                    var history = new HistoryEntry(r.Config.History.Count, null, Text.Fill(Strings.Container_LayerCommand, id), LayerDescriptor.ContainerComment, null, false) { LayerIndex = r.Layers.Count };
                    var config = r.Config with { History = [.. r.Config.History, history] };
                    var layer = new LayerDescriptor(r.Layers.Count, new LayerLocator.ContainerUpper(id), Images.MediaTypes.OciLayerTar, null, null, null) { Origin = LayerOrigin.Container };
                    return new ResolvedImage(name, config, [.. r.Layers, layer], r.ManifestDigest, new Blobs(r.Blobs, upper));
                },
            },
        ];
    }

    public string Kind => ContainerSource.KindName;
    public string Location { get; }
    public string? Note { get; }
    public EngineStorage? Storage { get; }
    public IReadOnlyList<ImageCandidate> Candidates { get; }
    public void Dispose() => _image.Dispose();

    /// <summary>The container <paramref name="id"/> in the namespace asked (else the one other namespace that has it).</summary>
    public static IImageSource Open(string id, SourceOptions options, CancellationToken ct)
    {
        var socket = ContainerdClient.SocketFor(options);
        var ns = ContainerdSource.NamespaceFor(options);
        using var client = ContainerdClient.Connect(socket, ns, ct);
        // the id, else a short id (the start of one): in the namespace asked, else in the one other that has it
        var found = Single(client.FindContainers(ns, id, ct), socket, ns, id);
        string? elsewhere = null;
        if (found is null)
        {
            var holders = new List<(string Namespace, Container Container)>();
            var others = client.ListNamespaces(ct).Where(n => n != ns).ToList();
            foreach (var other in others)
                if (Single(client.FindContainers(other, id, ct), socket, other, id) is { } there) holders.Add((other, there));
            if (holders.Count == 0)
                throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Containerd_NoContainer, socket, id, ns,
                    others.Count == 0 ? Strings.Containerd_NoOtherNamespace : string.Join(", ", others)));
            if (holders.Count > 1)
                throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Containerd_ContainerInSeveral, socket, id, ns, string.Join(", ", holders.Select(h => h.Namespace))));
            (elsewhere, found) = holders[0];
            client.Namespace = elsewhere;
        }
        var container = found;
        // the container's full id from here on (what was asked may be the start of it)
        id = container.Id;
        if (container.Image is not { Length: > 0 } imageName)
            throw new ImageException(FaultKind.Unsupported, Text.Fill(Strings.Containerd_ContainerNoImage, client.Describe, id));
        var mounts = client.Mounts(container.Snapshotter, container.SnapshotKey, ct);
        var options0 = mounts.Count == 1 && mounts[0].Type == "overlay" ? mounts[0].Options : null;
        string? Option(string key) => options0?.FirstOrDefault(o => o.StartsWith(key + "=", StringComparison.Ordinal))?[(key.Length + 1)..];
        var upper = Option("upperdir");
        if (upper is null)
            throw new ImageException(FaultKind.Unsupported, Text.Fill(Strings.Containerd_ContainerNoUpper, client.Describe, id, container.Snapshotter, string.Join(", ", mounts.Select(m => m.Type))));
        if (!Directory.Exists(upper))
            throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Containerd_SnapshotFolderUnreadable, client.Describe, upper));
        // the folders as containerd mounts them: the image's snapshots (lowerdir, top first) and the container's own
        var data = new Dictionary<string, string>(StringComparer.Ordinal) { ["UpperDir"] = upper, ["SnapshotKey"] = container.SnapshotKey };
        if (Option("lowerdir") is { } lower) data["LowerDir"] = lower;
        if (Option("workdir") is { } work) data["WorkDir"] = work;
        var storage = new EngineStorage(container.Snapshotter, data);
        var image = ContainerdSource.Open(imageName, options with { Address = socket, Namespace = client.Namespace, BareName = false }, ct);
        try
        {
            var note = Text.Fill(Strings.Container_ReadFromUpperDir, id, imageName, upper);
            if (elsewhere is not null) note = Text.Fill(Strings.Containerd_FoundInNamespace, ns, elsewhere, socket) + "; " + note;
            return new ContainerdContainerSource(image, id, upper, storage, note, options);
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    /// <summary>The one container found, null for none; several (a short id that starts more than one id) are an error naming them.</summary>
    private static Container? Single(IReadOnlyList<Container> found, string socket, string ns, string name) => found.Count switch
    {
        0 => null,
        1 => found[0],
        _ => throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Containerd_ContainerPrefixAmbiguous, Text.Fill(Strings.Containerd_Where, socket, ns), name,
            string.Join(", ", found.Take(8).Select(c => c.Id)) + (found.Count > 8 ? ", ..." : ""))),
    };

    /// <summary>The image's blobs, then the container's layer, rebuilt from its upper directory in a private temporary file.</summary>
    private sealed class Blobs(IBlobReader image, string upper) : IBlobReader
    {
        public void ReadInOrder(IReadOnlyList<LayerDescriptor> layers, Action<IReadOnlyList<int>, LayerArrival> onLayer, CancellationToken ct)
        {
            var below = layers.Where(l => l.Origin == LayerOrigin.Image).ToList();
            if (below.Count > 0) image.ReadInOrder(below, onLayer, ct);
            foreach (var top in layers.Where(l => l.Origin == LayerOrigin.Container))
            {
                var path = Path.Combine(Path.GetTempPath(), $"layerdive-container-{Environment.ProcessId}-{Guid.NewGuid():N}.tar");
                using var file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
                if (OperatingSystem.IsLinux()) File.Delete(path); // the open handle keeps it: nothing is left behind, even if the process is killed
                using (var tar = new TarWriter(file, TarEntryFormat.Pax, leaveOpen: true))
                    UpperDirLayer.Write(upper, tar, ct);
                file.Position = 0;
                onLayer([top.Index], LayerArrival.Of(file));
            }
        }
    }
}
