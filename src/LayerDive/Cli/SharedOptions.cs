using System.CommandLine;
using LayerDive.Core.Loading;
using LayerDive.Core;
using LayerDive.Core.Sources;

namespace LayerDive.Cli;

/// <summary>The options every command shares (docs/cli.md).</summary>
internal sealed class SharedOptions
{
    public readonly Option<string?> Source = new("--source") { Description = SourceCatalog.Help, Recursive = true };
    public readonly Option<string?> Image = new("--image") { Description = "The image to use when the source holds several (tag, reference or digest prefix)", Recursive = true };
    public readonly Option<string?> Platform = new("--platform") { Description = "Platform of a multi-platform index: os/arch[/variant] (default linux/amd64, else the first)", Recursive = true };
    public readonly Option<bool> NoVerify = new("--no-verify") { Description = "Do not check blob digests and diff ids", Recursive = true };
    public readonly Option<bool> Insecure = new("--insecure") { Description = "Speak plain HTTP to a registry that is not on a loopback address", Recursive = true };
    public readonly Option<string?> Address = new("--address") { Description = "containerd's socket for containerd:// (default: CONTAINERD_ADDRESS, else /run/containerd/containerd.sock, else k3s's)", Recursive = true };
    public readonly Option<string?> Namespace = new("--namespace") { Description = "containerd's namespace for containerd:// (default: CONTAINERD_NAMESPACE, else default; a name found only in another namespace is read from it)", Recursive = true };
    public readonly Option<bool> Quiet = new("--quiet", "-q") { Description = "Print no notes or warnings on stderr", Recursive = true };
    public readonly Option<bool> NoColor = new("--no-color") { Description = "No colour in the output (also when NO_COLOR is set)", Recursive = true };
    public readonly Option<string?> Lang = new("--lang") { Description = "Language of explanations and the explorer: en or ru (default: layerdive.language in the configuration, else from LANG)", Recursive = true };
    public readonly Option<string?> Config = new("--config") { Description = "dive's configuration file, read first (then ./.dive.yaml, ./.dive/config.yaml, ~/.dive.yaml, $XDG_CONFIG_HOME/dive/config.yaml, $XDG_CONFIG_DIRS/dive/config.yaml); CI mode names the file dive would read", Recursive = true };
    public readonly Option<string?> Theme = new("--theme") { Description = "The explorer's colours: dark, light or high-contrast (default: layerdive.theme in the configuration, else dark); NO_COLOR still wins", Recursive = true };

    public readonly Option<string?> Cache = new("--cache") { Description = "The layer cache folder (default: LAYERDIVE_CACHE, else $XDG_CACHE_HOME/layerdive, else ~/.cache/layerdive)", Recursive = true };
    public readonly Option<bool> NoCache = new("--no-cache") { Description = "Neither take layers from the layer cache nor keep them there", Recursive = true };

    public SharedOptions()
    {
        Lang.AcceptOnlyFromAmong(Text.Languages);
        Theme.AcceptOnlyFromAmong(Ui.Palette.Themes);
        Source.AcceptOnlyFromAmong([.. SourceCatalog.Kinds]);
    }

    public IEnumerable<Option> All => [Source, Image, Platform, NoVerify, Insecure, Address, Namespace, Quiet, NoColor, Lang, Config, Theme, Cache, NoCache];

    /// <summary>The run's environment (engine addresses, credentials' homes).</summary>
    public Func<string, string?>? Environment { get; set; }

    public LoadOptions LoadOptions(ParseResult p, bool fileSha256 = false) => new()
    {
        Source = new SourceOptions { Kind = p.GetValue(Source), Image = p.GetValue(Image), Platform = p.GetValue(Platform), Verify = !p.GetValue(NoVerify), Insecure = p.GetValue(Insecure), Address = p.GetValue(Address), Namespace = p.GetValue(Namespace), Environment = Environment },
        Verify = !p.GetValue(NoVerify),
        FileSha256 = fileSha256,
        Cache = p.GetValue(NoVerify) ? null : LayerCache(p),
    };

    /// <summary>The layer cache the options and the environment name, or null when it is off.</summary>
    public Core.Cache.LayerCache? LayerCache(ParseResult p) =>
        Core.Cache.LayerCache.Resolve(p.GetValue(Cache), p.GetValue(NoCache), Environment ?? System.Environment.GetEnvironmentVariable);
}
