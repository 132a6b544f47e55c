using System.Security.Cryptography;
using System.Text;
using LayerDive.Core.Model;

namespace LayerDive.Core.Analysis;

/// <summary>One layer as Docker's overlay2 driver keeps it on disk.</summary>
internal sealed record OverlayLayer(int Index, string DiffId, string ChainId, string CacheId, string Link, IReadOnlyList<string> Lower, long Size);

/// <summary>
/// How Docker's overlay2 storage would hold the image (docs/explorer.md): the chain id of every layer (as Docker
/// computes it from the diff ids), a directory per layer with diff/, link and lower, and the
/// <c>mount -t overlay</c> that assembles a container's root filesystem from them.
/// </summary>
internal sealed record OverlayLayout(IReadOnlyList<OverlayLayer> Layers, string ContainerId, string Root)
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
