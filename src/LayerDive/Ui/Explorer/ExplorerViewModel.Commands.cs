using LayerDive.Core;
using LayerDive.Core.Analysis;
using LayerDive.Core.Reports;
using LayerDive.Core.Resources;
using LayerDive.Resources;

namespace LayerDive.Ui.Explorer;

/// <summary>The explorer's commands: what each does, and for a toggle whether it is on.</summary>
public sealed partial class ExplorerViewModel
{
    private readonly Dictionary<UiCommand, Handler> _commands;

    /// <summary>What a command does, and for a toggle whether it is on (the status bar highlights it).</summary>
    private readonly record struct Handler(Action Run, Func<bool>? IsOn = null);

    /// <summary>The last command run (for the test that presses every binding).</summary>
    public UiCommand? LastCommand { get; private set; }

    /// <summary>Runs a command (the window forwards the one a key is bound to); each checks where it applies.</summary>
    public void Execute(UiCommand command)
    {
        Message = null; // a message lasts until the next key
        LastCommand = command;
        _commands[command].Run();
        Changed?.Invoke();
    }

    /// <summary>Whether the command's toggle is on (false for a command that is no toggle).</summary>
    public bool IsActive(UiCommand command) => _commands[command].IsOn?.Invoke() == true;

    private Dictionary<UiCommand, Handler> Commands() => new()
    {
        // while a file is copied into the viewer, the quit keys stop the copy (as the close keys do)
        [UiCommand.Quit] = new(() => { if (Viewer.IsCopying) Viewer.Close(); else QuitRequested?.Invoke(); }),
        [UiCommand.Switch] = new(() => FocusPane(Focus == Pane.Tree ? Pane.Layers : Pane.Tree)),
        [UiCommand.Filter] = new(() => Prompt(InputMode.Filter, 9, Tree.Rows.Filter?.ToString() ?? "")),
        [UiCommand.CloseFilter] = new(() => { }), // the prompt's own key: it ends the prompt (EndPrompt)
        [UiCommand.Help] = new(() => { if (HelpVisible) Viewer.Close(); else Viewer.ShowLines(UiStrings.Ui_HelpTitle, Layer, HelpLines()); }),
        [UiCommand.Up] = new(() => Move(-1, page: false)),
        [UiCommand.Down] = new(() => Move(1, page: false)),
        [UiCommand.PageUp] = new(() => Move(-1, page: true)),
        [UiCommand.PageDown] = new(() => Move(1, page: true)),
        [UiCommand.LayerChanges] = new(() => { Tree.Rows.Aggregate = false; ShowLayer(Layer); }, () => !Tree.Rows.Aggregate),
        [UiCommand.Aggregated] = new(() => { Tree.Rows.Aggregate = true; ShowLayer(Layer); }, () => Tree.Rows.Aggregate),
        [UiCommand.Parent] = new(Tree.Parent),
        [UiCommand.Expand] = new(Tree.Expand),
        [UiCommand.View] = new(ViewSelected),
        [UiCommand.Fold] = new(Tree.Fold),
        [UiCommand.FoldAll] = new(Tree.FoldAll),
        [UiCommand.Added] = ShowKind(RowStatus.Added),
        [UiCommand.Removed] = ShowKind(RowStatus.Removed),
        [UiCommand.Modified] = ShowKind(RowStatus.Modified),
        [UiCommand.Unmodified] = ShowKind(RowStatus.Unmodified),
        [UiCommand.Attributes] = new(Tree.ToggleAttributes, () => Tree.ShowAttributes),
        [UiCommand.Sort] = new(Tree.ToggleSort, () => Tree.Rows.SortBySize),
        [UiCommand.Wrap] = new(Tree.ToggleWrap, () => Tree.Wrap),
        [UiCommand.Extract] = new(() =>
        {
            if (Extract is null) return;
            if (!IsComplete) { Say(UiStrings.Ui_StillReading); return; }
            Prompt(InputMode.ExtractTo, 12, "");
        }),
        [UiCommand.Explain] = new(ExplainSelected),
        [UiCommand.Waste] = new(JumpToWaste),
        [UiCommand.Search] = new(() => Prompt(InputMode.Search, 9, "")),
        [UiCommand.SearchNext] = new(() => { if (!Find(forward: true)) Say(UiText.Fill(UiStrings.Ui_SearchNoMatch, SearchText)); }),
        [UiCommand.SearchPrevious] = new(() => { if (!Find(forward: false)) Say(UiText.Fill(UiStrings.Ui_SearchNoMatch, SearchText)); }),
        [UiCommand.Config] = new(() => Viewer.ShowLines(UiStrings.Ui_ConfigTitle, Layer, ConfigListing.Lines(Model))),
        [UiCommand.Problems] = new(() =>
        {
            if (!IsComplete) { Say(UiStrings.Ui_StillReading); return; }
            Viewer.ShowLines(UiText.Fill(UiStrings.Ui_ProblemsTitle, Model.Problems.Count), Layer,
                Model.Problems.Count == 0 ? [UiStrings.Ui_ProblemsListEmpty] : [.. Model.Problems.Select(p => p.ToString())]);
        }),
        [UiCommand.Advice] = new(ChooseAdvice),
        [UiCommand.ViewerDiff] = new(Viewer.ToggleDiff, () => Viewer.Current?.Diff == true),
        [UiCommand.ViewerHex] = new(Viewer.ToggleHex, () => Viewer.Current?.Hex == true),
        [UiCommand.ViewerTop] = new(() => Viewer.Pager.ScrollTo(0)),
        [UiCommand.ViewerEnd] = new(Viewer.Pager.End),
        [UiCommand.ViewerClose] = new(Viewer.Close),
    };

