using LayerDive.Core.Loading;
using System.Runtime.ExceptionServices;
using LayerDive.Core;

namespace LayerDive.Ui.Viewer;

/// <summary>
/// A file's bytes copied, on a task of their own, into a private temporary file for the viewer to page:
/// the file has no name once created (nothing is left behind, even if the process is killed), holds at
/// most the limit it is given, and stops when disposed while the window goes on taking keys. The window
/// shows <see cref="Written"/> of <see cref="Expected"/> as it goes.
/// </summary>
public sealed class Spool : IDisposable
{
    private readonly CancellationTokenSource _cancel = new();
    private readonly FileStream _file;
    private readonly SpoolStream _output;
    private readonly Task _copy;
    private ExceptionDispatchInfo? _bug;
    private bool _taken, _disposed;

    /// <param name="copy">Writes the bytes into the stream it is given, stopping when the token is cancelled.</param>
    /// <param name="expected">The file's size (0 where not known).</param>
    /// <param name="limit">The most bytes copied.</param>
    /// <param name="folder">Where the temporary file is made.</param>
    public Spool(Func<Stream, CancellationToken, long> copy, long expected, long limit, string folder)
    {
        Expected = expected;
        _file = PrivateTempFile.Create(folder, "layerdive-view"); // nothing is left behind, even if the process is killed
        _output = new SpoolStream(_file, limit);
        var token = _cancel.Token;
        _copy = Task.Run(() => Run(copy, token));
    }

    public long Expected { get; }

    /// <summary>The bytes copied so far.</summary>
    public long Written => _output.Written;

    public SpoolState State { get; private set; }

    /// <summary>Why the bytes could not be read, when <see cref="State"/> is <see cref="SpoolState.Failed"/>.</summary>
    public string? Error { get; private set; }

    public bool IsCompleted => _copy.IsCompleted;

    /// <summary>Waits up to <paramref name="timeout"/> for the copy to end; true when it has.</summary>
    public bool Wait(TimeSpan timeout) => _copy.Wait(timeout);

    private void Run(Func<Stream, CancellationToken, long> copy, CancellationToken token)
    {
        try
        {
            // the copy reads its layer to the end and checks its digests: a part kept at the limit is shown
            // only once the whole layer proved to be what the image names
            copy(_output, token);
            State = _output.Full ? SpoolState.Limited : SpoolState.Done;
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            State = SpoolState.Cancelled;
        }
        catch (Exception ex) when (ex is ImageException or IOException or InvalidDataException or UnauthorizedAccessException)
        {
            State = SpoolState.Failed;
            Error = ex.Message;
        }
        catch (Exception ex)
        {
            State = SpoolState.Failed;
            _bug = ExceptionDispatchInfo.Capture(ex);
        }
    }

    /// <summary>Throws the error that stopped a copy when it was not the image's (a bug, not bad input).</summary>
    public void ThrowUnexpected() => _bug?.Throw();

    /// <summary>
    /// The copy, from its first byte, once it is <see cref="SpoolState.Done"/> or <see cref="SpoolState.Limited"/>:
    /// the caller owns it from then on.
    /// </summary>
    public Stream Take()
    {
        if (State is not (SpoolState.Done or SpoolState.Limited)) throw new InvalidOperationException($"the copy ended {State}");
        _taken = true;
        _file.Position = 0;
        return _file;
    }

    /// <summary>Stops the copy if it is still going; its file (unless taken) is closed when the copy has stopped, without waiting for it here.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _cancel.Cancel();
        _copy.ContinueWith(_ =>
        {
            if (!_taken) _file.Dispose();
            _cancel.Dispose();
        }, TaskScheduler.Default);
    }
}
