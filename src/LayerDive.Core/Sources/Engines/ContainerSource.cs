using System.Formats.Tar;
using System.Text.Json;
using LayerDive.Core.Model;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Sources.Engines;

/// <summary>
/// A container (<c>container://NAME</c>): its image's layers, read as <c>docker://</c> reads them, and on
/// top its own read-write layer, which holds what the container changed and dies with it. That layer
/// is read from the engine's upper directory (<c>GraphDriver.Data.UpperDir</c>) where it can be read:
/// there a deletion is a 0/0 character device and an opaque directory carries the
/// <c>trusted.overlay.opaque</c> (or <c>user.overlay.opaque</c>) xattr, and both become the whiteout and
/// the opaque marker a layer tar would hold. Elsewhere (the vfs driver, an upper directory this user
/// cannot read) it is rebuilt through the API: <c>/containers/{id}/changes</c>, and
/// <c>/containers/{id}/archive</c> for each added or changed path.
/// </summary>
internal sealed class ContainerSource : IImageSource
{
    public const string KindName = "container";

    private readonly IImageSource _image;
    private readonly EngineClient _client;
    private readonly string _id;
    private readonly string? _upper;

    private ContainerSource(EngineClient client, JsonElement inspect, IImageSource image, string name)
    {
        (_client, _image) = (client, image);
        _id = inspect.String("Id") ?? name;
        var graph = inspect.Get("GraphDriver");
        Driver = graph?.String("Name") ?? "?";
        GraphData = graph?.Get("Data") is { ValueKind: JsonValueKind.Object } data ? Map(data) : [];
        _upper = GraphData.TryGetValue("UpperDir", out var upper) && Directory.Exists(upper) && Readable(upper) ? upper : null;
        var containerName = (inspect.String("Name") ?? name).TrimStart('/');
        var imageName = inspect.Get("Config")?.String("Image") ?? image.Candidates[0].Name;
        Location = $"{KindName}://{containerName}";
        Note = _upper is not null
            ? Text.Fill(Strings.Container_ReadFromUpperDir, containerName, imageName, _upper)
            : Text.Fill(Strings.Container_RebuiltThroughApi, containerName, imageName, Driver);
        var created = inspect.Time("Created");
        var candidate = image.Candidates[0];
        Candidates =
        [
            new ImageCandidate
            {
                Name = $"{containerName} ({imageName})", Tags = candidate.Tags, ConfigDigest = candidate.ConfigDigest, Platform = candidate.Platform,
                Resolve = ct =>
                {
                    var r = candidate.Resolve(ct);
                    var history = new HistoryEntry(r.Config.History.Count, created, Text.Fill(Strings.Container_LayerCommand, containerName), LayerDescriptor.ContainerComment, null, false) { LayerIndex = r.Layers.Count };
                    var config = r.Config with { History = [.. r.Config.History, history] };
                    var layer = new LayerDescriptor(r.Layers.Count, new LayerLocator.ContainerUpper(_id), Images.MediaTypes.OciLayerTar, null, null, null) { Origin = LayerOrigin.Container };
                    return new ResolvedImage($"{containerName} ({imageName})", config, [.. r.Layers, layer], r.ManifestDigest, new ContainerBlobs(r.Blobs, this));
                },
            },
        ];
    }