    /// <summary>A toggle that shows or hides the tree's rows of one kind of change; on while they are shown.</summary>
    private Handler ShowKind(RowStatus kind) => new(() => Tree.ToggleHidden(kind), () => !Tree.Rows.Hidden.Contains(kind));

    private void Move(int direction, bool page)
    {
        switch (KeyPane)
        {
            case Pane.Viewer: Viewer.Pager.ScrollBy(direction * (page ? Viewer.Pager.PageSize : 1)); break;
            case Pane.Tree: if (page) Tree.Page(direction); else Tree.MoveBy(direction); break;
            default: MoveLayer(direction * (page ? Math.Max(1, LayerPageRows) : 1)); break;
        }
    }

    /// <summary>Enter: a file's content as of the selected layer, a link's target; a directory folds.</summary>
    private void ViewSelected()
    {
        if (Tree.Current is not { } row) return;
        if (row.Attributes.IsDirectory) { Tree.Fold(); return; }
        Viewer.OpenFile(row.Node.Path, Tree.Rows.Layer);
    }

    private void ExplainSelected()
    {
        if (!IsComplete) { Say(UiStrings.Ui_StillReading); return; }
        if (Tree.Current is not { } row) return;
        var explanation = Explainer.Explain(Model, row.Node.Path);
        var lines = explanation is null ? [Strings.Explain_NoLayerWrote] : Explainer.Describe(explanation).ToList();
        if (CompareWith is { } a)
        {
            // compare mode: the same path's story in A
            var before = Explainer.Explain(a, row.Node.Path);
            lines = [UiText.Fill(UiStrings.Ui_InImage, "B", Label(Model)), .. lines, "", UiText.Fill(UiStrings.Ui_InImage, "A", Label(a)), .. (before is null ? [Strings.Explain_NoLayerWrote] : Explainer.Describe(before))];
        }
        Viewer.ShowLines(UiText.Fill(UiStrings.Ui_ExplainTitle, "/" + row.Node.Path), Tree.Rows.Layer, lines);
    }

    /// <summary>How the advice is worked out (the explorer's load reads secret markers back); by default from the model alone.</summary>
    public Func<Core.Analysis.Advice.AdviceResult>? AdviceSource { get; set; }

    private Core.Analysis.Advice.AdviceResult? _advice;
    private int _adviceChosen = -1;
    private string? _adviceTitle;

