using DiffPlex;

namespace LayerDive.Ui.Viewer;

/// <summary>A unified diff (<c>diff -u</c>'s form: hunks of changed lines with three lines of context) of two texts, line kinds for colour.</summary>
public static class UnifiedDiff
{
    public static (List<string> Lines, List<LineKind> Kinds) Build(string before, string after, string beforeName, string afterName, int context = 3)
    {
        var lines = new List<string> { "--- " + beforeName, "+++ " + afterName };
        var kinds = new List<LineKind> { LineKind.Removed, LineKind.Added };
        var result = Differ.Instance.CreateLineDiffs(before, after, ignoreWhitespace: false, ignoreCase: false);
        var a = Lines(before);
        var b = Lines(after);
        var blocks = result.DiffBlocks;
        int i = 0;
        while (i < blocks.Count)
        {
            // blocks closer than twice the context share a hunk
            int j = i;
            while (j + 1 < blocks.Count && blocks[j + 1].DeleteStartA - (blocks[j].DeleteStartA + blocks[j].DeleteCountA) <= 2 * context) j++;
            int aStart = Math.Max(0, blocks[i].DeleteStartA - context);
            int bStart = blocks[i].InsertStartB - (blocks[i].DeleteStartA - aStart);
            int aLastEnd = blocks[j].DeleteStartA + blocks[j].DeleteCountA;
            int aEnd = Math.Min(a.Count, aLastEnd + context);
            int bEnd = blocks[j].InsertStartB + blocks[j].InsertCountB + (aEnd - aLastEnd);
            lines.Add($"@@ -{Range(aStart, aEnd - aStart)} +{Range(bStart, bEnd - bStart)} @@");
            kinds.Add(LineKind.Hunk);
            int ai = aStart;
            for (int k = i; k <= j; k++)
            {
                var block = blocks[k];
                for (; ai < block.DeleteStartA; ai++) { lines.Add(" " + a[ai]); kinds.Add(LineKind.Normal); }
                for (int d = 0; d < block.DeleteCountA; d++) { lines.Add("-" + a[block.DeleteStartA + d]); kinds.Add(LineKind.Removed); }
                ai = block.DeleteStartA + block.DeleteCountA;
                for (int n = 0; n < block.InsertCountB; n++) { lines.Add("+" + b[block.InsertStartB + n]); kinds.Add(LineKind.Added); }
            }
            for (; ai < aEnd; ai++) { lines.Add(" " + a[ai]); kinds.Add(LineKind.Normal); }
            i = j + 1;
        }
        return (lines, kinds);
    }

    /// <summary>A hunk's range as diff -u writes it: "start,count", the start 1-based (for an empty range, the line before it).</summary>
    private static string Range(int start, int count) => count == 0 ? $"{start},0" : count == 1 ? $"{start + 1}" : $"{start + 1},{count}";

    /// <summary>The text's lines without their endings, as the differ numbers them (no line after a final newline).</summary>
    private static List<string> Lines(string text)
    {
        var lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        if (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        return lines;
    }
}
