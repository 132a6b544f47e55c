using System.CommandLine;
using LayerDive.Core.Analysis;
using LayerDive.Core.Reports;
using LayerDive.Core.Model;
using LayerDive.Core.Resources;

namespace LayerDive.Cli;

/// <summary><c>layerdive overlay IMAGE</c>: the image as Docker's overlay2 would lay it out, and the mount that merges it.</summary>
internal static class OverlayCommand
{
    /// <summary>The engine's real folders, as its inspect names them, with what is read beside each (link, lower).</summary>
    private static void WriteHost(Core.Model.ImageModel model, Core.Model.EngineStorage storage, TextWriter o)
    {
        o.WriteLine();
        var folders = HostFolder.Of(model);
        if (folders.Count == 0)
        {
            // not overlay2: say so, and show what the driver uses instead
            o.WriteLine(Core.Text.Fill(Strings.Overlay_HostOtherDriver, storage.Driver));
            foreach (var (key, value) in storage.Data.OrderBy(d => d.Key, StringComparer.Ordinal)) o.WriteLine($"#   {Printable.OneLine(key)}: {Printable.OneLine(value)}");
            return;
        }
        o.WriteLine(Core.Text.Fill(Strings.Overlay_HostTitle, storage.Driver));
        foreach (var f in folders)
        {
            string what = f.Role switch
            {
                HostFolderRole.Init => Strings.Overlay_HostInit,
                HostFolderRole.Container => Core.Text.Fill(Strings.Overlay_HostContainer, f.Layer),
                _ => Core.Text.Fill(Strings.Overlay_HostLayer, f.Layer),
            };
            o.WriteLine($"# {what}");
            // the engine's inspect and the files beside each folder: escaped as the image's own text is
            o.WriteLine(Printable.OneLine(f.Folder) + "/");
            o.WriteLine("    diff/");
            if (f.Link is { } link) o.WriteLine($"    link      {Printable.OneLine(link)}");
            if (f.Lower is { } lower) o.WriteLine($"    lower     {Printable.OneLine(lower)}");
        }
        foreach (var key in new[] { "WorkDir", "MergedDir" })
            if (storage.Data.TryGetValue(key, out var dir)) o.WriteLine($"# {key}: {Printable.OneLine(dir)}");
    }

    /// <summary>
    /// containerd's overlayfs snapshotter: each layer's real snapshot folder (named by its chain id, its id
    /// the snapshotter's own, read from the Snapshots service's mounts), a container's own snapshot, and the
    /// mount containerd makes of them.
    /// </summary>
    private static void WriteContainerd(ImageModel model, OverlayLayout layout, EngineStorage storage, IReadOnlyList<HostFolder> folders, TextWriter o)
    {
        var layers = folders.Where(f => f.Role == HostFolderRole.Layer).ToList();
        o.WriteLine(Core.Text.Fill(Strings.Overlay_ContainerdTitle, Printable.OneLine(model.Name), layers.Count, storage.Driver));
        foreach (var line in Strings.Overlay_ContainerdIntro.Split('\n')) o.WriteLine(line);
        o.WriteLine();
        o.WriteLine(Strings.Overlay_ContainerdLayerHeader);
        foreach (var f in layers)
        {
            var l = layout.Layers[f.Layer!.Value];
            o.WriteLine($"# {l.Index,-5}  {l.ChainId}");
            o.WriteLine(Printable.OneLine(f.Folder) + "/");
            o.WriteLine("    " + Core.Text.Fill(Strings.Overlay_FsSize, Units.HumanBytes(l.Size)));
        }
        o.WriteLine();
        var lower = string.Join(':', layers.AsEnumerable().Reverse().Select(f => f.Diff));
        if (folders.FirstOrDefault(f => f.Role == HostFolderRole.Container) is { } upper)
        {
            o.WriteLine(Core.Text.Fill(Strings.Overlay_ContainerdUpper, upper.Layer, Printable.OneLine(storage.Data.GetValueOrDefault("SnapshotKey", ""))));
            o.WriteLine(Printable.OneLine(upper.Folder) + "/");
            o.WriteLine("    fs/");
            o.WriteLine("    work/");
            o.WriteLine();
            var work = storage.Data.GetValueOrDefault("WorkDir", upper.Folder + "/work");
            o.WriteLine(Printable.OneLine($"mount -t overlay overlay -o lowerdir={lower},upperdir={upper.Diff},workdir={work} /mnt"));
            return;
        }
        o.WriteLine(Strings.Overlay_ContainerdImageMount);
        // one layer is a bind mount of its folder, as containerd makes a view of it
        o.WriteLine(Printable.OneLine(layers.Count == 1 ? $"mount -o bind,ro {layers[0].Diff} /mnt" : $"mount -t overlay overlay -o lowerdir={lower} /mnt"));
    }

    public static Command Create(SharedOptions shared, TextWriter stdout, TextWriter stderr)
    {
        var image = Completion.Image(new Argument<string>("IMAGE") { Description = Completion.ImageDescription });
        var cmd = new Command("overlay", "The overlay mount and the /var/lib/docker/overlay2 layout the image would have (containerd's real snapshot folders for its images and containers)") { image };
        cmd.SetAction(p => CommandLine.Guard(p.GetValue(image)!, stderr, img =>
        {
            var model = CommandLine.Load(img, shared, p, stderr);
            var layout = OverlayLayout.For(model);
            var o = stdout;
            if (model.Storage is { Driver: HostFolder.ContainerdOverlay } snapshots && HostFolder.Of(model) is { Count: > 0 } real)
            {
                WriteContainerd(model, layout, snapshots, real, o);
                return CommandLine.ExitOk;
            }
            o.WriteLine(Core.Text.Fill(Strings.Overlay_Title, Printable.OneLine(model.Name), model.Layers.Count));
            foreach (var line in Strings.Overlay_Intro.Split('\n')) o.WriteLine(line);
            o.WriteLine();
            o.WriteLine(Strings.Overlay_LayerHeader);
            foreach (var l in layout.Layers)
            {
                o.WriteLine($"# {l.Index,-5}  {l.ChainId}");
                o.WriteLine($"{layout.Root}/{l.CacheId}/");
                o.WriteLine("    " + Core.Text.Fill(Strings.Overlay_DiffSize, Units.HumanBytes(l.Size)));
                o.WriteLine("    " + Core.Text.Fill(Strings.Overlay_Link, l.Link, layout.Root, l.CacheId));
                if (l.Lower.Count > 0) o.WriteLine($"    lower     {string.Join(':', l.Lower)}");
                if (l.Index > 0) o.WriteLine("    work/");
            }
            o.WriteLine();
            o.WriteLine(Strings.Overlay_Container);
            o.WriteLine($"{layout.Root}/{layout.ContainerId}/{{diff,work,merged}}");
            o.WriteLine();
            o.WriteLine(layout.MountCommand());
            if (model.Storage is { } storage) WriteHost(model, storage, o);
            return CommandLine.ExitOk;
        }));
        return cmd;
    }
}
