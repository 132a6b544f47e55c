using System.Security.Cryptography;
using System.Text;
using LayerDive.Core.Model;

namespace LayerDive.Core.Analysis;

/// <summary>One layer as Docker's overlay2 driver keeps it on disk.</summary>
public sealed record OverlayLayer(int Index, string DiffId, string ChainId, string CacheId, string Link, IReadOnlyList<string> Lower, long Size);

/// <summary>
/// How Docker's overlay2 storage would hold the image (SPEC §7): the chain id of every layer (as Docker
/// computes it from the diff ids), a directory per layer with diff/, link and lower, and the
/// <c>mount -t overlay</c> that assembles a container's root filesystem from them.
/// </summary>
public sealed record OverlayLayout(IReadOnlyList<OverlayLayer> Layers, string ContainerId, string Root)
{
    /// <summary>Docker: ChainID(L0) = DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)).</summary>
    public static string ChainId(string? parentChainId, string diffId) =>
        parentChainId is null ? diffId : "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(parentChainId + " " + diffId)));

    public static OverlayLayout For(ImageModel model, string root = "/var/lib/docker/overlay2")
    {
        var layers = new List<OverlayLayer>();
        string? chain = null;
        var links = new List<string>();
        foreach (var l in model.Layers)
        {
            var diffId = l.DiffId ?? l.ExpectedDiffId ?? "sha256:" + new string('0', 64);
            chain = ChainId(chain, diffId);
            // Docker draws the cache id and the short link name at random; these are derived from the chain id
            var cacheId = Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes("cache-id " + chain)));
            var link = Base32(SHA256.HashData(Encoding.ASCII.GetBytes("link " + chain)))[..26];
            var lower = links.AsEnumerable().Reverse().Select(x => "l/" + x).ToList();
            layers.Add(new OverlayLayer(l.Index, diffId, chain, cacheId, link, lower, l.Size));
            links.Add(link);
        }
        var container = Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes("container " + chain)));
        return new OverlayLayout(layers, container, root);
    }

    /// <summary>lowerdir: the image's layers, top first, then upperdir and workdir of a container, and its merged view.</summary>
    public string MountCommand()
    {
        var lower = string.Join(':', Layers.Reverse().Select(l => $"{Root}/l/{l.Link}"));
        var c = $"{Root}/{ContainerId}";
        return $"mount -t overlay overlay -o lowerdir={lower},upperdir={c}/diff,workdir={c}/work {c}/merged";
    }

    private static string Base32(byte[] bytes)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var sb = new StringBuilder();
        int buffer = 0, bits = 0;
        foreach (var b in bytes)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                sb.Append(alphabet[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }
        return sb.ToString();
    }
}

/// <summary>
/// A real folder an engine keeps a layer in (from its <c>GraphDriver</c> data): the layer (null for the
/// engine's init layer of a container), its <c>diff</c> folder, and, read from beside it where this user
/// can, the <c>link</c> short name and the <c>lower</c> chain.
/// </summary>
public sealed record HostFolder(int? Layer, string Diff, HostFolderRole Role)
{
    /// <summary>The layer's own folder (the one that holds diff/, link, lower, work/, merged/).</summary>
    public string Folder => Diff.EndsWith("/diff", StringComparison.Ordinal) ? Diff[..^"/diff".Length] : Diff;

    public string? Link => ReadBeside("link");

    public string? Lower => ReadBeside("lower");

    private string? ReadBeside(string name)
    {
        try
        {
            var path = Path.Combine(Folder, name);
            return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The folders of an engine's image or container, bottom first; empty when the engine did not say (a file, vfs).</summary>
    public static IReadOnlyList<HostFolder> Of(ImageModel model)
    {
        if (model.Storage is not { Driver: "overlay2" or "overlay" } storage) return [];
        var folders = storage.LayerFolders();
        int? container = LayerKinds.ContainerLayer(model);
        int imageLayers = container ?? model.Layers.Count;
        var result = new List<HostFolder>();
        for (int i = 0; i < imageLayers && i < folders.Count; i++) result.Add(new HostFolder(i, folders[i], HostFolderRole.Layer));
        if (container is int c)
        {
            if (folders.Count == imageLayers + 2) result.Add(new HostFolder(null, folders[imageLayers], HostFolderRole.Init));
            if (folders.Count > imageLayers) result.Add(new HostFolder(c, folders[^1], HostFolderRole.Container));
        }
        return result;
    }
}

/// <summary>What a real folder holds.</summary>
public enum HostFolderRole
{
    /// <summary>An image layer.</summary>
    Layer,
    /// <summary>The engine's init layer of a container (/etc/hosts, /etc/resolv.conf, /.dockerenv, ...).</summary>
    Init,
    /// <summary>The container's read-write layer (its upper directory).</summary>
    Container,
}
