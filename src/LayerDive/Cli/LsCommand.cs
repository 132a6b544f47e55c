using System.CommandLine;
using LayerDive.Core;
using LayerDive.Core.Analysis;
using LayerDive.Core.Model;
using LayerDive.Core.Reports;

namespace LayerDive.Cli;

/// <summary><c>layerdive ls IMAGE [--layer N] [--changes] [--aggregate] [--format text|tsv]</c>.</summary>
internal static class LsCommand
{
    public static Command Create(SharedOptions shared, TextWriter stdout, TextWriter stderr)
    {
        var image = new Argument<string>("IMAGE") { Description = "The image archive or layout" };
        var layer = new Option<int?>("--layer", "-l") { Description = "The layer to show (0 = bottom; default: the top layer)" };
        var changes = new Option<bool>("--changes", "-c") { Description = "Only the paths this layer added, modified, removed or re-wrote unchanged" };
        var aggregate = new Option<bool>("--aggregate", "-a") { Description = "The changes of layers 1..N taken together, against layer 0" };
        var format = new Option<string>("--format", "-f") { Description = "text, or tsv (the columns of the umoci ground truth)", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "tsv");
        var cmd = new Command("ls", "Print the merged tree after a layer, or what a layer changed") { image, layer, changes, aggregate, format };
        cmd.SetAction(p => CommandLine.Guard(p.GetValue(image)!, stderr, img =>
        {
            bool tsv = p.GetValue(format) == "tsv";
            var model = CommandLine.Load(img, shared, p, stderr, fileSha256: tsv);
            int n = CommandLine.LayerIndex(model, p.GetValue(layer));
            bool agg = p.GetValue(aggregate);
            if (p.GetValue(changes) || agg)
                WriteChanges(agg ? Changes.Aggregated(model, n) : Changes.OfLayer(model, n), tsv, stdout);
            else if (tsv)
                RootfsListing.Write(model, n, stdout);
            else
                WriteTree(model, n, stdout);
            return CommandLine.ExitOk;
        }));
        return cmd;
    }

    private static void WriteTree(ImageModel model, int layer, TextWriter output)
    {
        foreach (var node in model.Walk(layer))
        {
            if (node.IsRoot) continue;
            var a = node.StateAt(layer)!.Value.Attributes;
            output.WriteLine(Row(a, node.Path));
        }
    }

    private static void WriteChanges(List<PathChange> changes, bool tsv, TextWriter output)
    {
        if (tsv) output.WriteLine("#status\tpath\ttype\tmode\tuid\tgid\tsize\tchanged\tcause");
        foreach (var c in changes)
        {
            if (c.Node.IsRoot) continue;
            if (tsv)
            {
                output.WriteLine(string.Join('\t', Status(c.Kind), PathText.Escape(c.Path), RootfsListing.TypeName(c.Attributes.Type),
                    Convert.ToString(c.Attributes.Mode, 8).PadLeft(4, '0'), c.Attributes.Uid, c.Attributes.Gid, c.Attributes.Size,
                    c.Kind == ChangeKind.Modified ? Describe(c.Changed) : "-", c.Kind == ChangeKind.Removed ? Describe(c.Cause) : "-"));
                continue;
            }
            string note = c.Kind switch
            {
                ChangeKind.Modified => $"  ({Describe(c.Changed)})",
                ChangeKind.Removed => $"  ({Describe(c.Cause)})",
                _ => "",
            };
            output.WriteLine($"{Status(c.Kind)}  {Row(c.Attributes, c.Path)}{note}");
        }
    }

    internal static string Row(EntryAttributes a, string path)
    {
        string size = a.Type == FileType.Directory ? "-" : Units.HumanBytes(a.Size);
        string link = a.Type == FileType.Symlink ? " → " + PathText.Escape(a.LinkTarget ?? "")
            : a.HardlinkTarget is not null ? " ⇒ " + PathText.Escape(a.HardlinkTarget) : "";
        return $"{a.ModeString()} {a.Uid + ":" + a.Gid,11} {size,9}  {PathText.Escape(path)}{link}";
    }

    internal static string Status(ChangeKind k) => k switch
    {
        ChangeKind.Added => "A",
        ChangeKind.Modified => "M",
        ChangeKind.Removed => "D",
        _ => "U",
    };

    internal static string Describe(AttributeChange c)
    {
        if (c == AttributeChange.MTime) return "mtime only";
        var names = new List<string>();
        if (c.HasFlag(AttributeChange.Type)) names.Add("type");
        if (c.HasFlag(AttributeChange.Mode)) names.Add("mode");
        if (c.HasFlag(AttributeChange.Uid)) names.Add("uid");
        if (c.HasFlag(AttributeChange.Gid)) names.Add("gid");
        if (c.HasFlag(AttributeChange.Size)) names.Add("size");
        if (c.HasFlag(AttributeChange.Content)) names.Add("content");
        if (c.HasFlag(AttributeChange.LinkTarget)) names.Add("link target");
        if (c.HasFlag(AttributeChange.Device)) names.Add("device");
        if (c.HasFlag(AttributeChange.MTime)) names.Add("mtime");
        return names.Count == 0 ? "unchanged" : string.Join(", ", names);
    }

    internal static string Describe(RemovalCause c) => c switch
    {
        RemovalCause.Whiteout => "whiteout",
        RemovalCause.AncestorWhiteout => "parent whited out",
        RemovalCause.Opaque => "opaque directory",
        RemovalCause.AncestorReplaced => "parent replaced by a non-directory",
        _ => "removed",
    };
}
