namespace LayerDive.Ui.Explorer;

/// <summary>One item of the status bar: a key and what it does (or a message), highlighted when its toggle is on.</summary>
public readonly record struct StatusItem(string Text, bool Active);
