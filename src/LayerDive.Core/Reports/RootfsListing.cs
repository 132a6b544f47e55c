using System.Text;
using LayerDive.Core.Model;

namespace LayerDive.Core.Reports;

/// <summary>
/// The merged root filesystem after a layer, one line per path, in exactly the columns of the
/// umoci ground truth (../shared/tools/README.md) so that the two can be diffed:
/// path type mode uid gid size sha256 linktarget mtime nlink, sorted by path bytes.
/// </summary>
internal static class RootfsListing
{
    public const string Header = "#path\ttype\tmode\tuid\tgid\tsize\tsha256\tlinktarget\tmtime\tnlink";

    public static void Write(ImageModel model, int layer, TextWriter output)
    {
        var ranks = model.PathRanks();
        var nodes = model.Walk(layer).ToList();
        nodes.Sort((a, b) => ranks[a.Number].CompareTo(ranks[b.Number]));
        var links = new Dictionary<long, int>();
        foreach (var node in nodes)
        {
            var a = node.StateAt(layer)!.Value.Attributes;
            if (a.Type == FileType.File) links[a.Inode] = links.GetValueOrDefault(a.Inode) + 1;
        }
        output.WriteLine(Header);
        var sb = new StringBuilder(256);
        foreach (var node in nodes)
        {
            string path = node.IsRoot ? "." : node.Path; // one at a time: a deep tree's paths together would be its depth squared
            var a = node.StateAt(layer)!.Value.Attributes;
            sb.Clear();
            sb.Append(PathText.Escape(path)).Append('\t')
              .Append(TypeName(a.Type)).Append('\t')
              .Append(Convert.ToString(a.Mode & 0xFFF, 8).PadLeft(4, '0')).Append('\t')
              .Append(a.Uid).Append('\t')
              .Append(a.Gid).Append('\t')
              .Append(a.Type == FileType.File ? a.Size : 0).Append('\t')
              .Append(a.Type == FileType.File && a.Sha256 is not null ? Convert.ToHexStringLower(a.Sha256) : "-").Append('\t')
              .Append(a.Type switch
              {
                  FileType.Symlink => PathText.Escape(a.LinkTarget ?? ""),
                  FileType.CharDevice or FileType.BlockDevice => $"{a.DevMajor},{a.DevMinor}",
                  _ => "-",
              }).Append('\t')
              .Append(a.Type == FileType.Directory ? "-" : a.MTime.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append('\t')
              .Append(a.Type == FileType.File ? links[a.Inode].ToString(System.Globalization.CultureInfo.InvariantCulture) : "-");
            output.WriteLine(sb);
        }
    }

    public static string TypeName(FileType t) => t switch
    {
        FileType.Directory => "dir",
        FileType.File => "file",
        FileType.Symlink => "symlink",
        FileType.CharDevice => "char",
        FileType.BlockDevice => "block",
        FileType.Fifo => "fifo",
        _ => "other",
    };
}
