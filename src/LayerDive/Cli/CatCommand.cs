using System.CommandLine;
using LayerDive.Core.Loading;
using LayerDive.Core.Resources;

namespace LayerDive.Cli;

/// <summary>
/// <c>layerdive cat IMAGE PATH [--layer N]</c>: a file's bytes as of a layer on standard output, unchanged
/// (what <c>extract</c> writes for the same path), streamed from the layer that wrote them; symbolic links
/// are followed through the image's tree, as <c>cat</c> in the container would.
/// </summary>
internal static class CatCommand
{
    public static Command Create(SharedOptions shared, CliContext context)
    {
        var image = Completion.Image(new Argument<string>("IMAGE") { Description = Completion.ImageDescription });
        var path = new Argument<string>("PATH") { Description = "A file of the merged tree (links are followed); \\xHH for a byte that is not UTF-8, as ls shows it" };
        var layer = new Option<int?>("--layer", "-l") { Description = "The file as of this layer (default: the top layer)" };
        var cmd = new Command("cat", "Print a file's content as of a layer to standard output, byte for byte") { image, path, layer };
        cmd.SetAction(p => CommandLine.Guard(p.GetValue(image)!, context.Error, img =>
        {
            using var load = CommandLine.Start(img, shared, p, context.Error);
            int n = CommandLine.LayerIndex(load.Model, p.GetValue(layer));
            var version = FileContent.Locate(load.Model, Core.PathText.Unescape(p.GetValue(path)!), n); // as ls shows it: \xHH for a byte that is not UTF-8
            if (version.RemovedIn is int removed)
                throw new Core.ImageException(Core.FaultKind.NotFound, Core.Text.Fill(Strings.Path_DeletedInLayer, "/" + Core.PathText.Escape(version.Resolved), removed, n, version.Layer));
            context.Out.Flush();
            var raw = context.RawOut ?? throw new InvalidOperationException("no byte output");
            using var output = raw();
            FileContent.Copy(load, version, output);
            output.Flush();
            return CommandLine.ExitOk;
        }));
        return cmd;
    }
}
