namespace LayerDive.Core.Sources;

/// <summary>How to find the image in what the user named.</summary>
public sealed record SourceOptions
{
    /// <summary>The kind of source (<see cref="SourceCatalog"/>: docker-archive, oci, docker, podman, ...); null = from the name and the content.</summary>
    public string? Kind { get; init; }
    /// <summary>Tag, reference or manifest/config digest prefix of the image to pick.</summary>
    public string? Image { get; init; }
    /// <summary>os/arch[/variant]; null = linux/amd64, else the first.</summary>
    public string? Platform { get; init; }
    /// <summary>Check manifest and config digests (layers are checked by the loader).</summary>
    public bool Verify { get; init; } = true;
    /// <summary>Take a SHA-256 of every file of a layer that a one-pass source reads ahead (ground-truth listings).</summary>
    public bool FileSha256 { get; init; }
    /// <summary>The environment (DOCKER_HOST, CONTAINER_HOST, HOME, ...); null = the process's.</summary>
    public Func<string, string?>? Environment { get; init; }
    /// <summary>Standard input, for the name "-"; null = the process's.</summary>
    public Func<Stream>? StandardInput { get; init; }
    /// <summary>Set when the name was bare (no scheme): a source then says in a note that it served it.</summary>
    internal bool BareName { get; init; }
    /// <summary>Plain HTTP to a registry that is not on a loopback address.</summary>
    public bool Insecure { get; init; }
    /// <summary>containerd's socket (<c>--address</c>); null = CONTAINERD_ADDRESS, else the default sockets.</summary>
    public string? Address { get; init; }
    /// <summary>containerd's namespace (<c>--namespace</c>); null = CONTAINERD_NAMESPACE, else <c>default</c>.</summary>
    public string? Namespace { get; init; }
    /// <summary>Counts the bytes a one-pass source reads (for progress); null = not counted.</summary>
    internal ReadCounter? Counter { get; init; }
    /// <summary>Told what a source is doing that the user should hear of while it happens (a registry's wait before another try); null = nobody.</summary>
    public Action<string>? Notice { get; init; }

    internal string? Env(string name) => (Environment ?? System.Environment.GetEnvironmentVariable)(name);
}