    /// <summary>
    /// <c>a</c>: the advice, in the viewer; each press while it shows chooses the next finding. The finding
    /// chosen selects the layer that stored its largest path, and the tree shows its listed paths (a filter,
    /// cleared as any filter is); Esc closes the list onto them, where <c>e</c> explains a path.
    /// </summary>
    private void ChooseAdvice()
    {
        if (!IsComplete) { Say(UiStrings.Ui_StillReading); return; }
        _advice ??= AdviceSource?.Invoke() ?? Core.Analysis.Advice.Advisor.Analyze(Model);
        var findings = _advice.Findings;
        if (findings.Count == 0) { Say(UiStrings.Ui_AdviceNone); return; }
        bool showing = Viewer.IsOpen && Viewer.Title == _adviceTitle;
        if (showing || _adviceChosen < 0) _adviceChosen = (_adviceChosen + 1) % findings.Count;
        var chosen = findings[_adviceChosen];
        SelectLayer(chosen.Paths[0].Layer);
        ApplyFilter("^(" + string.Join("|", chosen.Paths.Select(p => System.Text.RegularExpressions.Regex.Escape(p.Path.TrimStart('/')))) + ")$");
        // the cursor on the largest path (the filter shows the folders above it too)
        if (Model.Find(chosen.Paths[0].Path) is { } largest && Tree.Rows.IndexOf(largest) is var row and >= 0) Tree.MoveTo(row);
        FocusPane(Pane.Tree);
        var lines = new List<string> { Core.Analysis.Advice.AdviceReport.Summary(Model.Name, Model.Layers.Sum(l => l.UncompressedSize), _advice), "" };
        for (int i = 0; i < findings.Count; i++)
        {
            var f = findings[i];
            lines.Add($"{(i == _adviceChosen ? ">" : " ")} {i + 1,3}. {Units.HumanBytes(f.Bytes),9}  {Core.Analysis.Advice.AdviceReport.Title(f)}  "
                + $"{string.Join(",", f.Steps.Select(s => s.Layer))}  {PathText.Escape(f.Paths[0].Path)}{(f.PathCount > 1 ? $" (+{f.PathCount - 1})" : "")}");
        }
        lines.Add("");
        lines.AddRange(Core.Analysis.Advice.AdviceReport.Lines(chosen));
        _adviceTitle = UiText.Fill(UiStrings.Ui_AdviceTitle, _adviceChosen + 1, findings.Count, Core.Analysis.Advice.AdviceReport.KindLabel(chosen.Kind));
        Viewer.ShowLines(_adviceTitle, Layer, lines);
    }

    private void JumpToWaste()
    {
        if (!IsComplete) { Say(UiStrings.Ui_StillReading); return; }
        if (Tree.Current is not { } wasted) return;
        var item = _removable.FirstOrDefault(i => i.Node == wasted.Node); // one tree: the same node is the same path
        if (item is null) { Say(UiText.Fill(UiStrings.Ui_WasteNone, "/" + wasted.Node.Path)); return; }
        SelectLayer(item.StoredBy);
        FocusPane(Pane.Layers);
        string verb = UiText.Lookup(UiStrings.ResourceManager, "Ui_Waste" + item.Reason);
        Say(UiText.Fill(UiStrings.Ui_WasteStoredBy, item.StoredBy, Units.HumanBytes(item.Bytes), "/" + item.Path, item.WastedBy, verb));
    }

    /// <summary>The help's lines: every binding with the keys actually bound, and the rule for layer kinds.</summary>
    private List<string> HelpLines()
    {
        var lines = new List<string>();
        foreach (var k in Keys.All)
        {
            string where = k.Pane switch
            {
                Pane.Any or Pane.All => "",
                _ => "  (" + string.Join(", ", new[] { Pane.Layers, Pane.Tree, Pane.Viewer }.Where(p => (k.Pane & p) != 0).Select(p => UiText.Lookup(UiStrings.ResourceManager, "Ui_Pane" + p))) + ")",
            };
            lines.Add($"{(k.Keys.Count == 0 ? "-" : k.Shown),-18} {k.Action}{where}");
        }
        lines.Add("");
        lines.AddRange(UiStrings.Ui_LayerKindRule.Split('\n'));
        return lines;
    }
}
