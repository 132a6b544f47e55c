using System.Net;
using System.Text.RegularExpressions;

namespace LayerDive.Core.Sources.Registry;

/// <summary>
/// An image reference as the Docker CLI reads it: <c>[HOST[:PORT]/]REPO[:TAG][@sha256:HEX]</c>. The
/// first component is a host when it has a '.' or a ':' or is <c>localhost</c>; otherwise the host is
/// Docker Hub and a one-component name is under <c>library/</c>. A digest wins over a tag; with
/// neither, the tag is <c>latest</c>.
/// </summary>
internal sealed partial record RegistryReference(string Host, string Repository, string? Tag, string? Digest)
{
    public const string DockerHub = "docker.io";

    /// <summary>The host the API is served from (Docker Hub's names differ from its API host).</summary>
    public string ApiHost => Host is DockerHub or "index.docker.io" ? "registry-1.docker.io" : Host;

    /// <summary>What the manifest is asked for by: the digest if pinned, else the tag.</summary>
    public string ManifestReference => Digest ?? Tag ?? "latest";

    /// <summary>Loopback addresses may be spoken to in plain HTTP (as Docker treats them).</summary>
    public bool IsLoopback
    {
        get
        {
            var host = HostWithoutPort;
            return host == "localhost" || (IPAddress.TryParse(host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
        }
    }

    public string HostWithoutPort
    {
        get
        {
            if (Host.StartsWith('[')) return Host[..(Host.IndexOf(']') + 1)];
            int colon = Host.LastIndexOf(':');
            return colon < 0 ? Host : Host[..colon];
        }
    }

    public override string ToString() =>
        $"{Host}/{Repository}" + (Tag is null ? "" : ":" + Tag) + (Digest is null ? "" : "@" + Digest);

    /// <summary>Parses a reference; null when it is not one.</summary>
    public static RegistryReference? Parse(string text)
    {
        var m = Grammar().Match(text);
        if (!m.Success) return null;
        string name = m.Groups["name"].Value;
        string? tag = m.Groups["tag"].Success ? m.Groups["tag"].Value : null;
        string? digest = m.Groups["digest"].Success ? m.Groups["digest"].Value : null;
        int slash = name.IndexOf('/');
        string first = slash < 0 ? "" : name[..slash];
        string host, repository;
        if (slash > 0 && (first.Contains('.') || first.Contains(':') || first == "localhost" || first.StartsWith('[')))
            (host, repository) = (first, name[(slash + 1)..]);
        else
            (host, repository) = (DockerHub, name);
        if (host is "index.docker.io" or "registry-1.docker.io") host = DockerHub;
        if (host == DockerHub && !repository.Contains('/')) repository = "library/" + repository;
        if (repository.Any(char.IsAsciiLetterUpper)) return null; // repositories are lowercase
        if (tag is null && digest is null) tag = "latest";
        return new RegistryReference(host, repository, tag, digest);
    }

    /// <summary>Whether a name names its registry host explicitly (docker.io/library/nginx, ghcr.io/org/app, localhost:5000/app).</summary>
    public static bool HasHost(string text)
    {
        int slash = text.IndexOf('/');
        if (slash <= 0) return false;
        var first = text[..slash];
        return first.Contains('.') || first.Contains(':') || first == "localhost";
    }

    [GeneratedRegex(@"^(?<name>(?:(?:\[[0-9a-fA-F:]+\]|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*)(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)(?::(?<tag>[\w][\w.-]{0,127}))?(?:@(?<digest>sha256:[0-9a-f]{64}))?$")]
    private static partial Regex Grammar();
}
