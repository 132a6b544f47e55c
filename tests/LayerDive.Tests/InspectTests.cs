using System.Text.Json.Nodes;

namespace LayerDive.Tests;

/// <summary><c>layerdive inspect</c> (issue 15, item 4, its command): every field checked against the config JSON, read from the archive here by Python.</summary>
public sealed class InspectTests
{
    internal const string ReadConfig = """
        import sys, tarfile, json
        t = tarfile.open(sys.argv[1])
        names = t.getnames()
        def read(n): return t.extractfile(n).read()
        if "manifest.json" in names:
            print(read(json.loads(read("manifest.json"))[0]["Config"]).decode())
        else:
            index = json.loads(read("index.json"))
            m = json.loads(read("blobs/sha256/" + index["manifests"][0]["digest"][7:]))
            while "manifests" in m:
                m = json.loads(read("blobs/sha256/" + m["manifests"][0]["digest"][7:]))
            print(read("blobs/sha256/" + m["config"]["digest"][7:]).decode())
        """;

    [Theory]
    [InlineData("dive__.data_test-docker-image.tar")]
    [InlineData("dive__.data_test-oci-gzip-image.tar")]
    [InlineData("jib__jib-core_src_integration-test_resources_core_busybox-docker.tar")]
    [InlineData("go-containerregistry__pkg_v1_tarball_testdata_hello-world-v25.tar")]
    [InlineData("stereoscope__pkg_image_oci_testdata_valid-oci.tar")]
    public void Every_field_of_the_config_appears_as_the_config_has_it(string name)
    {
        if (!Scripts.OnPath("python3")) Assert.Skip("python3 is not installed");
        var path = Paths.Public(name);
        var (code, json, stderr) = Scripts.Exec("python3", ["-c", ReadConfig, path]);
        Assert.True(code == 0, stderr);
        var config = JsonNode.Parse(json)!.AsObject();
        var r = Tool.Run("inspect", path, "--format", "json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var inspected = JsonNode.Parse(r.Stdout)!.AsObject();

        foreach (var (key, shown) in new[] { ("created", "Created"), ("architecture", "Architecture"), ("os", "Os"), ("author", "Author"), ("variant", "Variant") })
            if (config[key] is { } value) Assert.True(JsonNode.DeepEquals(value, inspected[shown]), $"{name}: {shown}");
        var run = (config["config"] ?? config["container_config"])?.AsObject();
        var settings = inspected["Config"]!.AsObject();
        if (run is not null)
            foreach (var (key, value) in run)
                if (value is not null && key is "User" or "ExposedPorts" or "Env" or "Entrypoint" or "Cmd" or "Volumes" or "WorkingDir" or "Labels" or "StopSignal" or "Healthcheck" or "OnBuild" or "Shell" or "ArgsEscaped")
                    Assert.True(JsonNode.DeepEquals(value, settings[key]), $"{name}: Config.{key}: {value.ToJsonString()} vs {settings[key]?.ToJsonString()}");
        Assert.True(JsonNode.DeepEquals(config["rootfs"]!["diff_ids"], inspected["RootFS"]!["Layers"]), $"{name}: RootFS");

        var text = Tool.Run("inspect", path);
        Assert.Equal(0, text.ExitCode);
        if (run?["Env"] is JsonArray env)
            foreach (var e in env) Assert.Contains("  " + (string)e!, text.StdoutLines);
        foreach (var d in config["rootfs"]!["diff_ids"]!.AsArray()) Assert.Contains(text.StdoutLines, l => l.EndsWith((string)d!, StringComparison.Ordinal));
    }
}
