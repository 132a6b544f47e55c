using LayerDive.Core.Layers;
using LayerDive.Core.Merge;
using LayerDive.Core.Model;

namespace LayerDive.Core.Analysis;

/// <summary>One node of a layer's own tree as dive exports it (<c>fileList[]</c>).</summary>
public sealed record DiveFileInfo(string Path, int TypeFlag, string LinkName, long Size, uint FileMode, int Uid, int Gid, bool IsDir);

/// <summary>
/// Records each layer's own tree in dive's export order (child-first, names sorted), for the JSON
/// report; attached only when a report is asked for, as it keeps an entry per tar entry.
/// </summary>
public sealed class LayerFileLists : ILayerObserver
{
    private readonly List<List<DiveFileInfo>> _layers = [];
    private readonly List<RawEntry> _entries = [];

    public IReadOnlyList<IReadOnlyList<DiveFileInfo>> Layers => _layers;

    public void OnEntry(LayerInfo layer, in RawEntry entry, TreeNode? node) => _entries.Add(entry);

    public void OnLayerMerged(LayerInfo layer)
    {
        var implicitParent = new DiveFileInfo("", 0, "", 0, 0, 0, 0, false); // no payload in dive
        var nodes = DiveLayerTree.Build(_entries).ToDictionary(n => n.Key, n => n.Value.Entry switch
        {
            null => implicitParent,
            { Kind: RawKind.Whiteout } w => new DiveFileInfo(w.MarkerPath!, '0', "", 0, w.Attributes is { } m ? GoFileMode(m) : 0, w.Attributes?.Uid ?? 0, w.Attributes?.Gid ?? 0, false),
            { } e => FromAttributes(e.Path, e.Attributes!, e.HardlinkTarget),
        }, StringComparer.Ordinal);
        var order = nodes.Keys.ToList();
        order.Sort(ChildFirst);
        _layers.Add(order.Select(p => nodes[p]).ToList());
        _entries.Clear();
    }

    private static DiveFileInfo FromAttributes(string path, EntryAttributes a, string? hardlink)
    {
        int flag = hardlink is not null ? '1' : a.Type switch
        {
            FileType.Directory => '5',
            FileType.Symlink => '2',
            FileType.CharDevice => '3',
            FileType.BlockDevice => '4',
            FileType.Fifo => '6',
            _ => '0',
        };
        return new DiveFileInfo(path, flag, hardlink ?? a.LinkTarget ?? "", a.HeaderSize, GoFileMode(a, hardlink is not null), a.Uid, a.Gid, a.IsDirectory);
    }

    /// <summary>Go's fs.FileMode of a tar header: permission bits, setuid/setgid/sticky and type bits.</summary>
    public static uint GoFileMode(EntryAttributes a, bool hardlink = false)
    {
        uint mode = (uint)(a.Mode & 0x1FF);
        if ((a.Mode & 0x800) != 0) mode |= 1u << 23; // setuid
        if ((a.Mode & 0x400) != 0) mode |= 1u << 22; // setgid
        if ((a.Mode & 0x200) != 0) mode |= 1u << 20; // sticky
        if (hardlink) return mode;
        mode |= a.Type switch
        {
            FileType.Directory => 1u << 31,
            FileType.Symlink => 1u << 27,
            FileType.CharDevice => (1u << 26) | (1u << 21),
            FileType.BlockDevice => 1u << 26,
            FileType.Fifo => 1u << 25,
            _ => 0u,
        };
        return mode;
    }

    /// <summary>dive's VisitDepthChildFirst order: children (sorted by name) before their parent.</summary>
    private static int ChildFirst(string a, string b)
    {
        if (b.Length > a.Length && b.StartsWith(a, StringComparison.Ordinal) && b[a.Length] == '/') return 1;
        if (a.Length > b.Length && a.StartsWith(b, StringComparison.Ordinal) && a[b.Length] == '/') return -1;
        return PathText.CompareTreeOrder(a, b);
    }
}
