using System.Text;

namespace LayerDive.Ui.Viewer;

/// <summary>A file's bytes as hex, 16 to a line, with their ASCII beside (binary files; any file with the hex key); the stream is the caller's.</summary>
public sealed class HexContent(Stream file) : PagerContent
{
    private readonly byte[] _row = new byte[16];

    public override int? KnownCount => (int)Math.Min(int.MaxValue, (file.Length + 15) / 16);

    public override string? Line(int index)
    {
        long offset = (long)index * 16;
        if (index < 0 || offset >= file.Length) return null;
        file.Position = offset;
        int n = file.ReadAtLeast(_row, _row.Length, throwOnEndOfStream: false);
        var sb = new StringBuilder(80);
        sb.Append(offset.ToString("x8")).Append("  ");
        for (int i = 0; i < 16; i++)
        {
            sb.Append(i < n ? _row[i].ToString("x2") : "  ").Append(' ');
            if (i == 7) sb.Append(' ');
        }
        sb.Append(" |");
        for (int i = 0; i < n; i++) sb.Append(_row[i] is >= 0x20 and < 0x7f ? (char)_row[i] : '.');
        return sb.Append('|').ToString();
    }
}
