using LayerDive.Core.Loading;

namespace LayerDive.Cli;

/// <summary>
/// Progress on stderr for a non-interactive run (CI mode): one line every few seconds while an image
/// reads slowly (an engine's export, a large archive), nothing for a quick one, nothing once it is done.
/// </summary>
internal sealed class StderrProgress(string image, TextWriter stderr) : IProgress<LoadProgress>, IDisposable
{
    private static readonly TimeSpan Every = TimeSpan.FromSeconds(2);
    private readonly object _gate = new();
    private TimeSpan _next = Every;
    private bool _stopped;

    public void Report(LoadProgress value)
    {
        lock (_gate)
        {
            if (_stopped || value.Elapsed < _next || (value.LayerCount > 0 && value.LayersMerged == value.LayerCount)) return;
            _next = value.Elapsed + Every;
            stderr.WriteLine($"layerdive: {image}: {Core.Reports.ProgressText.Of(value)}");
        }
    }

    public void Dispose()
    {
        lock (_gate) _stopped = true;
    }
}
