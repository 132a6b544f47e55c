namespace LayerDive.Core.Model;

/// <summary>The type of a path in the merged root filesystem.</summary>
public enum FileType : byte
{
    Directory,
    File,
    Symlink,
    CharDevice,
    BlockDevice,
    Fifo,
}

/// <summary>
/// The attributes of one path as one layer wrote it: a value. The tree keeps them packed (see
/// <see cref="TreeStore"/>) and hands out copies; a hardlink shares its target's content identity
/// through <see cref="Inode"/>.
/// </summary>
public readonly struct EntryAttributes
{
    public required FileType Type { get; init; }
    /// <summary>Permission bits including setuid (04000), setgid (02000) and sticky (01000).</summary>
    public required int Mode { get; init; }
    public required int Uid { get; init; }
    public required int Gid { get; init; }
    /// <summary>Content size for regular files (also for hardlinks: the target's size); 0 otherwise.</summary>
    public long Size { get; init; }
    /// <summary>Modification time, Unix seconds (may be negative).</summary>
    public long MTime { get; init; }
    /// <summary>XxHash128 of the file's bytes (regular files and hardlinks).</summary>
    public UInt128 ContentHash { get => new(_hashHigh, _hashLow); init => (_hashLow, _hashHigh) = ((ulong)value, (ulong)(value >> 64)); }

    // two halves, not a UInt128 field: that one would align the whole value to 16 bytes
    private readonly ulong _hashLow, _hashHigh;
    /// <summary>SHA-256 of the file's bytes, only when the analysis was asked for it (ground-truth listings).</summary>
    public byte[]? Sha256 { get => _rare?.Sha256; init { if (value is not null) (_rare = Rare(_rare)).Sha256 = value; } }
    /// <summary>Symlink target.</summary>
    public string? LinkTarget { get => _rare?.LinkTarget; init { if (value is not null) (_rare = Rare(_rare)).LinkTarget = value; } }
    public int DevMajor { get => _rare?.DevMajor ?? 0; init { if (value != 0) (_rare = Rare(_rare)).DevMajor = value; } }
    public int DevMinor { get => _rare?.DevMinor ?? 0; init { if (value != 0) (_rare = Rare(_rare)).DevMinor = value; } }
    /// <summary>
    /// Identity of the file's content object: equal for the paths of one hardlink group, different for
    /// any two files that are not linked. The tree assigns it; only a hardlink's is kept as given.
    /// </summary>
    public long Inode { get; init; }
    /// <summary>For a path written as a tar hardlink: the path it links to (normalised).</summary>
    public string? HardlinkTarget { get => _rare?.HardlinkTarget; init { if (value is not null) (_rare = Rare(_rare)).HardlinkTarget = value; } }
    /// <summary>
    /// The size the tar header of this entry declared (dive counts these): a regular file's size, 0 for
    /// anything else (a hardlink's header declares no content of its own). Stored only where a header
    /// declared something else (0 leaves the rule: no regular file's header declares 0 for content it has).
    /// </summary>
    public long HeaderSize
    {
        get => _rare?.HeaderSize ?? (Type == FileType.File && HardlinkTarget is null ? Size : 0);
        init { if (value != 0) (_rare = Rare(_rare)).HeaderSize = value; }
    }
    /// <summary>An overlay-native whiteout or opaque marker left in the tar (kept as what it is).</summary>
    public bool OverlayNativeMarker { get; init; }
    /// <summary>A directory the merge created because an entry needed it as a parent.</summary>
    public bool Implicit { get; init; }

    public bool IsDirectory => Type == FileType.Directory;

    // what few paths have (link targets, device numbers, a SHA-256 on request) lives aside, shared by
    // the copies of one value; an init that adds to it copies it first, so no copy changes another
    private readonly RareAttributes? _rare;

    internal RareAttributes? RareFields { get => _rare; init => _rare = value; }

    private static RareAttributes Rare(RareAttributes? rare) => rare?.Clone() ?? new RareAttributes();

    /// <summary>Which attributes differ between two versions of a path (mtime excluded).</summary>
    public AttributeChange Diff(in EntryAttributes other)
    {
        var c = AttributeChange.None;
        if (Type != other.Type) c |= AttributeChange.Type;
        if (Mode != other.Mode) c |= AttributeChange.Mode;
        if (Uid != other.Uid) c |= AttributeChange.Uid;
        if (Gid != other.Gid) c |= AttributeChange.Gid;
        if (Type != FileType.Directory)
        {
            if (Size != other.Size) c |= AttributeChange.Size;
            if (ContentHash != other.ContentHash) c |= AttributeChange.Content;
            if (!string.Equals(LinkTarget, other.LinkTarget, StringComparison.Ordinal)) c |= AttributeChange.LinkTarget;
            if (DevMajor != other.DevMajor || DevMinor != other.DevMinor) c |= AttributeChange.Device;
            if (MTime != other.MTime) c |= AttributeChange.MTime;
        }
        else if (MTime != other.MTime) c |= AttributeChange.MTime;
        return c;
    }

    /// <summary>"drwxr-xr-x" / "-rwsr-xr-x" as ls prints it.</summary>
    public string ModeString()
    {
        Span<char> s = stackalloc char[10];
        FormatMode(s);
        return new string(s);
    }

    /// <summary>Writes the ten characters of <see cref="ModeString"/> into <paramref name="s"/>.</summary>
    public void FormatMode(Span<char> s)
    {
        s[0] = Type switch
        {
            FileType.Directory => 'd',
            FileType.Symlink => 'l',
            FileType.CharDevice => 'c',
            FileType.BlockDevice => 'b',
            FileType.Fifo => 'p',
            _ => '-',
        };
        const string rwx = "rwxrwxrwx";
        for (int i = 0; i < 9; i++)
            s[i + 1] = (Mode & (1 << (8 - i))) != 0 ? rwx[i] : '-';
        if ((Mode & 0x800) != 0) s[3] = s[3] == 'x' ? 's' : 'S';
        if ((Mode & 0x400) != 0) s[6] = s[6] == 'x' ? 's' : 'S';
        if ((Mode & 0x200) != 0) s[9] = s[9] == 'x' ? 't' : 'T';
    }
}

/// <summary>The attributes that differ between two versions of a path.</summary>
[Flags]
public enum AttributeChange : ushort
{
    None = 0,
    Type = 1,
    Mode = 2,
    Uid = 4,
    Gid = 8,
    Size = 16,
    Content = 32,
    LinkTarget = 64,
    Device = 128,
    MTime = 256,
}

/// <summary>The attributes few paths have, kept aside from the packed ones.</summary>
internal sealed class RareAttributes
{
    public byte[]? Sha256;
    public string? LinkTarget;
    public string? HardlinkTarget;
    public int DevMajor;
    public int DevMinor;
    public long? HeaderSize;
    /// <summary>A hardlink's content identity (its target's).</summary>
    public long Inode;

    public RareAttributes Clone() => (RareAttributes)MemberwiseClone();
}