    private static Dictionary<string, string> Map(JsonElement data)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in data.EnumerateObject())
            if (p.Value.ValueKind == JsonValueKind.String) d[p.Name] = p.Value.GetString()!;
        return d;
    }

    private static bool Readable(string dir)
    {
        try
        {
            using var e = Directory.EnumerateFileSystemEntries(dir).GetEnumerator();
            e.MoveNext();
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    public string Kind => KindName;
    public string Location { get; }
    public string? Note { get; }
    public IReadOnlyList<ImageCandidate> Candidates { get; }

    /// <summary>The engine's storage driver (overlay2, vfs, ...).</summary>
    public string Driver { get; }

    public EngineStorage? Storage => new(Driver, GraphData);

    /// <summary>The driver's data: LowerDir, UpperDir, WorkDir, MergedDir for overlay2.</summary>
    public Dictionary<string, string> GraphData { get; }

    /// <summary>Opens the container <paramref name="name"/> in the Docker Engine, else in Podman.</summary>
    public static IImageSource Open(string name, SourceOptions options, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new ImageException(FaultKind.BadArgument, Strings.Container_NoName);
        var misses = new List<string>();
        foreach (var (engine, hosts) in new[] { (Engine.Docker, (IReadOnlyList<EngineHost>)[EngineHosts.Docker(options)]), (Engine.Podman, EngineHosts.Podman(options)) })
            foreach (var host in hosts)
            {
                ct.ThrowIfCancellationRequested();
                EngineClient client;
                try
                {
                    client = EngineClient.Connect(host);
                }
                catch (ImageException miss) when (miss.Kind is FaultKind.NotFound or FaultKind.Unreachable)
                {
                    misses.Add(miss.Message);
                    continue;
                }
                try
                {
                    using var inspect = client.GetJson($"containers/{Uri.EscapeDataString(name)}/json");
                    if (inspect is null)
                    {
                        misses.Add(Text.Fill(Strings.Engine_NoContainer, client.Host.EngineName, host.Address, name));
                        client.Dispose();
                        continue;
                    }
                    var imageId = inspect.RootElement.String("Image") ?? throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Engine_NoContainer, client.Host.EngineName, host.Address, name));
                    var image = EngineSource.Open(engine, imageId, options with { BareName = false }, ct);
                    return new ContainerSource(client, inspect.RootElement.Clone(), image, name);
                }
                catch
                {
                    client.Dispose();
                    throw;
                }
            }
        // neither engine has it: a containerd container (a Kubernetes node's, nerdctl's)
        try
        {
            return Containerd.ContainerdContainerSource.Open(name, options, ct);
        }
        catch (ImageException miss) when (miss.Kind is FaultKind.NotFound or FaultKind.Unreachable)
        {
            misses.Add(miss.Message);
        }
        throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Container_NotFound, name, string.Join("; ", misses)));
    }

    public void Dispose()
    {
        _image.Dispose();
        _client.Dispose();
    }

    /// <summary>The container's layer as a tar, in a private temporary file deleted when closed.</summary>
    private Stream ContainerLayer(CancellationToken ct)
    {
        var path = Path.Combine(Path.GetTempPath(), $"layerdive-container-{Environment.ProcessId}-{Guid.NewGuid():N}.tar");
        var file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
        try
        {
            if (OperatingSystem.IsLinux()) File.Delete(path); // the open handle keeps it: nothing is left behind, even if the process is killed
            using (var tar = new TarWriter(file, TarEntryFormat.Pax, leaveOpen: true))
            {
                if (_upper is not null) UpperDirLayer.Write(_upper, tar, ct);
                else ApiLayer(tar, ct);
            }
            file.Position = 0;
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The layer rebuilt from the API: each changed path (<c>/changes</c>: 0 changed, 1 added, 2 deleted);
    /// an added or changed path as <c>/archive</c> gives it (its own entry, not what is under it, which has
    /// changes of its own), a deleted one as a whiteout.
    /// </summary>
    private void ApiLayer(TarWriter tar, CancellationToken ct)
    {
        using var changes = _client.GetJson($"containers/{_id}/changes", ct)
            ?? throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Engine_NoContainer, _client.Host.EngineName, _client.Host.Address, _id));
        var list = changes.RootElement.ValueKind == JsonValueKind.Array ? changes.RootElement.EnumerateArray()
            .Select(c => (Path: (c.String("Path") ?? "").Trim('/'), Kind: c.Long("Kind") ?? 0)).Where(c => c.Path.Length > 0).OrderBy(c => c.Path, StringComparer.Ordinal).ToList() : [];
        foreach (var (path, kind) in list)
        {
            ct.ThrowIfCancellationRequested();
            if (kind == 2)
            {
                var marker = Layers.OverlayMarkers.WhiteoutFor(path);
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, marker));
                continue;
            }
            using var response = _client.GetStream($"containers/{_id}/archive?path={Uri.EscapeDataString("/" + path)}", ct);
            if (response is null) continue; // gone since the list was made
            using var stream = _client.Body(response);
            using var reader = new TarReader(stream);
            if (reader.GetNextEntry(copyData: false) is not { } first) continue;
            var type = first.EntryType == TarEntryType.V7RegularFile ? TarEntryType.RegularFile : first.EntryType;
            var copy = new PaxTarEntry(type, type == TarEntryType.Directory ? path + "/" : path)
            {
                Mode = first.Mode, Uid = first.Uid, Gid = first.Gid, ModificationTime = first.ModificationTime,
            };
            if (first.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile) copy.DataStream = first.DataStream;
            if (first.EntryType is TarEntryType.SymbolicLink or TarEntryType.HardLink) copy.LinkName = first.LinkName;
            if (first is PosixTarEntry { EntryType: TarEntryType.CharacterDevice or TarEntryType.BlockDevice } device) { copy.DeviceMajor = device.DeviceMajor; copy.DeviceMinor = device.DeviceMinor; }
            tar.WriteEntry(copy);
        }
    }

    /// <summary>The image's blobs (one pass over its export), then the container's layer.</summary>
    private sealed class ContainerBlobs(IBlobReader image, ContainerSource source) : IBlobReader
    {
        public void ReadInOrder(IReadOnlyList<LayerDescriptor> layers, Action<IReadOnlyList<int>, LayerArrival> onLayer, CancellationToken ct)
        {
            var below = layers.Where(l => l.Origin == LayerOrigin.Image).ToList();
            if (below.Count > 0) image.ReadInOrder(below, onLayer, ct);
            foreach (var top in layers.Where(l => l.Origin == LayerOrigin.Container))
            {
                using var layer = source.ContainerLayer(ct);
                onLayer([top.Index], LayerArrival.Of(layer));
            }
        }
    }
}
