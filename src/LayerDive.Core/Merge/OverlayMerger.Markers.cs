using LayerDive.Core.Layers;
using LayerDive.Core.Model;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Merge;

/// <summary>
/// The merge's markers: a whiteout hides a path of the layers below and its subtree, an opaque marker
/// the lower children of its directory; neither hides what its own layer writes (docs/merge.md).
/// </summary>
internal sealed partial class OverlayMerger
{
    private int ApplyWhiteout(in RawEntry e)
    {
        int n = _n;
        int node = Find(e.Path);
        if (node != TreeStore.None && VisibleToMarkers(node, n, whiteout: true))
        {
            _tree.TryStateAt(node, n - 1, out var lower);
            bool wasDir = _tree.IsDirectory(lower.Attr);
            var (paths, bytes, headerBytes) = Hide(node, RemovalCause.Whiteout, RemovalCause.AncestorWhiteout, whiteout: true);
            _layer!.Whiteouts.Add(new WhiteoutInfo(e.MarkerPath!, e.Path, wasDir, paths, bytes, Orphan: false, wasDir ? headerBytes : 0));
        }
        else
        {
            _layer!.Whiteouts.Add(new WhiteoutInfo(e.MarkerPath!, e.Path, false, 0, 0, Orphan: true));
            _problems.Add(new Problem(ProblemKind.OrphanWhiteout, n, e.Path, Text.Fill(Strings.Merge_OrphanWhiteout, PathText.Escape(PathText.FileName(e.MarkerPath!)))));
        }
        return node;
    }

    private int ApplyOpaque(in RawEntry e)
    {
        int n = _n;
        _layer!.OpaqueDirectories.Add(e.Path);
        int dir = Find(e.Path);
        if (dir == TreeStore.None || !VisibleToMarkers(dir, n, whiteout: false)) return dir;
        _tree.TryStateAt(dir, n - 1, out var lower);
        if (!_tree.IsDirectory(lower.Attr)) return dir;
        foreach (var child in Children(dir))
            Hide(child, RemovalCause.Opaque, RemovalCause.Opaque, whiteout: false);
        return dir;
    }

    /// <summary>
    /// True when the path is there for a marker of layer n to hide: the layers below left it, and no
    /// marker of this layer hid it already (whiteouts act before opaque markers).
    /// </summary>
    private bool VisibleToMarkers(int node, int n, bool whiteout) =>
        _tree.TryStateAt(node, n - 1, out var lower) && lower.IsPresent
        && !(_markerHidden.TryGetValue(node, out var cause) && HiddenByMarker(cause, whiteout));

    /// <summary>A removal a marker made, which a later marker of the same layer leaves as it is.</summary>
    private static bool HiddenByMarker(RemovalCause cause, bool whiteout) =>
        cause is RemovalCause.Whiteout or RemovalCause.AncestorWhiteout || (cause == RemovalCause.Opaque && !whiteout);

    private struct HideFrame
    {
        public int Node;
        public RemovalCause Cause;
        public int Parent;
        public bool Expanded;
        public bool KeepsChild;
    }

    /// <summary>
    /// Hides <paramref name="top"/> and what lies under it as the layers below left them, as if the
    /// marker came before the layer's entries: what the entries wrote stays as they left it, a directory
    /// above a path they wrote stays as the directory they imply, and a lower path an entry's change
    /// removed takes the marker's cause. Returns how many lower paths were hidden, their file bytes
    /// and their header bytes.
    /// </summary>
    private (int Paths, long Bytes, long HeaderBytes) Hide(int top, RemovalCause self, RemovalCause descendants, bool whiteout)
    {
        int n = _n, paths = 0;
        long bytes = 0, headerBytes = 0;
        var frames = _frames;
        frames.Clear();
        frames.Add(new HideFrame { Node = top, Cause = self, Parent = -1 });
        while (frames.Count > 0)
        {
            int i = frames.Count - 1;
            var f = frames[i];
            int node = f.Node;
            if (!f.Expanded)
            {
                if (!_tree.TryStateAt(node, n - 1, out var lower) || !lower.IsPresent)
                {
                    // only this layer made it: it stays, and so does its parent
                    frames.RemoveAt(i);
                    if (_tree.TryRecordIn(node, n, out var own) && own.IsPresent && f.Parent >= 0) SetKeeps(frames, f.Parent);
                    continue;
                }
                if (_markerHidden.TryGetValue(node, out var earlier) && HiddenByMarker(earlier, whiteout))
                {
                    frames.RemoveAt(i);
                    continue;
                }
                _markerHidden[node] = f.Cause;
                paths++;
                var a = _tree.Attributes(lower.Attr);
                headerBytes += a.HeaderSize;
                if (a.Type == FileType.File) bytes += a.Size;
                f.Expanded = true;
                frames[i] = f;
                for (int c = _tree.FirstChild(node); c != TreeStore.None; c = _tree.NextSibling(c))
                    frames.Add(new HideFrame { Node = c, Cause = descendants, Parent = i });
                continue;
            }
            frames.RemoveAt(i);
            if (WrittenIn(node))
            {
                // the layer's entries wrote or went through it after the marker hid the lower one: it is as
                // they left it, or the directory they imply
                if (!_tree.TryRecordIn(node, n, out var own))
                {
                    SetPresent(node, _implicitDirectory);
                    if (f.Parent >= 0) SetKeeps(frames, f.Parent);
                }
                else if (own.IsPresent)
                {
                    _tree.TryStateAt(node, n - 1, out var lower);
                    if (_tree.Attributes(own.Attr).Implicit && !_tree.IsDirectory(lower.Attr))
                    {
                        string path = _tree.Node(node).Path;
                        _problems.RemoveAll(p => p.Kind == ProblemKind.ParentNotDirectory && p.LayerIndex == n && p.Path == path);
                    }
                    if (f.Parent >= 0) SetKeeps(frames, f.Parent);
                }
            }
            else if (f.KeepsChild)
            {
                SetPresent(node, _implicitDirectory);
                if (f.Parent >= 0) SetKeeps(frames, f.Parent);
            }
            else
            {
                SetRemoved(node, f.Cause);
            }
        }
        return (paths, bytes, headerBytes);
    }

    private static void SetKeeps(List<HideFrame> frames, int index)
    {
        var p = frames[index];
        p.KeepsChild = true;
        frames[index] = p;
    }
}
