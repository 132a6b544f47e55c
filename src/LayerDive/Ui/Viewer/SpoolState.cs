namespace LayerDive.Ui.Viewer;

/// <summary>How a copy into the viewer ended (or that it has not).</summary>
public enum SpoolState
{
    Copying,
    /// <summary>Every byte is in the copy.</summary>
    Done,
    /// <summary>The file is longer than the limit: the copy holds its first part.</summary>
    Limited,
    Cancelled,
    /// <summary>The bytes could not be read (<see cref="Spool.Error"/> says why).</summary>
    Failed,
}
