using System.Net.Sockets;
using Grpc.Core;
using Grpc.Net.Client;
using LayerDive.Core.Resources;
using LayerDive.Core.Sources.Containerd.Api.Containers;
using LayerDive.Core.Sources.Containerd.Api.Content;
using LayerDive.Core.Sources.Containerd.Api.Images;
using LayerDive.Core.Sources.Containerd.Api.Leases;
using LayerDive.Core.Sources.Containerd.Api.Namespaces;
using LayerDive.Core.Sources.Containerd.Api.Snapshots;
using ImagesService = LayerDive.Core.Sources.Containerd.Api.Images.Images;

namespace LayerDive.Core.Sources.Containerd;

/// <summary>
/// containerd's gRPC API on its Unix socket (HTTP/2 without TLS, as ctr and nerdctl speak it): the
/// namespace of every call in the <c>containerd-namespace</c> header, the lease in <c>containerd-lease</c>.
/// Every call has a deadline; every failure is an <see cref="ImageException"/> naming the socket and the
/// namespace, never an <see cref="RpcException"/>.
/// </summary>
internal sealed class ContainerdClient : IDisposable
{
    /// <summary>containerd's own socket, then k3s's (whose containerd is the node's).</summary>
    public static readonly string[] DefaultSockets = ["/run/containerd/containerd.sock", "/run/k3s/containerd/containerd.sock"];

    /// <summary>How long one call (a listing, a window of a blob) may take: a local daemon answers in milliseconds.</summary>
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(60);

    /// <summary>The largest message taken: containerd sends a blob in 1 MiB messages, and a namespace's image list of thousands of images is a few MiB.</summary>
    private const int MaxMessageSize = 64 << 20;

    private readonly GrpcChannel _channel;
    private readonly ImagesService.ImagesClient _images;
    private readonly Content.ContentClient _content;
    private readonly CallInvoker _invoker;
    private readonly Leases.LeasesClient _leases;
    private readonly Namespaces.NamespacesClient _namespaces;
    private readonly Snapshots.SnapshotsClient _snapshots;
    private readonly Containers.ContainersClient _containers;
    private string? _lease;

