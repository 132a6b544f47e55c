using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace LayerDive.Tests;

/// <summary>docs/explorer.md: `layerdive overlay` prints Docker's chain ids and the overlay mount of the image.</summary>
public sealed class OverlayTests
{
    [Fact]
    public void Chain_ids_and_the_mount_follow_dockers_rules()
    {
        var path = Paths.Public("dive__.data_test-docker-image.tar");
        // the diff ids, read from the archive's config independently
        var (config, _) = DockerArchive.Config(path);
        var diffIds = config.GetProperty("rootfs").GetProperty("diff_ids").EnumerateArray().Select(d => d.GetString()!).ToList();
        // Docker's image spec: ChainID(L0) = DiffID(L0); ChainID(Ln) = SHA256(ChainID(Ln-1) + " " + DiffID(Ln))
        var chains = new List<string> { diffIds[0] };
        for (int i = 1; i < diffIds.Count; i++)
            chains.Add("sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(chains[^1] + " " + diffIds[i]))));

        var r2 = Tool.Run("overlay", path, "--quiet");
        Assert.Equal(0, r2.ExitCode);
        for (int i = 0; i < chains.Count; i++)
            Assert.Contains($"# {i,-5}  {chains[i]}", r2.StdoutLines);
        var links = r2.StdoutLines.Where(l => l.StartsWith("    link      ", StringComparison.Ordinal)).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]).ToList();
        Assert.Equal(14, links.Count);
        var mount = r2.StdoutLines[^1];
        Assert.StartsWith("mount -t overlay overlay -o lowerdir=", mount);
        var lower = mount.Split("lowerdir=")[1].Split(',')[0].Split(':').Select(p => p.Split('/')[^1]).ToList();
        Assert.Equal(Enumerable.Reverse(links), lower); // top layer first
        Assert.Matches(@",upperdir=/var/lib/docker/overlay2/[0-9a-f]{64}/diff,workdir=/var/lib/docker/overlay2/[0-9a-f]{64}/work /var/lib/docker/overlay2/[0-9a-f]{64}/merged$", mount);
        // the lower file of the top layer names every layer below it, nearest first
        var lowers = r2.StdoutLines.Where(l => l.StartsWith("    lower     ", StringComparison.Ordinal)).ToList();
        Assert.Equal(string.Join(':', links.Take(13).Reverse().Select(l => "l/" + l)), lowers[^1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
    }
}
