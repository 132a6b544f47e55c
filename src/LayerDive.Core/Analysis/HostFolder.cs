using LayerDive.Core.Model;

namespace LayerDive.Core.Analysis;

/// <summary>
/// A real folder an engine keeps a layer in (from its <c>GraphDriver</c> data): the layer (null for the
/// engine's init layer of a container), its <c>diff</c> folder, and, read from beside it where this user
/// can, the <c>link</c> short name and the <c>lower</c> chain.
/// </summary>
internal sealed record HostFolder(int? Layer, string Diff, HostFolderRole Role)
{
    /// <summary>The layer's own folder (the one that holds diff/, link, lower, work/, merged/; containerd's snapshot folder holds fs/ and work/).</summary>
    public string Folder => Diff.EndsWith("/diff", StringComparison.Ordinal) ? Diff[..^"/diff".Length]
        : Diff.EndsWith("/fs", StringComparison.Ordinal) ? Diff[..^"/fs".Length] : Diff;

    /// <summary>containerd's overlayfs snapshotter (its folders named by the Snapshots service's mounts), as the containerd sources call their storage.</summary>
    public const string ContainerdOverlay = "overlayfs";

    public string? Link => ReadBeside("link");

    public string? Lower => ReadBeside("lower");

    private string? ReadBeside(string name)
    {
        try
        {
            var path = Path.Combine(Folder, name);
            return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The folders of an engine's (or containerd's) image or container, bottom first; empty when the engine did not say (a file, vfs).</summary>
    public static IReadOnlyList<HostFolder> Of(ImageModel model)
    {
        if (model.Storage is not { Driver: "overlay2" or "overlay" or ContainerdOverlay } storage) return [];
        var folders = storage.LayerFolders();
        int? container = LayerKinds.ContainerLayer(model);
        int imageLayers = container ?? model.Layers.Count;
        var result = new List<HostFolder>();
        for (int i = 0; i < imageLayers && i < folders.Count; i++) result.Add(new HostFolder(i, folders[i], HostFolderRole.Layer));
        if (container is int c)
        {
            if (folders.Count == imageLayers + 2) result.Add(new HostFolder(null, folders[imageLayers], HostFolderRole.Init));
            if (folders.Count > imageLayers) result.Add(new HostFolder(c, folders[^1], HostFolderRole.Container));
        }
        return result;
    }
}

/// <summary>What a real folder holds.</summary>
internal enum HostFolderRole
{
    /// <summary>An image layer.</summary>
    Layer,
    /// <summary>The engine's init layer of a container (/etc/hosts, /etc/resolv.conf, /.dockerenv, ...).</summary>
    Init,
    /// <summary>The container's read-write layer (its upper directory).</summary>
    Container,
}
