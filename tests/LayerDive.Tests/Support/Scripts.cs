using System.Diagnostics;

namespace LayerDive.Tests.Support;

/// <summary>Runs a shell script of tests/ with the built layerdive, as a user's terminal or CI job would.</summary>
public static class Scripts
{
    public static string Layerdive => $"dotnet {Path.Combine(AppContext.BaseDirectory, "layerdive.dll")}";

    public static async Task<(int ExitCode, string Output)> Run(string script, params string[] args)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(Paths.RepoRoot, script));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment.Remove("DisableRealDriverIO"); // set for the headless tests; a real terminal needs real output
        using var p = Process.Start(psi)!;
        var ct = TestContext.Current.CancellationToken;
        var output = p.StandardOutput.ReadToEndAsync(ct);
        var errors = await p.StandardError.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct);
        return (p.ExitCode, await output + errors);
    }

    /// <summary>Runs a program (no CI variable: CI=true means CI mode to layerdive) and returns its exit code and what it printed.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Exec(string file, params string[] args) => Exec(file, null, args);

    /// <summary>As <see cref="Exec(string, string[])"/>, with variables set (or, with an empty value, removed) on top of the process's.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Exec(string file, IReadOnlyDictionary<string, string>? environment, params string[] args) =>
        ExecIn(null, file, environment, args);

    /// <summary>As <see cref="Exec(string, IReadOnlyDictionary{string, string}?, string[])"/>, in <paramref name="folder"/>.</summary>
    public static (int ExitCode, string Stdout, string Stderr) ExecIn(string? folder, string file, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = folder ?? "" };
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment.Remove("CI");
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
            if (v.Length == 0) psi.Environment.Remove(k);
            else psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr);
    }

    public static bool OnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, tool)));
}
