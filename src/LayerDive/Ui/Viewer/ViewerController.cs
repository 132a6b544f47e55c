using LayerDive.Core;
using LayerDive.Core.Loading;
using LayerDive.Core.Model;
using LayerDive.Core.Reports;
using LayerDive.Resources;

namespace LayerDive.Ui.Viewer;

/// <summary>
/// The viewer over the explorer, with no terminal in it: a file's content as of a layer (text with line
/// numbers, or hex), its diff against the version below, a link's target, or lines (an explanation, the
/// config, the problems, the help). A file's bytes are copied from their layer once, on a task of their
/// own (<see cref="Spool"/>), while the viewer shows how far the copy has come and the window goes on
/// taking keys; text, hex and diff are views of that one copy.
/// </summary>
/// <param name="say">Says something on the status line.</param>
/// <param name="cancelKeys">The keys that stop a copy, as the progress names them.</param>
public sealed class ViewerController(ImageModel model, Action<string> say, string cancelKeys) : IDisposable
{
    /// <summary>The most bytes of a file the viewer copies unless configured (a longer file shows its first part).</summary>
    public const long DefaultLimit = 256L << 20;

    /// <summary>The largest file the viewer diffs (both versions are held as lines).</summary>
    private const long DiffLimit = 16 << 20;

    private Viewing? _viewing;
    private Pending? _pending;

    /// <summary>A copy under way: what it copies (for the progress), what to do with the bytes, and with an error.</summary>
    private sealed record Pending(Spool Spool, string What, int Layer, Action<Stream, bool> Done, Action<string> Failed)
    {
        public long Shown { get; set; } = -1;
    }

    /// <summary>Copies a file version's bytes into a stream (from its layer), stopping when the token is cancelled.</summary>
    public Func<FileVersion, Stream, CancellationToken, long>? ReadContent { get; set; }

    /// <summary>The most bytes of one file copied (<c>layerdive.viewer-limit</c>).</summary>
    public long Limit { get; set; } = DefaultLimit;

    /// <summary>Where the copies are made (the temporary folder).</summary>
    public string Folder { get; set; } = Path.GetTempPath();

    public Pager Pager { get; } = new();

    /// <summary>Something is shown, or being copied to be shown.</summary>
    public bool IsOpen => _viewing is not null || _pending is not null;

    /// <summary>A file's bytes are being copied: the viewer shows how far the copy has come.</summary>
    public bool IsCopying => _pending is not null;

    /// <summary>The viewer's title (what it shows, of which layer).</summary>
    public string Title { get; private set; } = "";

    public Viewing? Current => _viewing;

    /// <summary>Shows lines (an explanation, the config, the problems, the help).</summary>
    public void ShowLines(string title, int layer, IReadOnlyList<string> lines, IReadOnlyList<LineKind>? kinds = null) =>
        Show(new Viewing(title, null, layer), new ListContent(lines, kinds));

    /// <summary>A file's content as of <paramref name="layer"/> (a link's target); the copy of its bytes starts here.</summary>
    public void OpenFile(string path, int layer)
    {
        if (ReadContent is null) return;
        FileVersion version;
        try
        {
            version = FileContent.Locate(model, path, layer, follow: false);
        }
        catch (ImageException ex)
        {
            say(ex.Message);
            return;
        }
        string title = UiText.Fill(UiStrings.Ui_ViewerTitle, "/" + path, layer);
        if (version.RemovedIn is int removed) title += " · " + UiText.Fill(UiStrings.Ui_ViewerDeleted, removed, version.Layer);
        if (version.Attributes.Type == FileType.Symlink)
        {
            var lines = new List<string> { UiText.Fill(UiStrings.Ui_ViewerLink, "/" + path, version.Attributes.LinkTarget ?? "") };
            try
            {
                var target = FileContent.Locate(model, path, version.RemovedIn is null ? layer : version.Layer, follow: true);
                lines.Add(UiText.Fill(UiStrings.Ui_ViewerLinkResolves, "/" + target.Resolved, Units.HumanBytes(target.Size)));
            }
            catch (ImageException ex)
            {
                lines.Add(ex.Message);
            }
            Show(new Viewing(title, version, layer), new ListContent(lines));
            return;
        }
        Copy(version, title, (bytes, limited) =>
        {
            bool binary = LooksBinary(bytes);
            if (limited) title += " · " + UiText.Fill(UiStrings.Ui_ViewerFileOverLimit, Units.HumanBytes(bytes.Length), Units.HumanBytes(version.Size));
            var viewing = new Viewing(title, version, layer, bytes) { Binary = binary, Hex = binary, Limited = limited };
            Show(viewing, Content(viewing));
        }, error =>
        {
            Close(quietly: true);
            say(error);
        });
    }

