using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using LayerDive.Core;
using LayerDive.Core.Resources;
using LayerDive.Core.Sources;
using LayerDive.Core.Sources.Registry;

namespace LayerDive.Cli;

/// <summary>One image a scan analyses: the name reports give it, how to load it, and the group its shard is chosen by.</summary>
internal sealed record ScanTarget(string Name, string Reference, string? Image, string Group);

/// <summary>The images of a scan's source: a registry's repositories and tags, an OCI layout's tags, an engine's images.</summary>
internal static class ScanSources
{
    private const int MaxListing = 16 << 20;

    /// <summary>
    /// Every image <paramref name="source"/> holds, filtered by <paramref name="match"/> (on NAME:TAG) and
    /// to the last <paramref name="last"/> tags of each repository (in the order of their names), sorted.
    /// </summary>
    public static IReadOnlyList<ScanTarget> List(string source, string? reposFile, Regex? match, int? last, SourceOptions options, string workingDirectory)
    {
        List<ScanTarget> all;
        var local = Path.GetFullPath(source, workingDirectory);
        if (source.StartsWith("registry://", StringComparison.Ordinal))
            all = Registry(source["registry://".Length..].TrimEnd('/'), reposFile is null ? null : Path.GetFullPath(reposFile, workingDirectory), options);
        else if (Directory.Exists(local) && File.Exists(Path.Combine(local, "index.json")))
            all = Layout(local, options);
        else if (source.StartsWith("containers-storage:", StringComparison.Ordinal))
            all = Store(source["containers-storage:".Length..], options);
        else if (source is "docker://" or "docker" or "podman://" or "podman")
            all = Engine(source.StartsWith("podman", StringComparison.Ordinal) ? "podman" : "docker", options);
        else
            throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Scan_UnknownSource, source));
        var kept = all.Where(t => match is null || match.IsMatch(t.Name));
        if (last is { } n)
            kept = kept.GroupBy(t => t.Group).SelectMany(g => g.OrderBy(t => t.Name, StringComparer.Ordinal).TakeLast(n));
        return kept.DistinctBy(t => t.Name).OrderBy(t => t.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>The repositories of /v2/_catalog (or of the file), each with the tags of its tags/list.</summary>
    private static List<ScanTarget> Registry(string host, string? reposFile, SourceOptions options)
    {
        // user:password@host: refused without repeating it (the name goes into messages and reports)
        if (host.Contains('@')) throw new ImageException(FaultKind.BadArgument, Strings.Scan_CredentialsInName);
        if (host.Length == 0 || host.Contains('/')) throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Scan_UnknownSource, "registry://" + host));
        IEnumerable<string> repositories;
        if (reposFile is not null)
        {
            repositories = File.ReadAllLines(reposFile).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'));
        }
        else
        {
            using var catalog = new RegistryClient(new RegistryReference(host, "_catalog", null, null), options);
            repositories = Pages(catalog, "/v2/_catalog?n=1000", "repositories");
        }
        var targets = new List<ScanTarget>();
        foreach (var repository in repositories.Distinct(StringComparer.Ordinal))
        {
            if (RegistryReference.Parse($"{host}/{repository}") is not { } reference)
                throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Scan_NotARepository, repository));
            using var client = new RegistryClient(reference with { Tag = null }, options);
            foreach (var tag in Pages(client, $"/v2/{reference.Repository}/tags/list?n=1000", "tags"))
                // read as registry:// says: a bare name would go to a local engine first (SPEC's order for a bare
                // name), which may hold another image of that name, and costs a podman process an image
                targets.Add(new ScanTarget($"{host}/{repository}:{tag}", $"registry://{host}/{repository}:{tag}", null, $"{host}/{repository}"));
        }
        return targets;
    }

    /// <summary>The names of a paginated listing (its Link header's next page, as the distribution API gives it).</summary>
    private static List<string> Pages(RegistryClient client, string first, string property)
    {
        var names = new List<string>();
        string? next = first;
        for (int page = 0; next is not null && page < 10_000; page++)
        {
            using var response = client.Get(next, ["application/json"]);
            if (response.StatusCode == HttpStatusCode.NotFound && property == "tags") return names; // a repository without tags
            if (!response.IsSuccessStatusCode)
                throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Scan_ListingRefused, client.Describe, next, (int)response.StatusCode, client.ErrorText(response)));
            var bytes = HttpBodies.ReadDocument(response, MaxListing, client.Timeout, null,
                tooLarge: _ => new ImageException(FaultKind.Damaged, Text.Fill(Strings.Scan_ListingTooLarge, client.Describe, next, MaxListing)),
                failed: why => new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Scan_ListingRefused, client.Describe, next, 0, why)), default);
            using var doc = Json.Parse(bytes, next);
            if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty(property, out var list) && list.ValueKind == JsonValueKind.Array)
                foreach (var e in list.EnumerateArray())
                    if (e.ValueKind == JsonValueKind.String && e.GetString() is { Length: > 0 } s) names.Add(s);
            next = NextPage(response);
        }
        return names;
    }

    /// <summary><c>&lt;/v2/_catalog?last=x&amp;n=1000&gt;; rel="next"</c>: the path of the next page, on the same host only.</summary>
    private static string? NextPage(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Link", out var links)) return null;
        foreach (var link in links)
        {
            var m = Regex.Match(link, "<([^>]*)>\\s*;\\s*rel=\"?next\"?");
            if (m.Success && m.Groups[1].Value.StartsWith("/v2/", StringComparison.Ordinal)) return m.Groups[1].Value;
        }
        return null;
    }

    /// <summary>An OCI layout's images: the ref names of its index (else their digests).</summary>
    private static List<ScanTarget> Layout(string dir, SourceOptions options)
    {
        // the images the layout's source offers, by the names it answers to (its index read as every read of
        // it is, bounded): signatures, SBOMs and other artifacts are listed by `platforms`, never scanned
        using var source = SourceCatalog.Open(dir, options, default);
        var targets = new List<ScanTarget>();
        foreach (var image in source.Candidates.Where(c => !c.IsArtifact).Select(c => c.Name).Distinct(StringComparer.Ordinal))
        {
            // grouped (for shards and --last) by repository as a registry's are: a ref name "repo:tag" by its
            // repository, a bare tag ("latest", as skopeo writes oci:DIR:TAG) by the folder, one repository
            int tag = image.LastIndexOf(':');
            var group = tag > image.LastIndexOf('/') && !image.StartsWith("sha256:", StringComparison.Ordinal) ? $"{dir}:{image[..tag]}" : dir;
            targets.Add(new ScanTarget($"{dir}:{image}", dir, image, group));
        }
        return targets;
    }

    /// <summary>Every tagged image of a Docker or Podman engine (its API's image list).</summary>
    private static List<ScanTarget> Engine(string engine, SourceOptions options)
    {
        var hosts = engine == "docker" ? [Core.Sources.Engines.EngineHosts.Docker(options)] : Core.Sources.Engines.EngineHosts.Podman(options);
        ImageException? first = null;
        foreach (var host in hosts)
        {
            Core.Sources.Engines.EngineClient client;
            try
            {
                client = Core.Sources.Engines.EngineClient.Connect(host);
            }
            catch (ImageException ex) when (ex.Kind is FaultKind.NotFound or FaultKind.Unreachable)
            {
                first ??= ex;
                continue;
            }
            using (client)
            {
                using var list = client.GetJson("images/json") ?? throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Scan_UnknownSource, engine + "://"));
                var targets = new List<ScanTarget>();
                foreach (var image in list.RootElement.EnumerateArray())
                    if (image.TryGetProperty("RepoTags", out var tags) && tags.ValueKind == JsonValueKind.Array)
                        foreach (var t in tags.EnumerateArray())
                            if (t.GetString() is { Length: > 0 } tag && tag != "<none>:<none>")
                                targets.Add(new ScanTarget($"{engine}://{tag}", $"{engine}://{tag}", null, tag[..Math.Max(0, tag.LastIndexOf(':'))]));
                return targets;
            }
        }
        throw first ?? new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Scan_UnknownSource, engine + "://"));
    }

    /// <summary>
    /// A podman/buildah store's named images (<c>containers-storage:[DRIVER@ROOT+RUNROOT]</c>, the brackets
    /// optional): the names of its images.json, each read as <c>containers-storage:[...]NAME</c>.
    /// </summary>
    private static List<ScanTarget> Store(string spec, SourceOptions options)
    {
        string brackets = "", root = Core.Sources.Storage.ContainersStorageSource.DefaultRoot;
        string? driver = null;
        if (spec.StartsWith('['))
        {
            int close = spec.IndexOf(']');
            if (close < 0 || close != spec.Length - 1) throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Scan_UnknownSource, "containers-storage:" + spec));
            brackets = spec;
            var inside = spec[1..close];
            int at = inside.IndexOf('@');
            if (at >= 0) (driver, inside) = (inside[..at], inside[(at + 1)..]);
            int cut = inside.IndexOfAny([':', '+']);
            if (cut >= 0) inside = inside[..cut];
            if (inside.Length > 0) root = inside;
        }
        else if (spec.Length > 0)
        {
            throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Scan_UnknownSource, "containers-storage:" + spec));
        }
        driver ??= new[] { "overlay", "vfs" }.FirstOrDefault(d => File.Exists(Path.Combine(root, d + "-images", "images.json")))
            ?? throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Storage_NoStore, root, "overlay, vfs"));
        var images = Path.Combine(root, driver + "-images", "images.json");
        if (new FileInfo(images).Length > MaxListing) throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Scan_ListingTooLarge, root, images, MaxListing));
        using var doc = Json.Parse(File.ReadAllBytes(images), images);
        var targets = new List<ScanTarget>();
        if (doc.RootElement.ValueKind == JsonValueKind.Array)
            foreach (var image in doc.RootElement.EnumerateArray())
                if (image.TryGetProperty("names", out var names) && names.ValueKind == JsonValueKind.Array)
                    foreach (var n in names.EnumerateArray())
                        if (n.GetString() is { Length: > 0 } name)
                            targets.Add(new ScanTarget(name, $"containers-storage:{brackets}{name}", null, name.Contains(':') ? name[..name.LastIndexOf(':')] : name));
        return targets;
    }

    /// <summary>FNV-1a of the group's UTF-8: the same on every machine and in every run.</summary>
    public static ulong Hash(string group)
    {
        ulong h = 14695981039346656037;
        foreach (var b in System.Text.Encoding.UTF8.GetBytes(group))
        {
            h ^= b;
            h *= 1099511628211;
        }
        return h;
    }
}
