using System.IO.Enumeration;
using LayerDive.Core.Interop;
using LayerDive.Core.Layers;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Sources;

/// <summary>
/// An OCI image layout (or an unpacked docker save) read in place from a directory. Every file it names
/// is opened beneath the directory: a link that stays inside is followed (an unpacked docker save links
/// a layer.tar to another), one that leads outside (to a host file, /proc, or by "..") is refused, and
/// so is anything but a regular file.
/// </summary>
internal sealed class DirectoryBlobStore : BlobStore
{
    private readonly Folder _folder;

    public DirectoryBlobStore(string root)
    {
        try
        {
            _folder = Folder.Open(root);
        }
        catch (IOException ex)
        {
            throw new ImageException(FaultKind.Unreachable, Text.Fill(Strings.Layout_Unreadable, ".", ex.Message));
        }
    }

    public override string? Resolve(string path)
    {
        var norm = PathText.Normalize(path, out _);
        if (string.IsNullOrEmpty(norm)) return null;
        return Look(norm, out int type, out _) switch
        {
            Found.Ok => type == Libc.TypeDirectory ? null : norm, // a named pipe or device is found, and refused when opened
            Found.Missing => null,
            var found => throw Refused(norm, found, 0),
        };
    }

    public override Stream Open(string path)
    {
        // callers ask Exists first: gone since then (removed under us), it is missing as one the open finds gone
        var norm = Resolve(path) ?? throw Refused(path, Found.Missing, 0);
        var opened = _folder.OpenFile(norm, Links.Inside);
        if (opened.Found != Found.Ok) throw Refused(norm, opened.Found, opened.Errno);
        return new BufferedStream(new HandleStream(opened.Handle!, opened.Size), 1 << 16);
    }

    public override long? SizeOf(string path)
    {
        var norm = Resolve(path);
        return norm is not null && Look(norm, out _, out long size) == Found.Ok ? size : null;
    }

    private Found Look(string norm, out int type, out long size) => _folder.Look(norm, Links.Inside, out type, out size);

    private static ImageException Refused(string norm, Found found, int errno) => found switch
    {
        Found.Link or Found.Outside => new(FaultKind.Damaged, Text.Fill(Strings.Layout_LinkOutside, norm)),
        // a named pipe (or a device) would be waited on, perhaps for ever: a layout holds regular files
        Found.WrongKind => new(FaultKind.Damaged, Text.Fill(Strings.Archive_LayoutMemberNotFile, norm)),
        Found.Missing => new(FaultKind.NotFound, Text.Fill(Strings.Archive_BlobMissing, norm)),
        _ => new(FaultKind.Unreachable, Text.Fill(Strings.Layout_Unreadable, norm, Libc.Error(errno))),
    };

    /// <summary>The files beneath the directory; a link to a folder is not entered (it may lead anywhere, / among them).</summary>
    public override IEnumerable<string> Paths =>
        new FileSystemEnumerable<string>(_folder.Path, (ref FileSystemEntry e) => e.ToFullPath(),
            new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = true })
        {
            ShouldIncludePredicate = (ref FileSystemEntry e) => !e.IsDirectory,
            ShouldRecursePredicate = (ref FileSystemEntry e) => (e.Attributes & FileAttributes.ReparsePoint) == 0,
        }.Select(f => Path.GetRelativePath(_folder.Path, f).Replace(Path.DirectorySeparatorChar, '/'));

    public override void Dispose()
    {
        _folder.Dispose();
        base.Dispose();
    }
}

