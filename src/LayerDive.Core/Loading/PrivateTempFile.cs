namespace LayerDive.Core.Loading;

/// <summary>
/// A temporary file only this process can read (created 0600, never readable by others even for a
/// moment) and with no name left behind: on Linux it is unlinked as soon as it is open, so a killed
/// run leaves nothing; elsewhere it is deleted when closed.
/// </summary>
internal static class PrivateTempFile
{
    /// <param name="folder">Where it is made (the temporary folder when null).</param>
    /// <param name="prefix">The start of its short-lived name.</param>
    public static FileStream Create(string? folder = null, string prefix = "layerdive")
    {
        var path = Path.Combine(folder ?? Path.GetTempPath(), $"{prefix}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Share = FileShare.None,
            BufferSize = 1 << 16,
            Options = FileOptions.DeleteOnClose,
        };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        var file = new FileStream(path, options);
        if (OperatingSystem.IsLinux())
        {
            try { File.Delete(path); } // the open handle keeps it
            catch
            {
                file.Dispose();
                throw;
            }
        }
        return file;
    }
}
