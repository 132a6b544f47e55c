using LayerDive.Core.Analysis;
using LayerDive.Core.Loading;
using LayerDive.Core.Model;
using LayerDive.Ui.Viewer;
using Terminal.Gui.Drawing;
using Terminal.Gui.Input;
using Terminal.Gui.ViewBase;
using Terminal.Gui.Views;
using LayerDive.Resources;

namespace LayerDive.Ui.Explorer;

/// <summary>
/// The explorer's window: layers and details on the left, the merged file tree on the right, the status
/// line at the bottom, and the viewer over them. It lays out and draws what its
/// <see cref="ExplorerViewModel"/> holds, gives the focus to the pane the view-model names, and forwards
/// to it the command a key is bound to (<see cref="KeyMap"/>); the one-line prompt (filter, search,
/// extract-to) is its text field.
/// </summary>
public sealed class ExplorerWindow : Window
{
    private readonly LayersView _layers;
    private readonly FileTreeView _tree;
    private readonly TextLinesView _layerDetails, _imageDetails;
    private readonly FrameView _treeFrame, _viewerFrame;
    private readonly StatusLine _status;
    private readonly TextField _prompt;
    private readonly PagerView _pager;
    private bool _syncing, _again;
    private Action? _afterInput;

    /// <summary>
    /// The explorer over <paramref name="model"/>, which may still be loading: then <paramref name="dive"/>
    /// is null, only the merged layers can be selected, and <see cref="Follow"/> (or <see cref="Refresh"/> and
    /// <see cref="Completed"/>) brings in the rest as the load tells of it.
    /// </summary>
    public ExplorerWindow(ImageModel model, DiveMetricsResult? dive, bool color, ImageModel? compareWith = null, ExplorerSettings? settings = null)
    {
        settings ??= new ExplorerSettings();
        ViewModel = new ExplorerViewModel(model, dive, compareWith, settings);
        var palette = new Palette(color, settings.Theme);
        BorderStyle = LineStyle.None;
        if (palette.Scheme is { } scheme) SetScheme(scheme);

        // dive's filetree.pane-width is the tree's share; LayerDive's own layout gives it 60 %
        int left = settings.PaneWidth is double w ? (int)Math.Round(100 * (1 - w)) : 40;
        var layersFrame = new FrameView { Title = UiStrings.Ui_Layers, X = 0, Y = 0, Width = Dim.Percent(left), Height = Dim.Percent(45), TabStop = TabBehavior.TabStop };
        _layers = new LayersView(ViewModel, palette) { Width = Dim.Fill(), Height = Dim.Fill(), CanFocus = true };
        layersFrame.Add(_layers);
        var layerDetailsFrame = new FrameView { Title = UiStrings.Ui_LayerDetails, X = 0, Y = Pos.Bottom(layersFrame), Width = Dim.Percent(left), Height = Dim.Percent(30), CanFocus = false };
        _layerDetails = new TextLinesView { Width = Dim.Fill(), Height = Dim.Fill() };
        layerDetailsFrame.Add(_layerDetails);
        var imageFrame = new FrameView { Title = UiStrings.Ui_ImageDetails, X = 0, Y = Pos.Bottom(layerDetailsFrame), Width = Dim.Percent(left), Height = Dim.Fill(1), CanFocus = false };
        _imageDetails = new TextLinesView { Width = Dim.Fill(), Height = Dim.Fill() };
        imageFrame.Add(_imageDetails);
        _treeFrame = new FrameView { X = Pos.Right(layersFrame), Y = 0, Width = Dim.Fill(), Height = Dim.Fill(1), TabStop = TabBehavior.TabStop };
        _tree = new FileTreeView(ViewModel.Tree, palette) { Width = Dim.Fill(), Height = Dim.Fill(), CanFocus = true };
        _treeFrame.Add(_tree);
        _status = new StatusLine { X = 0, Y = Pos.AnchorEnd(1), Width = Dim.Fill(), Height = 1 };
        _prompt = new TextField { X = 9, Y = Pos.AnchorEnd(1), Width = Dim.Fill(), Height = 1, Visible = false };
        _pager = new PagerView(ViewModel.Viewer.Pager, palette) { Width = Dim.Fill(), Height = Dim.Fill(), CanFocus = true };
        _viewerFrame = new FrameView { X = 0, Y = 0, Width = Dim.Fill(), Height = Dim.Fill(1), Visible = false, TabStop = TabBehavior.NoStop };
        _viewerFrame.Add(_pager);
        Add(layersFrame, layerDetailsFrame, imageFrame, _treeFrame, _status, _prompt, _viewerFrame);

        _prompt.TextChanged += (_, _) => ViewModel.PromptTyped(_prompt.Text);
        // the filter is matched once the keys typed at once are handled: the UI loop handles all the input it
        // holds, then lays out and draws, so a layout asked for runs it after the last key and before the draw
        // that shows it; a timeout too, should nothing be laid out (Invoke would run it at once)
        ViewModel.AfterInput = action =>
        {
            _afterInput = action;
            if (App is not { } app)
            {
                RunAfterInput();
                return;
            }
            SetNeedsLayout();
            app.AddTimeout(TimeSpan.Zero, () =>
            {
                RunAfterInput();
                return false;
            });
        };
        // a click moves the focus too: the keys then go to that pane
        _layers.HasFocusChanged += (_, _) => { if (_layers.HasFocus) ViewModel.FocusPane(Pane.Layers); };
        _tree.HasFocusChanged += (_, _) => { if (_tree.HasFocus) ViewModel.FocusPane(Pane.Tree); };
        ViewModel.Changed += Sync;
        ViewModel.QuitRequested += () => App?.RequestStop();
        Sync();
    }

