using System.CommandLine;
using LayerDive.Core.Analysis;
using LayerDive.Core.Reports;

namespace LayerDive.Cli;

/// <summary><c>layerdive overlay IMAGE</c>: the image as Docker's overlay2 would lay it out, and the mount that merges it.</summary>
internal static class OverlayCommand
{
    public static Command Create(SharedOptions shared, TextWriter stdout, TextWriter stderr)
    {
        var image = Completion.Image(new Argument<string>("IMAGE") { Description = Completion.ImageDescription });
        var cmd = new Command("overlay", "The overlay mount and the /var/lib/docker/overlay2 layout the image would have") { image };
        cmd.SetAction(p => CommandLine.Guard(p.GetValue(image)!, stderr, img =>
        {
            var model = CommandLine.Load(img, shared, p, stderr);
            var layout = OverlayLayout.For(model);
            var o = stdout;
            o.WriteLine($"# {model.Name}: {model.Layers.Count} layers as Docker's overlay2 driver keeps them");
            o.WriteLine("# (Docker draws cache ids and link names at random; here they are derived from the chain ids)");
            o.WriteLine("# diff/ holds the layer's files as the tar has them, but whiteouts become 0/0 character devices");
            o.WriteLine("# and opaque directories get the xattr trusted.overlay.opaque=y: the form the kernel reads");
            o.WriteLine();
            o.WriteLine("# layer  chain id (image/overlay2/layerdb/sha256/<chain id>/)  ->  overlay2 directory");
            foreach (var l in layout.Layers)
            {
                o.WriteLine($"# {l.Index,-5}  {l.ChainId}");
                o.WriteLine($"{layout.Root}/{l.CacheId}/");
                o.WriteLine($"    diff/     {Units.HumanBytes(l.Size)} of files");
                o.WriteLine($"    link      {l.Link}   (and {layout.Root}/l/{l.Link} -> ../{l.CacheId}/diff)");
                if (l.Lower.Count > 0) o.WriteLine($"    lower     {string.Join(':', l.Lower)}");
                if (l.Index > 0) o.WriteLine("    work/");
            }
            o.WriteLine();
            o.WriteLine("# a container of this image: its own writable layer (upperdir) over the image's layers (lowerdir, top first)");
            o.WriteLine($"{layout.Root}/{layout.ContainerId}/{{diff,work,merged}}");
            o.WriteLine();
            o.WriteLine(layout.MountCommand());
            return CommandLine.ExitOk;
        }));
        return cmd;
    }
}
