using System.Formats.Tar;
using System.Text.Json;

namespace LayerDive.Tests.Support;

/// <summary>Reads a docker-save archive's config with nothing but TarReader and JSON: an independent source of expectations.</summary>
public static class DockerArchive
{
    /// <summary>manifest.json -> the first image's Config member, parsed.</summary>
    public static (JsonElement Config, byte[] Bytes) Config(string path)
    {
        var members = new Dictionary<string, byte[]>();
        using (var r = new TarReader(File.OpenRead(path)))
            for (var e = r.GetNextEntry(); e is not null; e = r.GetNextEntry())
                if (e.DataStream is not null && e.Name.EndsWith(".json", StringComparison.Ordinal))
                {
                    var ms = new MemoryStream();
                    e.DataStream.CopyTo(ms);
                    members[e.Name] = ms.ToArray();
                }
        var name = JsonDocument.Parse(members["manifest.json"]).RootElement[0].GetProperty("Config").GetString()!;
        return (JsonDocument.Parse(members[name]).RootElement, members[name]);
    }
}
