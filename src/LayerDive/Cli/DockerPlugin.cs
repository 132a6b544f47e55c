using System.Reflection;
using LayerDive.Core;
using LayerDive.Core.Resources;

namespace LayerDive.Cli;

/// <summary>
/// Docker's CLI plugin protocol, so that <c>docker layerdive IMAGE</c> works: docker runs
/// <c>docker-layerdive docker-cli-plugin-metadata</c> to learn about the plugin, then
/// <c>docker-layerdive [GLOBAL OPTIONS] layerdive ARGS</c> with the environment variable
/// <c>DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND</c> set. The global options that choose the engine
/// (<c>--context</c>, <c>--host</c>, <c>--config</c>) become the variables that say the same.
/// </summary>
internal static class DockerPlugin
{
    public const string MetadataCommand = "docker-cli-plugin-metadata";
    public const string Name = "layerdive";

    public static string Version =>
        typeof(DockerPlugin).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0";

    public static string Metadata =>
        $$"""{"SchemaVersion":"0.1.0","Vendor":"LayerDive","Version":"{{Version}}","ShortDescription":"Look inside an image layer by layer, with a correct OverlayFS merge"}""";

    /// <summary>Turns a plugin invocation into LayerDive's own arguments and environment; false when this is not one.</summary>
    public static bool Unwrap(string[] args, CliContext context, out string[] ours, out CliContext adjusted)
    {
        (ours, adjusted) = (args, context);
        if (context.GetEnvironment("DOCKER_CLI_PLUGIN_ORIGINAL_CLI_COMMAND") is not { Length: > 0 }) return false;
        var env = new Dictionary<string, string>();
        int i = 0;
        for (; i < args.Length && args[i] != Name; i++)
        {
            string option = args[i], value = "";
            int eq = option.IndexOf('=');
            if (option.StartsWith("--", StringComparison.Ordinal) && eq > 0) (option, value) = (option[..eq], option[(eq + 1)..]);
            else if (option is "-c" or "--context" or "-H" or "--host" or "--config" or "-l" or "--log-level" or "--tlscacert" or "--tlscert" or "--tlskey" && i + 1 < args.Length)
                value = args[++i];
            switch (option)
            {
                case "-c" or "--context": env["DOCKER_CONTEXT"] = value; break;
                case "-H" or "--host": env["DOCKER_HOST"] = value; break;
                case "--config": env["DOCKER_CONFIG"] = value; break;
                case "--tlsverify": env["DOCKER_TLS_VERIFY"] = "1"; break;
                case "--tlscacert": env["DOCKER_CERT_PATH"] = Path.GetDirectoryName(value) ?? ""; break;
            }
        }
        if (i == args.Length) return false;
        ours = args[(i + 1)..];
        var outer = context.GetEnvironment;
        adjusted = context with { GetEnvironment = name => env.TryGetValue(name, out var v) ? v : outer(name) };
        return true;
    }

    /// <summary>
    /// Links the running executable as <c>~/.docker/cli-plugins/docker-layerdive</c> (in DOCKER_CONFIG
    /// when set); the runtime build, run by dotnet, gets a two-line script that runs it.
    /// </summary>
    public static int Install(CliContext context)
    {
        var configDir = context.GetEnvironment("DOCKER_CONFIG") is { Length: > 0 } dc ? dc
            : Path.Combine(context.GetEnvironment("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".docker");
        var folder = Path.Combine(configDir, "cli-plugins");
        Directory.CreateDirectory(folder);
        var target = Path.Combine(folder, "docker-" + Name);
        if (File.Exists(target) || new FileInfo(target).LinkTarget is not null) File.Delete(target);
        var process = Environment.ProcessPath ?? throw new InvalidOperationException("the running executable is unknown");
        if (Path.GetFileNameWithoutExtension(process) == "dotnet")
        {
            var dll = Path.Combine(AppContext.BaseDirectory, "layerdive.dll");
            File.WriteAllText(target, $"#!/bin/sh\nexec '{process}' '{dll}' \"$@\"\n");
            if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) File.SetUnixFileMode(target, (UnixFileMode)0b111_101_101);
        }
        else File.CreateSymbolicLink(target, process);
        context.Out.WriteLine(Text.Fill(Strings.Plugin_Installed, target, Name));
        return CommandLine.ExitOk;
    }
}
