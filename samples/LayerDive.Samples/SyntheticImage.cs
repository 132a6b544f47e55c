using System.Formats.Tar;
using System.Text;
using System.Text.Json.Nodes;

namespace LayerDive.Samples;

/// <summary>
/// Large synthetic images for the scaling benchmark: <c>entries</c> small files spread over
/// <c>layers</c> gzip layers, 100 files to a directory, every tenth file rewritten by the next layer
/// (so the merge has modifications to find). Layers are streamed to disk, never held in memory.
/// </summary>
public static class SyntheticImage
{
    public static void WriteOciLayout(string dir, int entries, int layers, string tag = "synthetic")
    {
        var layout = new StreamedOciLayout(dir);
        int perLayer = Math.Max(1, entries / layers);
        var content = Encoding.ASCII.GetBytes(new string('s', 100));
        for (int l = 0; l < layers; l++)
        {
            layout.AddLayer(new JsonObject { ["created_by"] = $"synthetic layer {l}" }, tar =>
            {
                int first = l * perLayer, last = l == layers - 1 ? entries : first + perLayer;
                string? lastDir = null;
                for (int i = first; i < last; i++)
                {
                    var d = $"data/d{i / 100_000:D2}/d{i / 100:D5}";
                    if (d != lastDir) { tar.WriteEntry(new GnuTarEntry(TarEntryType.Directory, d + "/") { ModificationTime = ImageBuilder.Epoch, AccessTime = ImageBuilder.Epoch, ChangeTime = ImageBuilder.Epoch }); lastDir = d; }
                    // every tenth file of the layer below is rewritten here, with one byte changed
                    if (l > 0 && i % 10 == 0)
                    {
                        int j = i - perLayer;
                        content[0] = (byte)('a' + l % 26);
                        tar.WriteEntry(Entry($"data/d{j / 100_000:D2}/d{j / 100:D5}/f{j:D7}", content));
                    }
                    content[0] = (byte)'s';
                    tar.WriteEntry(Entry($"{d}/f{i:D7}", content));
                }
            });
        }
        layout.Finish(tag);
    }

    private static GnuTarEntry Entry(string name, byte[] content) => new(TarEntryType.RegularFile, name)
    {
        DataStream = new MemoryStream(content, writable: false), ModificationTime = ImageBuilder.Epoch, AccessTime = ImageBuilder.Epoch, ChangeTime = ImageBuilder.Epoch,
        Mode = (UnixFileMode)0x1A4,
    };
}