    public ExplorerViewModel ViewModel { get; }

    public FileTree Tree => ViewModel.Tree;

    public LayersView Layers => _layers;

    public bool IsComplete => ViewModel.IsComplete;

    /// <summary>An explanation is open (it is shown in the viewer).</summary>
    public bool ExplainVisible => ViewModel.Viewer.IsOpen;

    /// <summary>While the image is read: shows the layers merged since, and how far the read has come.</summary>
    public void Refresh(LoadProgress? progress) => ViewModel.Refresh(progress);

    /// <summary>The image is read: its figures come in.</summary>
    public void Completed(DiveMetricsResult dive) => ViewModel.Completed(dive);

    /// <summary>
    /// Shows how far the load has come, on the UI loop, when the load tells (a layer merged, its
    /// progress, its end): the layers merged since and <paramref name="progress"/>, or at its end the
    /// image's figures (<paramref name="dive"/>). False when the load failed: the explorer ends with its error.
    /// </summary>
    public bool Follow(Task completion, Func<DiveMetricsResult> dive, LoadProgress? progress)
    {
        if (IsComplete) return true;
        if (completion.IsFaulted || completion.IsCanceled) return false;
        if (completion.IsCompleted) Completed(dive());
        else Refresh(progress);
        return true;
    }

    /// <summary>The explorer's ticker calls it on the UI loop: a copy into the viewer shows its progress and its end.</summary>
    public bool Tick() => ViewModel.Poll();

    /// <summary>Shows what the view-model holds: titles, details, the viewer, the prompt, the focus and the status line.</summary>
    private void Sync()
    {
        if (_syncing)
        {
            _again = true; // something changed while this was shown (the prompt's text, say): show it again after
            return;
        }
        _syncing = true;
        try
        {
            do
            {
                _again = false;
                Show();
            }
            while (_again);
        }
        finally
        {
            _syncing = false;
        }
    }

    private void Show()
    {
        var vm = ViewModel;
        Title = vm.Title;
        _treeFrame.Title = vm.TreeTitle;
        _layerDetails.Lines = vm.LayerDetails;
        _imageDetails.Lines = vm.ImageDetails;
        if (_viewerFrame.Visible != vm.Viewer.IsOpen)
        {
            _viewerFrame.Visible = vm.Viewer.IsOpen;
            SetNeedsDraw();
        }
        _viewerFrame.Title = vm.Viewer.Title;
        bool prompting = vm.Mode is InputMode.Filter or InputMode.Search or InputMode.ExtractTo;
        if (prompting && !_prompt.Visible)
        {
            _prompt.X = vm.PromptColumn;
            _prompt.Visible = true;
            _prompt.Text = vm.PromptStart;
        }
        else if (!prompting && _prompt.Visible)
        {
            _prompt.Visible = false;
            _prompt.Text = "";
        }
        View focus = prompting ? _prompt : vm.Viewer.IsOpen ? _pager : vm.Focus == Pane.Tree ? _tree : _layers;
        if (!focus.HasFocus) focus.SetFocus();
        _status.Set(vm.Status());
        _layers.SetNeedsDraw();
        _tree.SetNeedsDraw();
        _pager.SetNeedsDraw();
    }

    private void RunAfterInput()
    {
        var action = _afterInput;
        _afterInput = null;
        action?.Invoke();
    }

    protected override void OnSubViewLayout(LayoutEventArgs args)
    {
        RunAfterInput();
        base.OnSubViewLayout(args);
    }

    protected override bool OnKeyDown(Key key)
    {
        var vm = ViewModel;
        if (vm.Mode is InputMode.Filter or InputMode.Search or InputMode.ExtractTo) return PromptKey(key);
        var binding = vm.Keys.Find(key, vm.KeyPane);
        // while a file is copied into the viewer, the quit keys (Ctrl+C) stop the copy, as Esc does
        if (binding is null && vm.Viewer.IsCopying && vm.Keys.Is(UiCommand.Quit, key)) binding = vm.Keys.Get(UiCommand.Quit);
        // Esc closes overlays and prompts; it never quits. Nothing else unbound gets through in the viewer.
        if (binding is null) return key == Key.Esc || vm.Mode == InputMode.Viewer || base.OnKeyDown(key);
        vm.Execute(binding.Command);
        return true;
    }

    /// <summary>A key while the prompt is open: Enter or the close keys end it; the rest is the prompt's text.</summary>
    private bool PromptKey(Key key)
    {
        bool close = key == Key.Esc || ViewModel.Keys.Is(UiCommand.CloseFilter, key);
        if (!close && key != Key.Enter) return false;
        ViewModel.EndPrompt(accepted: !close, _prompt.Text);
        return true;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) ViewModel.Dispose(); // the viewer's copy of a file, if it is still open
        base.Dispose(disposing);
    }
}
