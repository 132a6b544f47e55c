using System.CommandLine;
using System.Text;
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
        var image = Completion.Image(new Argument<string>("IMAGE") { Description = Completion.ImageDescription });
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
            using var output = new BufferedWriter(stdout);
            if (p.GetValue(changes) || agg)
                WriteChanges(agg ? Changes.Aggregated(model, n) : Changes.OfLayer(model, n), tsv, output);
            else if (tsv)
                RootfsListing.Write(model, n, output);
            else
                WriteTree(model, n, output);
            return CommandLine.ExitOk;
        }));
        return cmd;
    }

    /// <summary>The tree after the layer, depth first, one row a path, written as it is walked (no string per row).</summary>
    private static void WriteTree(ImageModel model, int layer, TextWriter output)
    {
        var row = new StringBuilder(256);
        var names = new List<string>();
        var stack = new Stack<(TreeNode Node, int Depth)>();
        Push(model.Root, 0);
        while (stack.Count > 0)
        {
            var (node, depth) = stack.Pop();
            names.RemoveRange(depth, names.Count - depth);
            names.Add(node.Name);
            var a = node.StateAt(layer)!.Value.Attributes;
            row.Clear();
            AppendColumns(row, a);
            for (int i = 0; i < names.Count; i++)
                (i == 0 ? row : row.Append('/')).Append(PathText.Escape(names[i]));
            AppendLink(row, a);
            output.WriteLine(row);
            if (a.IsDirectory) Push(node, depth + 1);
        }

        void Push(TreeNode dir, int depth)
        {
            var children = dir.VisibleChildren(layer);
            for (int i = children.Count - 1; i >= 0; i--) stack.Push((children[i], depth));
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
        var row = new StringBuilder(128);
        AppendColumns(row, a);
        row.Append(PathText.Escape(path));
        AppendLink(row, a);
        return row.ToString();
    }

    /// <summary>Mode, "uid:gid" in 11 columns, size in 9, two spaces: the columns before the path.</summary>
    private static void AppendColumns(StringBuilder row, EntryAttributes a)
    {
        Span<char> mode = stackalloc char[10];
        a.FormatMode(mode);
        row.Append(mode).Append(' ');
        int start = row.Length;
        row.Append(a.Uid).Append(':').Append(a.Gid);
        if (row.Length - start < 11) row.Insert(start, " ", 11 - (row.Length - start));
        row.Append(' ');
        start = row.Length;
        if (a.Type == FileType.Directory) row.Append('-');
        else row.Append(Units.HumanBytes(a.Size));
        if (row.Length - start < 9) row.Insert(start, " ", 9 - (row.Length - start));
        row.Append("  ");
    }

    private static void AppendLink(StringBuilder row, EntryAttributes a)
    {
        if (a.Type == FileType.Symlink) row.Append(" → ").Append(PathText.Escape(a.LinkTarget ?? ""));
        else if (a.HardlinkTarget is not null) row.Append(" ⇒ ").Append(PathText.Escape(a.HardlinkTarget));
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
