using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using LayerDive.Samples;

namespace LayerDive.Tests.Support;

/// <summary>
/// A containers-storage store written by hand, laid out as containers-storage lays one out (what
/// podman, buildah and CRI-O read): <c>DRIVER-images/images.json</c> with the image's record and its
/// big-data files (<c>=base64(key)</c>), <c>DRIVER-layers/layers.json</c> chaining the layers, each
/// layer's tar-split (its tar's headers and padding as gzip'd JSON lines, the file bodies named) and
/// its files (<c>overlay/ID/diff</c>, <c>vfs/dir/ID</c>), and the lock files. No podman and no root is
/// needed, so a test can then damage it as an attacker would.
/// </summary>
public sealed class StoreBuilder
{
    public StoreBuilder(string root, ImageBuilder image, string driver = "vfs", string name = "localhost/hostile:latest")
    {
        (Root, Driver, Name) = (root, driver, name);
        var (layers, diffIds, config, manifest) = image.Build(LayerCompression.None);
        ConfigId = config.Digest[7..];
        var records = new JsonArray();
        string? parent = null;
        for (int i = 0; i < layers.Count; i++)
        {
            var tar = layers[i].Bytes;
            // a layer's id: as c/storage makes one for a pulled layer, a digest over its parent and its diff id
            var id = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes((parent ?? "") + " " + diffIds[i])));
            LayerIds.Add(id);
            var record = new JsonObject { ["id"] = id, ["created"] = "2024-01-02T03:04:05Z", ["diff-digest"] = diffIds[i], ["diff-size"] = tar.Length, ["compression"] = 0 };
            if (parent is not null) record["parent"] = parent;
            records.Add(record);
            WriteTarSplit(tar, File(TarSplit(id)));
            Unpack(tar, Directory.CreateDirectory(FolderOf(id)).FullName);
            parent = id;
        }
        Directory.CreateDirectory(File(Driver + "-layers"));
        System.IO.File.WriteAllText(File(Driver + "-layers/layers.json"), records.ToJsonString());
        System.IO.File.WriteAllText(File(Driver + "-layers/layers.lock"), "");
        var bigData = Directory.CreateDirectory(File($"{Driver}-images/{ConfigId}")).FullName;
        System.IO.File.WriteAllBytes(Path.Combine(bigData, BigDataName(config.Digest)), config.Bytes);
        System.IO.File.WriteAllBytes(Path.Combine(bigData, BigDataName("manifest-" + manifest.Digest)), manifest.Bytes);
        System.IO.File.WriteAllBytes(Path.Combine(bigData, "manifest"), manifest.Bytes);
        var images = new JsonArray(new JsonObject
        {
            ["id"] = ConfigId,
            ["digest"] = manifest.Digest,
            ["names"] = new JsonArray(name),
            ["layer"] = parent,
            ["big-data-names"] = new JsonArray(config.Digest, "manifest-" + manifest.Digest),
            ["created"] = "2024-01-02T03:04:05Z",
        });
        System.IO.File.WriteAllText(File(Driver + "-images/images.json"), images.ToJsonString());
        System.IO.File.WriteAllText(File(Driver + "-images/images.lock"), "");
    }

    public string Root { get; }
    public string Driver { get; }
    public string Name { get; }
    public string ConfigId { get; }

    /// <summary>The layers' ids, bottom first.</summary>
    public List<string> LayerIds { get; } = [];

    /// <summary>The reference LayerDive takes.</summary>
    public string Reference => $"containers-storage:[{Driver}@{Root}]{Name}";

    /// <summary>A path of the store, from its root.</summary>
    public string File(string relative) => Path.Combine(Root, relative);

    /// <summary>The folder of a layer's files.</summary>
    public string FolderOf(string id) => File(Driver == "vfs" ? $"vfs/dir/{id}" : $"{Driver}/{id}/diff");

    public string TarSplit(string id) => $"{Driver}-layers/{id}.tar-split.gz";

    public string ImagesJson => File(Driver + "-images/images.json");
    public string LayersJson => File(Driver + "-layers/layers.json");
    public string ConfigFile => File($"{Driver}-images/{ConfigId}/{BigDataName("sha256:" + ConfigId)}");

    /// <summary>containers-storage's name of a big-data file: "=" and the key in base64.</summary>
    public static string BigDataName(string key) => "=" + Convert.ToBase64String(Encoding.UTF8.GetBytes(key));

    /// <summary>
    /// vbatts/tar-split's form: type 2 lines carry raw tar bytes (headers, padding, the end blocks) in
    /// base64, type 1 lines name a file whose body comes from the layer's folder.
    /// </summary>
    public static void WriteTarSplit(byte[] tar, string path)
    {
        var lines = new StringBuilder();
        long at = 0;
        int position = 0;
        void Segment(long from, long to)
        {
            if (to > from) lines.Append(new JsonObject { ["type"] = 2, ["payload"] = Convert.ToBase64String(tar, (int)from, (int)(to - from)), ["position"] = position++ }.ToJsonString()).Append('\n');
        }
        using (var reader = new TarReader(new MemoryStream(tar)))
            for (var e = reader.GetNextEntry(); e is not null; e = reader.GetNextEntry())
            {
                if (e.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || e.Length == 0)
                {
                    lines.Append(new JsonObject { ["type"] = 1, ["name"] = e.Name, ["payload"] = null, ["position"] = position++ }.ToJsonString()).Append('\n');
                    continue;
                }
                Segment(at, e.DataOffset);
                lines.Append(new JsonObject { ["type"] = 1, ["name"] = e.Name, ["size"] = e.Length, ["payload"] = null, ["position"] = position++ }.ToJsonString()).Append('\n');
                at = e.DataOffset + e.Length;
            }
        Segment(at, tar.Length);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var gz = new GZipStream(System.IO.File.Create(path), CompressionLevel.Fastest);
        gz.Write(Encoding.UTF8.GetBytes(lines.ToString()));
    }

    /// <summary>The layer's own files, as the overlay driver keeps a layer's diff (directories, files and links; devices are left out).</summary>
    private static void Unpack(byte[] tar, string folder)
    {
        using var reader = new TarReader(new MemoryStream(tar));
        for (var e = reader.GetNextEntry(); e is not null; e = reader.GetNextEntry())
        {
            var target = Path.Combine(folder, e.Name.TrimEnd('/'));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            switch (e.EntryType)
            {
                case TarEntryType.Directory: Directory.CreateDirectory(target); break;
                case TarEntryType.RegularFile or TarEntryType.V7RegularFile: e.ExtractToFile(target, overwrite: true); break;
                case TarEntryType.SymbolicLink: System.IO.File.CreateSymbolicLink(target, e.LinkName); break;
            }
        }
    }
}
