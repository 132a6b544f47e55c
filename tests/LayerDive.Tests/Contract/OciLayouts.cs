using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text.Json;

namespace LayerDive.Tests;

/// <summary>
/// The same image as an OCI image layout, written here from the docker-archive's own members: its
/// config and layer tars become blobs named by their sha256, a manifest and an index point at them.
/// </summary>
internal static class OciLayouts
{
    public static string FromDockerArchive(string archive, string folder, int? cutLayer = null)
    {
        var files = new Dictionary<string, byte[]>();
        using (var tar = new TarReader(File.OpenRead(archive)))
            for (var e = tar.GetNextEntry(); e is not null; e = tar.GetNextEntry())
                if (e.DataStream is not null)
                {
                    using var ms = new MemoryStream();
                    e.DataStream.CopyTo(ms);
                    files[e.Name] = ms.ToArray();
                }
        using var manifest = JsonDocument.Parse(files["manifest.json"]);
        var entry = manifest.RootElement[0];
        var layout = Directory.CreateDirectory(Path.Combine(folder, "layout-" + Guid.NewGuid().ToString("N")[..6])).FullName;
        var blobs = Directory.CreateDirectory(Path.Combine(layout, "blobs", "sha256")).FullName;
        string Blob(byte[] bytes)
        {
            var hex = Convert.ToHexStringLower(SHA256.HashData(bytes));
            File.WriteAllBytes(Path.Combine(blobs, hex), bytes);
            return "sha256:" + hex;
        }
        var config = files[entry.GetProperty("Config").GetString()!];
        var layers = entry.GetProperty("Layers").EnumerateArray().Select(l => files[l.GetString()!]).ToList();
        var layerDescriptors = layers.Select((bytes, i) =>
        {
            var digest = Blob(bytes);
            if (i == cutLayer) File.WriteAllBytes(Path.Combine(blobs, digest[7..]), bytes[..(bytes.Length / 2)]);
            return $"{{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"{digest}\",\"size\":{bytes.Length}}}";
        });
        var manifestJson = System.Text.Encoding.UTF8.GetBytes(
            $"{{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"{Blob(config)}\",\"size\":{config.Length}}},\"layers\":[{string.Join(',', layerDescriptors)}]}}");
        var manifestDigest = Blob(manifestJson);
        var tag = entry.GetProperty("RepoTags")[0].GetString()!;
        File.WriteAllText(Path.Combine(layout, "index.json"),
            $"{{\"schemaVersion\":2,\"manifests\":[{{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"{manifestDigest}\",\"size\":{manifestJson.Length},\"annotations\":{{\"io.containerd.image.name\":\"docker.io/library/{tag}\"}}}}]}}");
        File.WriteAllText(Path.Combine(layout, "oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        return layout;
    }

    /// <summary>The layout in a tar (an oci-archive), written into <paramref name="folder"/> (beside the layout when none is named).</summary>
    public static string Tar(string layout, string? folder = null)
    {
        var path = folder is null ? layout + ".tar" : Path.Combine(folder, Path.GetFileName(layout) + "-" + Guid.NewGuid().ToString("N")[..6] + ".tar");
        TarFile.CreateFromDirectory(layout, path, includeBaseDirectory: false);
        return path;
    }
}