    /// <summary>Tab: the file's diff against the version below (the version below is copied from its layer), or back to its content.</summary>
    public void ToggleDiff()
    {
        if (IsCopying) return;
        if (_viewing is not { Version: { } version, Bytes: { } bytes } viewing) { say(UiStrings.Ui_NoDiffHere); return; }
        if (viewing.Diff)
        {
            var back = viewing with { Diff = false };
            Show(back, Content(back));
            return;
        }
        var record = model.Find(version.Resolved)?.RecordIn(viewing.Layer);
        FileVersion? before = null;
        if (record is { Kind: ChangeKind.Modified } && viewing.Layer > 0)
        {
            try { before = FileContent.Locate(model, version.Resolved, viewing.Layer - 1, follow: false); }
            catch (ImageException) { }
        }
        if (before is null || before.RemovedIn is not null || before.Attributes.Type != FileType.File)
        {
            say(UiText.Fill(UiStrings.Ui_NotModifiedHere, "/" + version.Resolved, viewing.Layer));
            return;
        }
        long most = Math.Min(DiffLimit, Limit);
        if (before.Size > most || version.Size > most) { say(UiText.Fill(UiStrings.Ui_TooLargeToDiff, Units.HumanBytes(most))); return; }
        Copy(before, Title, (a, _) =>
        {
            List<string> lines;
            List<LineKind> kinds;
            using (a)
            {
                if (viewing.Binary || LooksBinary(a))
                {
                    lines = [UiText.Fill(UiStrings.Ui_BinaryDiffers, Units.HumanBytes(before.Size), Units.HumanBytes(version.Size))];
                    kinds = [LineKind.Note];
                }
                else
                {
                    (lines, kinds) = UnifiedDiff.Build(ReadAll(a), ReadAll(bytes), $"/{version.Resolved} ({UiText.Fill(UiStrings.Ui_DiffLayerLabel, before.Layer)})", $"/{version.Resolved} ({UiText.Fill(UiStrings.Ui_DiffLayerLabel, viewing.Layer)})");
                    if (lines.Count <= 2)
                    {
                        lines.Add(UiText.Fill(UiStrings.Ui_SameContent, before.Attributes.Diff(version.Attributes)));
                        kinds.Add(LineKind.Note);
                    }
                }
            }
            Show(viewing with { Diff = true }, new ListContent(lines, kinds));
        }, error =>
        {
            Show(viewing, Content(viewing));
            say(error);
        });
    }

    /// <summary>x: the file's bytes in hex, or back to text.</summary>
    public void ToggleHex()
    {
        if (IsCopying) return;
        if (_viewing is not { Bytes: not null } viewing) { say(UiStrings.Ui_NoHexHere); return; }
        var next = viewing with { Hex = !viewing.Hex, Diff = false };
        Show(next, Content(next));
    }

    /// <summary>Closes the viewer; a copy under way stops (and the status line says so).</summary>
    public void Close() => Close(quietly: false);

    private void Close(bool quietly)
    {
        if (_pending is { } p)
        {
            p.Spool.Dispose();
            _pending = null;
            if (!quietly) say(UiText.Fill(UiStrings.Ui_ViewerCopyCancelled, p.What));
        }
        Pager.Content.Dispose();
        Pager.Content = new ListContent([]);
        _viewing?.Bytes?.Dispose();
        _viewing = null;
        Title = "";
    }