    private ContainerdClient(string socket, string ns)
    {
        Socket = socket;
        Namespace = ns;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = UnixSockets.Connect(socket),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            // a blob streams in 1 MiB messages: a stream window of 64 KiB (the default start) would stop the
            // sender at every message until the window grows; two messages keep it sending, and what waits
            // unread stays small (8 MiB held more, 73 -> 84 MiB peak on the 1 GB image, for no speed)
            InitialHttp2StreamWindowSize = 2 << 20,
        };
        _channel = GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = MaxMessageSize,
        });
        _images = new ImagesService.ImagesClient(_channel);
        _content = new Content.ContentClient(_channel);
        _invoker = _channel.CreateCallInvoker();
        _leases = new Leases.LeasesClient(_channel);
        _namespaces = new Namespaces.NamespacesClient(_channel);
        _snapshots = new Snapshots.SnapshotsClient(_channel);
        _containers = new Containers.ContainersClient(_channel);
    }

    /// <summary>The socket's path.</summary>
    public string Socket { get; }

    /// <summary>The namespace the calls are made in (changed once when the image is found in another).</summary>
    public string Namespace { get; set; }

    /// <summary>How messages name where the calls went: the socket and the namespace.</summary>
    public string Describe => Text.Fill(Strings.Containerd_Where, Socket, Namespace);

    /// <summary>The socket <c>--address</c>, then CONTAINERD_ADDRESS names, else the first default that exists.</summary>
    /// <exception cref="ImageException">None is named and none of the defaults exists: containerd is not running here.</exception>
    public static string SocketFor(SourceOptions options)
    {
        var named = options.Address ?? options.Env("CONTAINERD_ADDRESS");
        if (named is { Length: > 0 })
            return named.StartsWith("unix://", StringComparison.Ordinal) ? named["unix://".Length..] : named;
        return DefaultSockets.FirstOrDefault(File.Exists)
            ?? throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Containerd_NoSocket, string.Join(", ", DefaultSockets)));
    }

    /// <summary>
    /// Connects to the socket once on its own, so that a missing socket, a refusal and a denied permission
    /// are told apart (gRPC reports them all as "unavailable"); then opens the channel.
    /// </summary>
    public static ContainerdClient Connect(string socket, string ns, CancellationToken ct)
    {
        if (!File.Exists(socket))
            throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Containerd_NoSocket, socket));
        using (var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(10));
            try
            {
                s.ConnectAsync(new UnixDomainSocketEndPoint(socket), timeout.Token).AsTask().GetAwaiter().GetResult();
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AccessDenied)
            {
                throw new ImageException(FaultKind.Unauthorized, Text.Fill(Strings.Containerd_Denied, socket));
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable)
            {
                throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Containerd_Refused, socket));
            }
            catch (SocketException ex)
            {
                throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Containerd_CannotConnect, socket, ex.Message));
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Containerd_CannotConnect, socket, Text.Fill(Strings.Registry_NoAnswer, 10)));
            }
        }
        return new ContainerdClient(socket, ns);
    }

    /// <summary>The image records of a namespace.</summary>
    public IReadOnlyList<Image> ListImages(string ns, CancellationToken ct) =>
        Call("Images.List", ns, ct, o => _images.List(new ListImagesRequest(), o)).Images;

    /// <summary>Every namespace's name.</summary>
    public IReadOnlyList<string> ListNamespaces(CancellationToken ct) =>
        Call("Namespaces.List", Namespace, ct, o => _namespaces.List(new ListNamespacesRequest(), o)).Namespaces.Select(n => n.Name).ToList();

    /// <summary>A blob's size, or null when the content store does not hold it.</summary>
    public long? Size(string digest, CancellationToken ct) => Info(digest, ct)?.Size;

    /// <summary>A blob's record (its size, its labels), or null when the content store does not hold it.</summary>
    public Api.Content.Info? Info(string digest, CancellationToken ct) => Info(digest, Namespace, ct);

    /// <summary>A blob's record in <paramref name="ns"/>, or null when the namespace's content store does not hold it.</summary>
    public Api.Content.Info? Info(string digest, string ns, CancellationToken ct)
    {
        try
        {
            return Call("Content.Info", ns, ct, o => _content.Info(new InfoRequest { Digest = digest }, o)).Info;
        }
        catch (ImageException ex) when (ex.Kind == FaultKind.NotFound)
        {
            return null;
        }
    }

    /// <summary>The container <paramref name="id"/> of <paramref name="ns"/>, or null when the namespace has none of that id.</summary>
    public Container? GetContainer(string ns, string id, CancellationToken ct)
    {
        try
        {
            return Call("Containers.Get", ns, ct, o => _containers.Get(new GetContainerRequest { Id = id }, o)).Container;
        }
        catch (ImageException ex) when (ex.Kind == FaultKind.NotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// The containers <paramref name="name"/> names in <paramref name="ns"/>: the one of that id, else
    /// those whose id starts with it (a short id, as crictl and nerdctl print them).
    /// </summary>
    public IReadOnlyList<Container> FindContainers(string ns, string name, CancellationToken ct)
    {
        if (GetContainer(ns, name, ct) is { } exact) return [exact];
        return Call("Containers.List", ns, ct, o => _containers.List(new ListContainersRequest(), o)).Containers
            .Where(c => c.Id.StartsWith(name, StringComparison.Ordinal)).OrderBy(c => c.Id, StringComparer.Ordinal).ToList();
    }

    /// <summary>The mounts of an active snapshot (a container's): its upper directory and its lower ones.</summary>
    public IReadOnlyList<Api.Mount> Mounts(string snapshotter, string key, CancellationToken ct) =>
        Call("Snapshots.Mounts", Namespace, ct, o => _snapshots.Mounts(new MountsRequest { Snapshotter = snapshotter, Key = key }, o)).Mounts.ToList();

    /// <summary>
    /// The mounts of a read-only view on the committed snapshot <paramref name="parent"/> (an image's
    /// chain id), made under the lease and removed at once: only the folders they name are wanted.
    /// </summary>
    public IReadOnlyList<Api.Mount> ViewMounts(string snapshotter, string parent, CancellationToken ct)
    {
        var key = "layerdive-view-" + Guid.NewGuid().ToString("N")[..16];
        var mounts = Call("Snapshots.View", Namespace, ct, o => _snapshots.View(new ViewSnapshotRequest { Snapshotter = snapshotter, Key = key, Parent = parent }, o)).Mounts.ToList();
        try
        {
            Call("Snapshots.Remove", Namespace, ct, o => _snapshots.Remove(new RemoveSnapshotRequest { Snapshotter = snapshotter, Key = key }, o));
        }
        catch (ImageException)
        {
            // the view is the lease's: it goes with the lease
        }
        return mounts;
    }

    /// <summary>
    /// A lease for what is read, which garbage collection keeps while it lasts; it expires by itself
    /// (<c>containerd.io/gc.expire</c>) should this process end before it deletes it.
    /// </summary>
    public void TakeLease(CancellationToken ct)
    {
        var id = "layerdive-" + Guid.NewGuid().ToString("N")[..16];
        var request = new CreateRequest { Id = id };
        request.Labels["containerd.io/gc.expire"] = DateTime.UtcNow.AddHours(1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        Call("Leases.Create", Namespace, ct, o => _leases.Create(request, o));
        _lease = id;
    }

    /// <summary>Puts a blob (or, with its type <c>snapshots/SNAPSHOTTER</c>, a snapshot) in the lease: from now on garbage collection keeps it.</summary>
    public void Hold(string id, CancellationToken ct, string type = "content")
    {
        if (_lease is not { } lease) return;
        Call("Leases.AddResource", Namespace, ct, o => _leases.AddResource(new AddResourceRequest { Id = lease, Resource = new Resource { Id = id, Type = type } }, o));
    }

    /// <summary>How long one window of a blob may take as a whole, the reader's own time included (each wait for a message is bounded by <see cref="CallTimeout"/>).</summary>
    public static readonly TimeSpan WindowTimeout = TimeSpan.FromMinutes(10);

    /// <summary>
    /// A streamed read of up to <paramref name="size"/> bytes of a blob from <paramref name="offset"/>:
    /// its messages taken one at a time as the reader wants them, so no more than one is held.
    /// </summary>
    public ReadCall OpenRead(string digest, long offset, long size, CancellationToken ct) => new(this, digest, offset, size, ct);

    /// <summary>One Content.Read call: each wait for a message bounded by <see cref="CallTimeout"/>, the whole by <see cref="WindowTimeout"/>.</summary>
    public sealed class ReadCall : IDisposable
    {
        private readonly ContainerdClient _client;
        private readonly string _ns;
        private readonly CancellationToken _ct;
        private readonly AsyncServerStreamingCall<ContentChunk> _call;
        private readonly CancellationTokenSource _wait;

        internal ReadCall(ContainerdClient client, string digest, long offset, long size, CancellationToken ct)
        {
            (_client, _ns, _ct) = (client, client.Namespace, ct);
            _wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
            // its messages parsed into pooled arrays (ContentChunk), not the generated parser's array per message
            _call = client._invoker.AsyncServerStreamingCall(ContentChunk.ReadMethod, null,
                new CallOptions(client.Headers(_ns), DateTime.UtcNow + WindowTimeout, _wait.Token),
                new ReadContentRequest { Digest = digest, Offset = offset, Size = size });
        }

        /// <summary>The next message (its offset as sent, its bytes: the caller releases it), or null at the end of the call.</summary>
        public ContentChunk? Next()
        {
            _wait.CancelAfter(CallTimeout);
            try
            {
                if (!_call.ResponseStream.MoveNext(CancellationToken.None).GetAwaiter().GetResult()) return null;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && !_ct.IsCancellationRequested)
            {
                throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Containerd_NoAnswer, Text.Fill(Strings.Containerd_Where, _client.Socket, _ns), "Content.Read", (int)CallTimeout.TotalSeconds));
            }
            catch (RpcException ex)
            {
                throw _client.Fault(ex, "Content.Read", _ns, _ct);
            }
            finally
            {
                _wait.CancelAfter(Timeout.InfiniteTimeSpan);
            }
            return _call.ResponseStream.Current;
        }

        public void Dispose()
        {
            _call.Dispose();
            _wait.Dispose();
        }
    }

    /// <summary>One call in <paramref name="ns"/> with its deadline; its failures said as the user's errors.</summary>
    private T Call<T>(string method, string ns, CancellationToken ct, Func<CallOptions, T> call)
    {
        try
        {
            return call(new CallOptions(Headers(ns), DateTime.UtcNow + CallTimeout, ct));
        }
        catch (RpcException ex)
        {
            throw Fault(ex, method, ns, ct);
        }
    }

    /// <summary>The namespace of a call, and the lease once one is held.</summary>
    private Metadata Headers(string ns)
    {
        var headers = new Metadata { { "containerd-namespace", ns } };
        if (_lease is { } lease) headers.Add("containerd-lease", lease);
        return headers;
    }

    /// <summary>A failed call said as the user's error (a cancellation the caller asked for stays one).</summary>
    private Exception Fault(RpcException ex, string method, string ns, CancellationToken ct)
    {
        if (ex.StatusCode == StatusCode.Cancelled && ct.IsCancellationRequested) return new OperationCanceledException(ct);
        {
            var where = Text.Fill(Strings.Containerd_Where, Socket, ns);
            return ex.StatusCode switch
            {
                StatusCode.DeadlineExceeded => new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Containerd_NoAnswer, where, method, (int)CallTimeout.TotalSeconds)),
                StatusCode.NotFound => new ImageException(FaultKind.NotFound, Text.Fill(Strings.Containerd_ApiError, where, method, ex.StatusCode, OneLine(ex.Status.Detail))),
                StatusCode.PermissionDenied or StatusCode.Unauthenticated => new ImageException(FaultKind.Unauthorized, Text.Fill(Strings.Containerd_ApiError, where, method, ex.StatusCode, OneLine(ex.Status.Detail))),
                _ => new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Containerd_ApiError, where, method, ex.StatusCode, OneLine(ex.Status.Detail))),
            };
        }
    }

    /// <summary>A daemon's detail, on one line and of a sane length.</summary>
    private static string OneLine(string? text)
    {
        var line = (text ?? "").ReplaceLineEndings(" ").Trim();
        return line.Length > 300 ? line[..300] + "..." : line;
    }

    public void Dispose()
    {
        if (_lease is { } id)
        {
            _lease = null;
            try
            {
                // what was held is free again; a failure leaves the lease to expire by itself
                Call("Leases.Delete", Namespace, CancellationToken.None, o => _leases.Delete(new DeleteRequest { Id = id }, o.WithDeadline(DateTime.UtcNow.AddSeconds(10))));
            }
            catch (ImageException)
            {
            }
        }
        _channel.Dispose();
    }
}
