using System.Text.Json;
using LayerDive.Core.Model;

namespace LayerDive.Core.Analysis;

/// <summary>What a step of a layer's file list does: puts an item's name in the path (before its children), writes the item, or both.</summary>
internal enum ListStepKind : byte { Name, Item }

/// <summary>
/// One step of a layer's file list as <see cref="LayerFileLists"/> walked it: a name to put in the path at
/// <see cref="At"/>, or an item to write with the path's first <see cref="Own"/> characters, its facts
/// where they are (the tree's plain attributes by version, taken ones in the block, an extra's own).
/// </summary>
internal struct FileListStep
{
    public int At;
    public int Own;
    public int Node;      // the merged-tree node whose name this is (TreeStore.None: the extra's)
    public int Version;   // the tree's plain attributes the layer's entry wrote, + 1 (0: none)
    public int Taken;     // else the attributes taken into the block (-1: none)
    public LayerFileLists.Extra? Extra; // a name step's name where no node has it; an item step's facts where the tree has none
    public ListStepKind Kind;
}

/// <summary>A run of a layer's steps, handed from the merge's thread to the writer's; pooled by the sink.</summary>
internal sealed class FileListBlock
{
    public const int Length = 2048; // 64 KB of steps: below the large object heap's threshold
    public readonly FileListStep[] Steps = new FileListStep[Length];
    public int Count;
    /// <summary>The layer whose object this block begins (null: it goes on with the one before).</summary>
    public LayerInfo? Layer;
    public TreeStore? Tree;
    /// <summary>The layer's list ends with this block.</summary>
    public bool Ends;
    private readonly List<(EntryAttributes Attributes, string? Hardlink)> _taken = [];

    public void Begin(LayerInfo? layer, TreeStore? tree)
    {
        Array.Clear(Steps, 0, Count);
        (Count, Layer, Tree, Ends) = (0, layer, tree, false);
        _taken.Clear();
    }

    /// <summary>Attributes read while the tree's tables could still be read safely (a hardlink's header, a version with rare fields).</summary>
    public int Take(EntryAttributes attributes, string? hardlink)
    {
        _taken.Add((attributes, hardlink));
        return _taken.Count - 1;
    }

    public (EntryAttributes Attributes, string? Hardlink) Taken(int index) => _taken[index];
}

/// <summary>Takes the blocks of each layer's file list, in order.</summary>
internal interface IFileListSink
{
    FileListBlock Rent();
    void Post(FileListBlock block);
}

/// <summary>
/// Writes the <c>fileList</c> items of the blocks it is given, in order (one layer's after another's),
/// keeping the path their name steps build. Reads the tree's names and plain attributes only, which the
/// merge leaves as they are once written, so it may run beside the merge.
/// </summary>
internal sealed class FileListWriter
{
    private char[] _path = new char[256];

    public void Write(Utf8JsonWriter w, FileListBlock block)
    {
        var steps = block.Steps;
        for (int i = 0; i < block.Count; i++)
        {
            ref readonly var s = ref steps[i];
            if (s.Kind == ListStepKind.Name) PutName(ref _path, block.Tree, s.Node, s.Extra?.Name, s.At, s.Own);
            else Write(w, block, s);
        }
    }

    /// <summary>
    /// A name into <paramref name="path"/> at <paramref name="at"/>, after its parent's path and a '/' (grown
    /// to <paramref name="own"/> characters): the tree's node's name, or <paramref name="name"/> where there is no node.
    /// </summary>
    internal static void PutName(ref char[] path, TreeStore? tree, int node, string? name, int at, int own)
    {
        if (own > path.Length) Array.Resize(ref path, Math.Max(own, path.Length * 2));
        if (at > 0) path[at - 1] = '/';
        var dest = path.AsSpan(at, own - at);
        if (node == TreeStore.None) name!.CopyTo(dest);
        else if (tree!.NameChars(node, dest) is var chars && !chars.Overlaps(dest)) chars.CopyTo(dest);
    }

    private void Write(Utf8JsonWriter w, FileListBlock block, in FileListStep s)
    {
        var path = _path.AsSpan(0, s.Own);
        EntryAttributes? a = null;
        string? hardlink = null;
        bool payload = false, whiteout = false;
        if (s.Taken >= 0) ((a, hardlink), payload) = (block.Taken(s.Taken), true);
        else if (s.Version > 0) (a, payload) = (block.Tree!.Attributes(s.Version - 1), true);
        else if (s.Extra is { Payload: true } e) (a, hardlink, payload, whiteout) = (e.Attributes, e.Hardlink, true, e.Whiteout);
        w.WriteStartObject();
        if (!payload)
        {
            // an implicit parent: no payload in dive
            w.WriteString(PathName, "");
            w.WriteNumber(TypeFlagName, 0);
            w.WriteString(LinkNameName, "");
            w.WriteNumber(SizeName, 0);
            w.WriteNumber(FileModeName, 0);
            w.WriteNumber(UidName, 0);
            w.WriteNumber(GidName, 0);
            w.WriteBoolean(IsDirName, false);
        }
        else if (whiteout)
        {
            PathText.WriteJson(w, PathName, path);
            w.WriteNumber(TypeFlagName, '0');
            w.WriteString(LinkNameName, "");
            w.WriteNumber(SizeName, 0);
            w.WriteNumber(FileModeName, a is { } marker ? LayerFileLists.GoFileMode(marker) : 0);
            w.WriteNumber(UidName, a?.Uid ?? 0);
            w.WriteNumber(GidName, a?.Gid ?? 0);
            w.WriteBoolean(IsDirName, false);
        }
        else
        {
            PathText.WriteJson(w, PathName, path);
            var e = a!.Value;
            w.WriteNumber(TypeFlagName, LayerFileLists.FlagOf(e, hardlink));
            PathText.WriteJson(w, LinkNameName, (hardlink ?? e.LinkTarget ?? "").AsSpan());
            w.WriteNumber(SizeName, e.HeaderSize);
            w.WriteNumber(FileModeName, LayerFileLists.GoFileMode(e, hardlink is not null));
            w.WriteNumber(UidName, e.Uid);
            w.WriteNumber(GidName, e.Gid);
            w.WriteBoolean(IsDirName, e.IsDirectory);
        }
        w.WriteEndObject();
        Reports.CiReports.FlushSome(w);
    }

    // an item's property names, encoded once (a list writes them for every entry of every layer)
    private static readonly JsonEncodedText PathName = JsonEncodedText.Encode("path"), TypeFlagName = JsonEncodedText.Encode("typeFlag"),
        LinkNameName = JsonEncodedText.Encode("linkName"), SizeName = JsonEncodedText.Encode("size"), FileModeName = JsonEncodedText.Encode("fileMode"),
        UidName = JsonEncodedText.Encode("uid"), GidName = JsonEncodedText.Encode("gid"), IsDirName = JsonEncodedText.Encode("isDir");
}
