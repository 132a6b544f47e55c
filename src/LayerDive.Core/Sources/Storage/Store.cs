using System.Text;
using System.Text.RegularExpressions;
using LayerDive.Core.Interop;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Sources.Storage;

/// <summary>
/// A containers-storage store: its driver and its root folder, held open. Every file the store names
/// (its records, an image's big-data files, a layer's tar-split, folder and files) is opened beneath
/// the root with no symbolic link followed in any component: a store written by podman, buildah or
/// CRI-O holds none on these paths, and a hostile one would reach the host's files through them. What
/// is not a regular file (a named pipe, a device) is refused before a byte is read, and so is an id
/// that is not 64 hex digits.
/// </summary>
internal sealed partial class Store(string driver, Folder root) : IDisposable
{
    /// <summary>The most a store's record (images.json, layers.json) may be: a store of thousands of images and layers holds a few MB.</summary>
    public const int MaxRecordSize = 32 << 20;

    public string Driver { get; } = driver;
    public string Root => root.Path;
    public string Images => Driver + "-images";
    public string Layers => Driver + "-layers";

    /// <summary>The folder of a layer's files: overlay's <c>diff</c>, vfs's whole tree.</summary>
    public string Files(string id) => Driver == "vfs" ? $"vfs/dir/{id}" : $"{Driver}/{id}/diff";

    public string TarSplit(string id) => $"{Layers}/{id}.tar-split.gz";

    /// <summary>An image's big-data file: <c>=</c> and the key in base64.</summary>
    public string BigData(string imageId, string key) => $"{Images}/{imageId}/={Convert.ToBase64String(Encoding.UTF8.GetBytes(key))}";

    /// <summary>The full path of a file of the store, for messages.</summary>
    public string Full(string relative) => Path.Combine(Root, relative);

    /// <summary><paramref name="id"/> when it is an id (64 lowercase hex digits, as containers-storage makes them).</summary>
    /// <exception cref="ImageException">It is anything else (a path such as <c>../../x</c>, say).</exception>
    public static string Id(string? id) =>
        id is not null && IdPattern().IsMatch(id) ? id : throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Storage_IdInvalid, PathText.Escape(id ?? "null")));

    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex IdPattern();

    /// <summary>The regular file <paramref name="relative"/>, opened for reading; null when it is missing and that is no error.</summary>
    /// <exception cref="ImageException">A link, something other than a regular file, missing (when that is an error) or unreadable.</exception>
    public Opened? Open(string relative, bool missingIsError = true)
    {
        var opened = root.OpenFile(relative, Links.Refused);
        if (opened.Found == Found.Ok) return opened;
        if (opened.Found == Found.Missing && !missingIsError) return null;
        throw Refused(relative, opened.Found, opened.Errno);
    }

    /// <summary>A file of the store read whole, refused past <paramref name="limit"/> bytes before any is read.</summary>
    /// <param name="tooLarge">The text when it is larger (its full path, size and limit in MiB as the placeholders).</param>
    /// <param name="missing">The text when it is missing (its full path as the placeholder); null: "cannot be read".</param>
    public byte[] Read(string relative, int limit, string tooLarge, string? missing)
    {
        var opened = Open(relative, missingIsError: missing is null)
            ?? throw new ImageException(FaultKind.NotFound, Text.Fill(missing!, Full(relative)));
        using var file = new HandleStream(opened.Handle!, opened.Size);
        if (opened.Size > limit) throw new ImageException(FaultKind.Damaged, Text.Fill(tooLarge, Full(relative), opened.Size, limit >> 20));
        var bytes = new byte[opened.Size];
        try
        {
            file.ReadExactly(bytes);
        }
        catch (Exception ex) when (ex is IOException or EndOfStreamException)
        {
            throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Storage_Unreadable, Full(relative), ex.Message));
        }
        return bytes;
    }

    /// <summary>The folder <paramref name="relative"/> of the store; <paramref name="missing"/> is the text when it is missing (its full path as the placeholder).</summary>
    public Folder OpenFolder(string relative, string missing)
    {
        var found = root.OpenFolder(relative, Links.Refused, out var folder, out int errno);
        return found switch
        {
            Found.Ok => folder!,
            Found.Missing => throw new ImageException(FaultKind.NotFound, Text.Fill(missing, Full(relative))),
            Found.WrongKind => throw new ImageException(FaultKind.Damaged, Text.Fill(Strings.Storage_NotAFolder, Full(relative))),
            _ => throw Refused(relative, found, errno),
        };
    }

    private ImageException Refused(string relative, Found found, int errno) => found switch
    {
        Found.Link => new(FaultKind.Damaged, Text.Fill(Strings.Storage_PathIsLink, Full(relative))),
        Found.Outside => new(FaultKind.Damaged, Text.Fill(Strings.Storage_PathOutside, Full(relative))),
        Found.WrongKind => new(FaultKind.Damaged, Text.Fill(Strings.Storage_PathNotRegular, Full(relative))),
        Found.Missing => new(FaultKind.Unreachable, Text.Fill(Strings.Storage_Unreadable, Full(relative), Libc.Error(Libc.ENoEnt))),
        _ => new(FaultKind.Unreachable, Text.Fill(Strings.Storage_Unreadable, Full(relative), Libc.Error(errno))),
    };

    public void Dispose() => root.Dispose();
}