    /// <summary>Follows a copy under way: its progress, and once it has ended, what it was for. True when what is shown changed.</summary>
    public bool Poll()
    {
        if (_pending is not { } p) return false;
        var spool = p.Spool;
        if (!spool.IsCompleted)
        {
            long written = spool.Written;
            if (written == p.Shown) return false;
            p.Shown = written;
            Pager.Content.Dispose();
            Pager.Content = new ListContent(
            [
                UiText.Fill(UiStrings.Ui_ViewerCopyInProgress, p.What, p.Layer, Units.HumanBytes(written), Units.HumanBytes(spool.Expected)),
                UiText.Fill(UiStrings.Ui_ViewerCopyCancelKeys, cancelKeys),
            ], [LineKind.Normal, LineKind.Note]);
            return true;
        }
        _pending = null;
        switch (spool.State)
        {
            case SpoolState.Done or SpoolState.Limited:
                p.Done(spool.Take(), spool.State == SpoolState.Limited);
                break;
            case SpoolState.Failed:
                spool.Dispose();
                spool.ThrowUnexpected();
                p.Failed(UiText.Fill(UiStrings.Ui_NotViewed, spool.Error));
                break;
            default: // cancelled: by closing, which has already said so
                spool.Dispose();
                break;
        }
        return true;
    }

    /// <summary>Starts copying a version's bytes; the viewer shows the progress until <paramref name="done"/> or <paramref name="failed"/>.</summary>
    private void Copy(FileVersion version, string title, Action<Stream, bool> done, Action<string> failed)
    {
        var read = ReadContent!;
        Spool spool;
        try
        {
            spool = new Spool((output, ct) => read(version, output, ct), version.Size, Limit, Folder);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            say(UiText.Fill(UiStrings.Ui_NotViewed, ex.Message));
            return;
        }
        _pending = new Pending(spool, "/" + version.Resolved, version.Layer, done, failed);
        Title = title;
        // a small file is there at once, with no progress flashing by
        spool.Wait(TimeSpan.FromMilliseconds(50));
        Poll();
    }

    private void Show(Viewing viewing, PagerContent content)
    {
        if (_pending is { } p)
        {
            p.Spool.Dispose(); // something else is shown: the copy for what was asked before is not wanted
            _pending = null;
        }
        if (_viewing?.Bytes is { } old && !ReferenceEquals(old, viewing.Bytes)) old.Dispose();
        Pager.Content.Dispose();
        _viewing = viewing;
        Pager.Content = content;
        Title = viewing.Diff ? viewing.Title + " · " + UiStrings.Ui_DiffMode : viewing.Title;
    }

    /// <summary>The file's bytes as text or hex (a view of the copy the viewing holds), with a note at the end where the copy holds only its first part.</summary>
    private PagerContent Content(Viewing viewing)
    {
        var bytes = viewing.Bytes!;
        PagerContent content = viewing.Hex ? new HexContent(bytes) : new TextFileContent(bytes);
        if (!viewing.Limited) return content;
        long rest = Math.Max(0, viewing.Version!.Size - bytes.Length);
        return new NotedContent(content, UiText.Fill(UiStrings.Ui_ViewerRestNotShown, Units.HumanBytes(rest), Units.HumanBytes(Limit)));
    }

    /// <summary>A NUL in the first 8000 bytes makes a file binary (as git and GNU diff decide).</summary>
    private static bool LooksBinary(Stream s)
    {
        var head = new byte[8000];
        int n = s.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        s.Position = 0;
        return head.AsSpan(0, n).Contains((byte)0);
    }

    /// <summary>A copy's text from its start (the copy stays open for the views that share it).</summary>
    private static string ReadAll(Stream s)
    {
        s.Position = 0;
        using var reader = new StreamReader(s, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16, leaveOpen: true);
        return reader.ReadToEnd();
    }

    public void Dispose() => Close(quietly: true);
}
