using System.Diagnostics;
using LayerDive.Core.Resources;
using LayerDive.Core.Sources.OnePass;

namespace LayerDive.Core.Sources.Engines;

/// <summary>Podman without its socket: <c>podman image save</c>'s docker-archive read from its output as it comes.</summary>
internal static class PodmanCommand
{
    public static bool Available(SourceOptions options) => Program(options) is not null;

    /// <summary>The podman on the run's PATH (which may not be the process's).</summary>
    private static string? Program(SourceOptions options) =>
        (options.Env("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Select(d => Path.Combine(d, "podman")).FirstOrDefault(File.Exists);

    public static IImageSource Open(string name, SourceOptions options, string? socketMiss, CancellationToken ct)
    {
        using (var exists = Start(options, "image", "exists", name))
        {
            exists.WaitForExit();
            if (exists.ExitCode != 0)
                throw new ImageException(FaultKind.NotFound, Text.Fill(Strings.Engine_PodmanNoImage, name, socketMiss ?? Strings.Engine_NoSocket));
        }
        var save = Start(options, "image", "save", "--format", "docker-archive", name);
        var owner = new ProcessOwner(save);
        try
        {
            var source = StreamSource.Open(save.StandardOutput.BaseStream, $"{EngineSource.Podman}://{name}", Text.Fill(Strings.Engine_PodmanSaveOutput, name), options, ct);
            return new Named(source, EngineSource.Podman, options.BareName ? Text.Fill(Strings.Engine_ReadThroughPodmanSave, socketMiss ?? Strings.Engine_NoSocket) : null, owner);
        }
        catch
        {
            owner.Dispose();
            throw;
        }
    }

    private static Process Start(SourceOptions options, params string[] args)
    {
        var info = new ProcessStartInfo(Program(options) ?? "podman") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        if (options.Environment is not null)
            foreach (var key in new[] { "PATH", "HOME", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "CONTAINERS_STORAGE_CONF", "CONTAINERS_CONF" })
                if (options.Env(key) is { } value) info.Environment[key] = value;
        var p = Process.Start(info) ?? throw new ImageException(FaultKind.Unreachable, Strings.Engine_PodmanNotStarted);
        p.ErrorDataReceived += (_, _) => { };
        p.BeginErrorReadLine();
        return p;
    }

    /// <summary>Ends the podman process with the source (killed if the read stopped early).</summary>
    private sealed class ProcessOwner(Process process) : IDisposable
    {
        public void Dispose()
        {
            if (!process.HasExited)
            {
                try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            }
            process.WaitForExit();
            process.Dispose();
        }
    }

    /// <summary>A stream source under the kind and note of the engine that served it.</summary>
    private sealed class Named(IImageSource inner, string kind, string? note, IDisposable owner) : IImageSource
    {
        public string Kind => kind;
        public string Location => inner.Location;
        public string? Note => note;
        public IReadOnlyList<ImageCandidate> Candidates => inner.Candidates;

        public void Dispose()
        {
            inner.Dispose();
            owner.Dispose();
        }
    }
}
