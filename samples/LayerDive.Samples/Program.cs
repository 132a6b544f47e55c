using LayerDive.Samples;

// dotnet run --project samples/LayerDive.Samples                     regenerates samples/sample.oci.tar and samples/lessons/
// dotnet run --project samples/LayerDive.Samples -- OUTPUT_DIR        writes it into OUTPUT_DIR
// dotnet run --project samples/LayerDive.Samples -- synthetic DIR ENTRIES LAYERS
//                                                                    a large OCI layout for the scaling benchmark
if (args is ["synthetic", var target, var entries, var layers])
{
    SyntheticImage.WriteOciLayout(target, int.Parse(entries), int.Parse(layers));
    Console.WriteLine($"{target}: {entries} entries in {layers} layers");
    return 0;
}
// dotnet run --project samples/LayerDive.Samples -- fileheavy DIR ENTRIES
//                                                                    a realistic file-heavy OCI layout (node_modules, site-packages,
//                                                                    docs and locales, deep trees, links, whiteouts, rewrites)
if (args is ["fileheavy", var heavyTarget, var heavyEntries])
{
    var written = FileHeavyImage.WriteOciLayout(heavyTarget, int.Parse(heavyEntries));
    Console.WriteLine($"{heavyTarget}: {written} entries in 15 layers");
    return 0;
}
// dotnet LayerDive.Samples.dll floor BLOB...                          the floor of reading an image, for the benchmark:
//                                                                    each gzip blob hashed, inflated and its tar hashed
//                                                                    (sha256 both), one blob a core, in this process
if (args is ["floor", .. var blobs])
{
    Floor.Read(blobs);
    return 0;
}
var dir = args.Length > 0 ? args[0] : FindSamplesDir();
var path = Path.GetFullPath(Path.Combine(dir, "sample.oci.tar"));
SampleImage.Create().WriteOciArchive(path, SampleImage.Tag);
Console.WriteLine($"{path}: {new FileInfo(path).Length} bytes");
Lessons.WriteAll(Path.Combine(dir, "lessons"));
Console.WriteLine($"{Path.Combine(dir, "lessons")}: {Lessons.All.Count} lessons");
return 0;

static string FindSamplesDir()
{
    for (var d = new DirectoryInfo(Environment.CurrentDirectory); d is not null; d = d.Parent)
        if (File.Exists(Path.Combine(d.FullName, "LayerDive.sln"))) return Path.Combine(d.FullName, "samples");
    return Environment.CurrentDirectory;
}
