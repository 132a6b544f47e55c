using System.Text.Json;
using LayerDive.Core.Model;
using LayerDive.Core.Resources;
using LayerDive.Core.Sources.Images;
using LayerDive.Core.Sources.OnePass;

namespace LayerDive.Core.Sources.Engines;

/// <summary>
/// An image in the Docker Engine or Podman, read through the Engine API: the image's inspect says what
/// it is (its diff ids in order, its config digest), then its export (<c>GET /images/{name}/get</c>)
/// is read once as it streams. The legacy export names layers by v1 ids and has its manifest.json at
/// the end, so each <c>layer.tar</c> is placed by its diff id as its hash completes.
/// </summary>
internal sealed class EngineSource : IImageSource
{
    public const string Docker = "docker";
    public const string Podman = "podman";

    private readonly EngineClient _client;
    private readonly string _name;
    private readonly SourceOptions _options;
    private OnePassArchive? _export;
    private OnePassBlobs? _blobs;

    private EngineSource(EngineClient client, string name, JsonElement inspect, SourceOptions options)
    {
        (_client, _name, _options) = (client, name, options);
        Kind = client.Host.Engine == Engine.Docker ? Docker : Podman;
        Location = $"{Kind}://{name}";
        Note = options.BareName ? Text.Fill(Strings.Source_ReadFrom, client.Host) : null;
        var id = inspect.String("Id") ?? throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Engine_InspectHasNoId, client.Host.EngineName, name));
        var tags = inspect.Strings("RepoTags");
        var diffIds = inspect.Get("RootFS")?.Strings("Layers") ?? [];
        bool byId = id.StartsWith(name.StartsWith("sha256:", StringComparison.Ordinal) ? name : "sha256:" + name, StringComparison.Ordinal);
        string shown = byId ? (tags.Count > 0 ? tags[0] : ImageException.ShortDigest(id)) : name;
        if (inspect.Long("Size") is long size) options.Counter?.Expect(size); // the layers' sizes: the export is a little larger
        if (inspect.Get("GraphDriver") is { ValueKind: JsonValueKind.Object } graph && graph.String("Name") is { } driver)
            Storage = new EngineStorage(driver, graph.StringMap("Data"));
        var platform = inspect.String("Os") is { } os && inspect.String("Architecture") is { } arch ? new PlatformInfo(os, arch, inspect.String("Variant")) : null;
        Candidates =
        [
            new ImageCandidate
            {
                Name = shown, Tags = tags.Count > 0 ? tags : [shown], ConfigDigest = id, Platform = platform,
                Resolve = ct => Resolve(shown, id, diffIds, ct),
            },
        ];
    }

    public string Kind { get; }
    public string Location { get; }
    public string? Note { get; }
    public EngineStorage? Storage { get; }
    public IReadOnlyList<ImageCandidate> Candidates { get; }

    /// <summary>Opens <paramref name="name"/> in one engine; an engine that is not there or lacks it is an <see cref="ImageException"/> of kind <see cref="FaultKind.NotFound"/> or <see cref="FaultKind.Unreachable"/>.</summary>
    public static IImageSource Open(Engine engine, string name, SourceOptions options, CancellationToken ct)
    {
        if (!SourceCatalog.LooksLikeImageName(name))
            throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Engine_NotAnImageName, name));
        var hosts = engine == Engine.Docker ? [EngineHosts.Docker(options)] : EngineHosts.Podman(options);
        ImageException? first = null;
        foreach (var host in hosts)
        {
            ct.ThrowIfCancellationRequested();
            if (host.SocketPath is { } socket && !File.Exists(socket) && engine == Engine.Podman && hosts.Count > 1 && host != hosts[^1])
                continue; // Podman's user socket absent: the system one is next
            EngineClient client;
            try
            {
                client = EngineClient.Connect(host);
            }
            catch (ImageException miss) when (miss.Kind is FaultKind.NotFound or FaultKind.Unreachable)
            {
                first ??= miss;
                continue;
            }
            try
            {
                using var inspect = client.GetJson($"images/{name}/json")
                    ?? throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Engine_NoImage, client.Host.EngineName, host.Address, name));
                return new EngineSource(client, name, inspect.RootElement.Clone(), options);
            }
            catch
            {
                client.Dispose();
                throw;
            }
        }
        if (engine == Engine.Podman && options.Env("CONTAINER_HOST") is not { Length: > 0 } && PodmanCommand.Available(options))
            return PodmanCommand.Open(name, options, first?.Message, ct);
        throw first ?? new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Engine_NoAddress, engine));
    }

    /// <summary>Starts the export and reads it until the image's config has come; layers met before it are held.</summary>
    private ResolvedImage Resolve(string shown, string id, IReadOnlyList<string> diffIds, CancellationToken ct)
    {
        _export ??= Export();
        _export.DiffIds = diffIds; // a cut export then names the layer it broke off in
        _blobs ??= new OnePassBlobs(_export, again: Export);
        var hex = id[(id.IndexOf(':') + 1)..];
        var export = _export;
        return export.ReadUntil(() =>
        {
            // the legacy export names the config <hex>.json; Docker 25's OCI layout, blobs/sha256/<hex>
            // (until both have passed, not finding it only means it has not come yet)
            var path = export.Has($"{hex}.json") ? $"{hex}.json" : export.Has($"blobs/sha256/{hex}") ? $"blobs/sha256/{hex}"
                : throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Engine_ExportLacksConfig, _client.Host.EngineName, _name, ImageException.ShortDigest(id)));
            var bytes = export.Store.ReadDocument(path);
            var config = ImageConfigParser.Parse(bytes, _options.Verify ? null : id, Strings.Image_ConfigDocument);
            if (_options.Verify && !string.Equals(config.Digest, id, StringComparison.OrdinalIgnoreCase))
                throw new ImageException(FaultKind.DigestMismatch, Text.Fill(Strings.Engine_ConfigDigestMismatch, id, config.Digest));
            if (diffIds.Count > 0 && !config.DiffIds.SequenceEqual(diffIds))
                throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Engine_ExportLayersDiffer, config.DiffIds.Count, diffIds.Count));
            // the export's members are placed by the diff ids their hashes give
            var layers = config.DiffIds.Select((d, i) => new LayerDescriptor(i, new LayerLocator.ByDiffId(d), null, null, null, d)).ToList();
            return new ResolvedImage(shown, config, layers, null, _blobs);
        }, ct);
    }

    private OnePassArchive Export()
    {
        var response = _client.GetStream($"images/{_name}/get")
            ?? throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Engine_ImageGone, _client.Host.EngineName, _name));
        try
        {
            // the response is read ahead on a thread of its own: its framing and socket reads cost about as
            // much CPU as decoding and hashing the layers, and the two then overlap
            var stream = _client.Body(response);
            if (_options.Counter is { } counter) stream = counter.Counting(stream);
            stream = new Layers.ReadAheadStream(stream);
            return new OnePassArchive(stream, response, Text.Fill(Strings.Engine_ExportOf, _client.Host.EngineName, _name), _options.FileSha256);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        _export?.Dispose();
        _client.Dispose();
    }
}
