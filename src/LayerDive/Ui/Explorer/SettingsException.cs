namespace LayerDive.Ui.Explorer;

/// <summary>A configuration value that cannot be used: the one line names the file (or variable), the key and the value.</summary>
public sealed class SettingsException(string message) : Exception(message);
