using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;
using LayerDive.Core.Resources;
using LayerDive.Core.Sources.Engines;

namespace LayerDive.Core.Sources.Containerd;

/// <summary>
/// Layers whose blobs the content store no longer holds (a node that discards compressed layers once
/// unpacked), read from the snapshots the image was unpacked into. The snapshot of layer N is named by
/// the chain id of the config's diff ids up to N; a read-only view on the top one gives the mounts,
/// whose overlay <c>lowerdir</c> names every layer's own folder (top first), each an overlay upper
/// directory with its whiteouts as 0/0 character devices and the opaque xattr, read as
/// <c>container://</c> reads a Docker container's (<see cref="UpperDirLayer"/>). Such a layer cannot be
/// checked against the manifest: a tar rebuilt from files is not the bytes its digest and diff id were
/// taken of (file order, headers and times differ), so its digests are left out and a note says so.
/// </summary>
internal static class SnapshotLayers
{
    private const string SnapshotLabel = "containerd.io/gc.ref.snapshot.";

    /// <summary>The chain ids of <paramref name="diffIds"/>: the first is the first diff id, each next the SHA-256 of "PREVIOUS NEXT".</summary>
    public static List<string> ChainIds(IReadOnlyList<string> diffIds)
    {
        var chain = new List<string>(diffIds.Count);
        foreach (var d in diffIds)
            chain.Add(chain.Count == 0 ? d : "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(chain[^1] + " " + d))));
        return chain;
    }

    /// <summary>
    /// Where an unpacked image's layers are: its snapshotter, each layer's snapshot (named by its chain
    /// id) and each layer's own folder, bottom first (null when the snapshotter keeps no folder per
    /// layer); or why they cannot be found (never unpacked, a snapshot gone).
    /// </summary>
    internal sealed record Chain(string Snapshotter, IReadOnlyList<string> Names, IReadOnlyList<string>? Folders, IReadOnlyList<Api.Mount> Mounts);

    /// <summary>
    /// The snapshots <paramref name="image"/> was unpacked into, read through a read-only view on its top
    /// one (the Snapshots service gives a snapshot's folder only in mounts; its Stat has no id); or why not.
    /// </summary>
    public static (Chain? Chain, string? Why) Locate(ContainerdClient client, ResolvedImage image, string? configDigest, CancellationToken ct)
    {
        var diffIds = image.Config.DiffIds;
        if (image.Layers.Count == 0) return (null, Strings.Containerd_NoDiffIds);
        if (diffIds.Count != image.Layers.Count || diffIds.Any(d => d is null)) return (null, Strings.Containerd_NoDiffIds);
        // the snapshotter the image was unpacked with labels the config (what keeps the snapshots from garbage collection)
        var labels = configDigest is null ? null : client.Info(configDigest, ct)?.Labels;
        var snapshotter = labels?.Keys.FirstOrDefault(k => k.StartsWith(SnapshotLabel, StringComparison.Ordinal))?[SnapshotLabel.Length..];
        if (snapshotter is null) return (null, Strings.Containerd_NeverUnpacked);
        var chain = ChainIds(diffIds);
        IReadOnlyList<Api.Mount> mounts;
        try
        {
            mounts = client.ViewMounts(snapshotter, chain[^1], ct);
        }
        catch (ImageException ex) when (ex.Kind == FaultKind.NotFound)
        {
            return (null, Text.Fill(Strings.Containerd_SnapshotMissing, snapshotter, ImageException.ShortDigest(chain[^1])));
        }
        return (new Chain(snapshotter, chain, LayerFolders(mounts, chain.Count), mounts), null);
    }

    /// <summary>
    /// The image with each layer whose blob is missing read from its snapshot instead, and the note that
    /// says which; the image as it is when every blob is there.
    /// </summary>
    /// <exception cref="ImageException">A blob is missing and the image has no snapshot to read it from, or one its snapshotter keeps no layer folder for.</exception>
    public static (ResolvedImage Image, string? Note) Replace(ContainerdClient client, ResolvedImage image, Chain? chain, string? why, Func<string, bool> has, CancellationToken ct)
    {
        var missing = image.Layers.Where(l => l.Digest is { } d && !has(d)).ToList();
        if (missing.Count == 0) return (image, null);
        var first = missing[0];
        ImageException Gone(string reason) => new(FaultKind.NotFound, Text.Fill(Strings.Containerd_BlobAndSnapshotMissing, client.Describe, ImageException.ShortDigest(first.Digest!), reason), first.Index, first.Digest);
        if (chain is null) throw Gone(why ?? Strings.Containerd_NeverUnpacked);
        var folders = chain.Folders ?? throw Gone(Text.Fill(Strings.Containerd_SnapshotterNoFolders, chain.Snapshotter, string.Join(", ", chain.Mounts.Select(m => m.Type))));
        var layers = image.Layers.ToList();
        foreach (var l in missing)
        {
            client.Hold(chain.Names[l.Index], ct, "snapshots/" + chain.Snapshotter);
            layers[l.Index] = new LayerDescriptor(l.Index, new LayerLocator.Snapshot(folders[l.Index]), Images.MediaTypes.OciLayerTar, null, null, null) { Origin = l.Origin };
        }
        var note = Text.Fill(Strings.Containerd_ReadFromSnapshots, string.Join(", ", missing.Select(l => $"{l.Index} ({ImageException.ShortDigest(l.Digest!)}: {folders[l.Index]})")));
        return (image with { Layers = layers }, note);
    }

    /// <summary>
    /// Each layer's folder, bottom first, from a view's mounts: overlay's <c>lowerdir</c> lists them top
    /// first; a one-layer view is a bind mount of the layer's folder. Null for anything else (the native
    /// snapshotter's bind of a whole copy, btrfs, zfs): no folder holds one layer's changes alone.
    /// </summary>
    private static List<string>? LayerFolders(IReadOnlyList<Api.Mount> mounts, int count)
    {
        if (mounts.Count != 1) return null;
        var m = mounts[0];
        if (m.Type == "bind" && count == 1) return [m.Source];
        if (m.Type != "overlay") return null;
        var lower = m.Options.FirstOrDefault(o => o.StartsWith("lowerdir=", StringComparison.Ordinal));
        if (lower is null || m.Options.Any(o => o.StartsWith("upperdir=", StringComparison.Ordinal))) return null;
        var folders = lower["lowerdir=".Length..].Split(':').Reverse().ToList();
        return folders.Count == count && folders.All(f => f.StartsWith('/')) ? folders : null;
    }

    /// <summary>A snapshot's layer as a tar, in a private temporary file deleted when closed (as a container's upper directory is read).</summary>
    public static Stream Open(LayerDescriptor layer, string folder, ContainerdClient client, CancellationToken ct)
    {
        if (!Directory.Exists(folder))
            throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Containerd_SnapshotFolderUnreadable, client.Describe, folder), layer.Index, null);
        var path = Path.Combine(Path.GetTempPath(), $"layerdive-snapshot-{Environment.ProcessId}-{Guid.NewGuid():N}.tar");
        var file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
        try
        {
            if (OperatingSystem.IsLinux()) File.Delete(path); // the open handle keeps it: nothing is left behind, even if the process is killed
            using (var tar = new TarWriter(file, TarEntryFormat.Pax, leaveOpen: true))
                UpperDirLayer.Write(folder, tar, ct);
            file.Position = 0;
            return file;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            file.Dispose();
            throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Containerd_SnapshotFolderUnreadable, client.Describe, folder + ": " + ex.Message), layer.Index, null);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }
}
