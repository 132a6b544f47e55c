using System.CommandLine;
using System.Globalization;
using LayerDive.Core;
using LayerDive.Core.Cache;
using LayerDive.Core.Resources;

namespace LayerDive.Cli;

/// <summary><c>layerdive cache ls|prune|clear</c>: the layer cache's files, its bound, and emptying it.</summary>
internal static class CacheCommand
{
    public static Command Create(SharedOptions shared, CliContext context)
    {
        var (stdout, stderr) = (context.Out, context.Error);
        var cmd = new Command("cache", "The layer cache: what each layer read and verified left there, keyed by its diff id (--cache DIR, LAYERDIVE_CACHE)");

        var ls = new Command("ls", "The cache's files, the least recently used first: diff id, blob (when it is not the tar), bytes, records, last use");
        ls.SetAction(p => Run(p, cache =>
        {
            stdout.WriteLine(Strings.Cache_ListHeader);
            var items = cache.List(read: true);
            foreach (var i in items)
            {
                string blob = i.BlobDigest.Length == 0 || i.BlobDigest == i.DiffId ? "-" : i.BlobDigest;
                stdout.WriteLine(string.Join('\t', i.DiffId.Length == 0 ? Path.GetFileName(i.Path) : i.DiffId, blob,
                    i.Bytes.ToString(CultureInfo.InvariantCulture), i.Entries.ToString(CultureInfo.InvariantCulture),
                    i.LastUsedUtc.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture))
                    + (i.Problem is { } why ? "\t" + Text.Fill(Strings.Cache_Unsound, why) : ""));
            }
            stdout.WriteLine(Text.Fill(Strings.Cache_ListTotal, items.Count, items.Sum(i => i.Bytes), cache.Directory, cache.MaxBytes));
        }));

        var maxSize = new Option<string?>("--max-size") { Description = "Keep at most this much (bytes, or with K, M, G, T; default: the cache's bound, LAYERDIVE_CACHE_MAX or 2G)" };
        var prune = new Command("prune", "Remove the least recently used files until the cache is within its bound, and files left half-written") { maxSize };
        prune.SetAction(p => Run(p, cache =>
        {
            long bound = cache.MaxBytes;
            if (p.GetValue(maxSize) is { } text)
                bound = LayerCache.ParseSize(text) ?? throw new ImageException(FaultKind.BadArgument, Text.Fill(Strings.Cache_BadSize, "--max-size", text));
            var (files, bytes) = cache.Prune(bound);
            stdout.WriteLine(Text.Fill(Strings.Cache_Pruned, files, bytes, cache.Directory));
        }));

        var clear = new Command("clear", "Remove every file of the cache (and nothing else in its folder)");
        clear.SetAction(p => Run(p, cache =>
        {
            var (files, bytes) = cache.Clear();
            stdout.WriteLine(Text.Fill(Strings.Cache_Pruned, files, bytes, cache.Directory));
        }));

        cmd.Subcommands.Add(ls);
        cmd.Subcommands.Add(prune);
        cmd.Subcommands.Add(clear);
        return cmd;

        int Run(ParseResult p, Action<LayerCache> body) => CommandLine.Guard("cache", stderr, _ =>
        {
            var cache = shared.LayerCache(p) ?? throw new ImageException(FaultKind.BadArgument, Strings.Cache_None);
            body(cache);
            return CommandLine.ExitOk;
        });
    }
}
