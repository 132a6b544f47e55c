using LayerDive.Ui.Explorer;
using LayerDive.Ui.Viewer;
using Terminal.Gui.Drawing;
using Attr = Terminal.Gui.Drawing.Attribute;
using C = Terminal.Gui.Drawing.Color;

namespace LayerDive.Ui;

/// <summary>
/// The explorer's colours, from its theme (<c>dark</c>, <c>light</c>, <c>high-contrast</c>): the panes' text
/// and background, the colours of added, modified and removed paths, dimmed lines, and a diff's lines. With
/// no colour (NO_COLOR, <c>--no-color</c>), none at all, whatever the theme: the cursor is then shown reversed.
/// </summary>
public sealed class Palette
{
    public static readonly string[] Themes = ["dark", "light", "high-contrast"];

    private readonly C _added, _modified, _removed, _dim, _hunk, _selected;

    public Palette(bool color, string theme = "dark")
    {
        Color = color;
        Theme = theme;
        (Normal, _added, _modified, _removed, _dim, _hunk, _selected) = theme switch
        {
            // on a white background yellow cannot be read (dive #680, #695): modified is blue there
            "light" => (new Attr(C.Black, C.White), new C(0, 110, 0), new C(0, 60, 180), new C(180, 0, 0), new C(100, 100, 100), new C(130, 0, 130), new C(200, 200, 200)),
            "high-contrast" => (new Attr(C.White, C.Black), C.BrightGreen, C.BrightYellow, C.BrightRed, C.Gray, C.BrightCyan, C.White),
            _ => (new Attr(C.Gray, C.Black), C.Green, C.Yellow, C.Red, C.DarkGray, C.Cyan, C.Gray),
        };
    }

    public bool Color { get; }
    public string Theme { get; }

    /// <summary>The panes' text on their background.</summary>
    public Attr Normal { get; }

    /// <summary>The scheme the explorer's window gives every view in it; null without colour (the terminal's own).</summary>
    public Scheme? Scheme => Color ? new Scheme(Normal) : null;

    public Attr For(RowStatus status, Attr normal) => !Color ? normal : status switch
    {
        RowStatus.Added => new Attr(_added, normal.Background),
        RowStatus.Modified => new Attr(_modified, normal.Background),
        RowStatus.Removed => new Attr(_removed, normal.Background),
        _ => normal,
    };

    public Attr ForLine(LineKind kind, Attr normal) => !Color ? normal : kind switch
    {
        LineKind.Added => new Attr(_added, normal.Background),
        LineKind.Removed => new Attr(_removed, normal.Background),
        LineKind.Hunk => new Attr(_hunk, normal.Background),
        LineKind.Note => new Attr(_dim, normal.Background),
        _ => normal,
    };

    public Attr Cursor(Attr a) => new(a.Background, a.Foreground);

    public Attr Dim(Attr normal) => Color ? new Attr(_dim, normal.Background) : normal;

    /// <summary>The selected layer while the tree has the focus.</summary>
    public Attr Selected(Attr normal) => Color ? new Attr(C.Black, _selected) : Cursor(normal);
}
