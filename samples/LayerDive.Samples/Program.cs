using LayerDive.Samples;

// Regenerates the bundled sample image: dotnet run --project samples/LayerDive.Samples [-- OUTPUT_DIR]
var dir = args.Length > 0 ? args[0] : Path.Combine(FindSamplesDir(), ".");
var path = Path.GetFullPath(Path.Combine(dir, "sample.oci.tar"));
SampleImage.Create().WriteOciArchive(path, SampleImage.Tag);
Console.WriteLine($"{path}: {new FileInfo(path).Length} bytes");
return 0;

static string FindSamplesDir()
{
    for (var d = new DirectoryInfo(Environment.CurrentDirectory); d is not null; d = d.Parent)
        if (File.Exists(Path.Combine(d.FullName, "LayerDive.sln"))) return Path.Combine(d.FullName, "samples");
    return Environment.CurrentDirectory;
}
