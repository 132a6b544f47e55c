using LayerDive.Core;
using LayerDive.Core.Model;
using LayerDive.Samples;

namespace LayerDive.Tests;

/// <summary>
/// docs/merge.md, one rule a test: an image built in code, what the merge must make of it (worked out from
/// the input), and the same image unpacked by umoci, the reference, compared field by field.
/// </summary>
public sealed class MergeRuleTests
{
    private static ImageBuilder Base() => new ImageBuilder().Layer("base", l => l
        .Dir("etc").File("etc/keep", "keep\n").File("etc/gone", "gone\n")
        .Dir("data").Dir("data/sub").File("data/sub/a", "a\n").File("data/b", "bb\n"));

    [Fact]
    public void File_whiteout_hides_the_lower_file_and_is_not_a_file_itself()
    {
        var image = Base().Layer("rm /etc/gone", l => l.Dir("etc").Whiteout("etc/gone"));
        var m = Reference.Load(image);

        Assert.False(m.Visible("etc/gone"));
        Assert.True(m.Visible("etc/gone", layer: 0));
        Assert.True(m.Visible("etc/keep"));
        Assert.Null(m.Find("etc/.wh.gone"));
        var r = m.Record("etc/gone", 1);
        Assert.Equal(ChangeKind.Removed, r.Kind);
        Assert.Equal(RemovalCause.Whiteout, r.Cause);
        var wh = Assert.Single(m.Layers[1].Whiteouts);
        Assert.Equal(("etc/.wh.gone", "etc/gone", false), (wh.MarkerPath, wh.HiddenPath, wh.Orphan));
        Reference.AssertSameAsUmoci(image);
    }

    [Fact]
    public void Directory_whiteout_hides_the_whole_subtree()
    {
        var image = Base().Layer("rm -rf /data", l => l.Whiteout("data"));
        var m = Reference.Load(image);

        Assert.Equal(["etc", "etc/gone", "etc/keep"], m.VisiblePaths());
        Assert.Equal(RemovalCause.Whiteout, m.Record("data", 1).Cause);
        Assert.Equal(RemovalCause.AncestorWhiteout, m.Record("data/sub/a", 1).Cause);
        var wh = Assert.Single(m.Layers[1].Whiteouts);
        Assert.True(wh.HidDirectory);
        Assert.Equal(4, wh.HiddenPaths); // data, data/sub, data/sub/a, data/b
        Assert.Equal(2 + 3, wh.HiddenBytes);
        Assert.Equal(4, m.Layers[1].Removed);
        Reference.AssertSameAsUmoci(image);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Opaque_directory_hides_lower_children_and_keeps_its_own(bool markerFirst)
    {
        var image = Base().Layer("rm -rf /data && mkdir /data && echo new > /data/new", l =>
        {
            l.Dir("data");
            if (markerFirst) l.Opaque("data").File("data/new", "new\n");
            else l.File("data/new", "new\n").Opaque("data");
        });
        var m = Reference.Load(image);

        Assert.True(m.Visible("data"));
        Assert.True(m.Visible("data/new"));
        Assert.False(m.Visible("data/b"));
        Assert.False(m.Visible("data/sub"));
        Assert.False(m.Visible("data/sub/a"));
        Assert.Equal(RemovalCause.Opaque, m.Record("data/sub/a", 1).Cause);
        Assert.Equal(["data"], m.Layers[1].OpaqueDirectories);
        Assert.Null(m.Find("data/.wh..wh..opq"));
        Reference.AssertSameAsUmoci(image);
    }

    [Fact]
    public void Opaque_directory_does_not_hide_what_its_own_layer_writes_under_a_lower_name()
    {
        // the layer re-creates data/b: it is the new version, not hidden by the layer's own marker
        var image = Base().Layer("rm -rf /data && mkdir /data && echo x > /data/b", l => l.Dir("data").File("data/b", "x\n").Opaque("data"));
        var m = Reference.Load(image);
        Assert.Equal(["data", "data/b", "etc", "etc/gone", "etc/keep"], m.VisiblePaths());
        Assert.Equal(2, m.Attrs("data/b").Size);
        Assert.Equal(ChangeKind.Modified, m.Status("data/b", 1));
        Reference.AssertSameAsUmoci(image);
    }

    [Fact]
    public void Directory_replaced_by_a_file_drops_its_subtree()
    {
        var image = Base().Layer("rm -rf /data && echo f > /data", l => l.Whiteout("data").File("data", "f\n"));
        var m = Reference.Load(image);
        Assert.Equal(FileType.File, m.Attrs("data").Type);
        Assert.False(m.Visible("data/sub/a"));
        var r = m.Record("data", 1);
        Assert.Equal(ChangeKind.Modified, r.Kind);
        Assert.True(r.Changed.HasFlag(AttributeChange.Type));
        Reference.AssertSameAsUmoci(image);
    }

    [Fact]
    public void Non_directory_over_a_directory_without_a_whiteout_still_replaces_it()
    {
        var image = Base().Layer("file over dir", l => l.File("data", "f\n"));
        var m = Reference.Load(image);
        Assert.Equal(FileType.File, m.Attrs("data").Type);
        Assert.False(m.Visible("data/b"));
        Assert.Equal(RemovalCause.AncestorReplaced, m.Record("data/b", 1).Cause);
        Reference.AssertSameAsUmoci(image);
    }

    [Fact]
    public void File_replaced_by_a_directory_starts_empty()
    {
        var image = Base().Layer("rm /etc/keep && mkdir /etc/keep", l => l.Whiteout("etc/keep").Dir("etc/keep").File("etc/keep/inside", "in\n"));
        var m = Reference.Load(image);
        Assert.Equal(FileType.Directory, m.Attrs("etc/keep").Type);
        Assert.True(m.Visible("etc/keep/inside"));
        Assert.Equal(ChangeKind.Modified, m.Status("etc/keep", 1));
        Assert.Equal(ChangeKind.Added, m.Status("etc/keep/inside", 1));
        Reference.AssertSameAsUmoci(image);
    }

    [Fact]
    public void Hardlinks_within_a_layer_and_to_a_lower_file_share_content_and_count_links()
    {
        var image = Base()
            .Layer("ln", l => l.Dir("hl").File("hl/a", "shared\n", mode: 0x1ED).Hardlink("hl/b", "hl/a").Hardlink("hl/c with space", "hl/a"))
            .Layer("ln /etc/keep /etc/keep2", l => l.Dir("etc").Hardlink("etc/keep2", "etc/keep"));
        var m = Reference.Load(image);
        var a = m.Attrs("hl/a");
        var b = m.Attrs("hl/b");
        Assert.Equal(a.ContentHash, b.ContentHash);
        Assert.Equal(a.Inode, b.Inode);
        Assert.Equal(0x1ED, b.Mode); // a hardlink is the same inode: the target's mode
        Assert.Equal("hl/a", b.HardlinkTarget);
        Assert.Equal(m.Attrs("etc/keep").Inode, m.Attrs("etc/keep2").Inode);
        Assert.Equal(5, m.Attrs("etc/keep2").Size);
        Assert.Empty(m.Problems);
        Reference.AssertSameAsUmoci(image);
    }

    [Fact]
    public void A_hardlink_to_a_file_its_own_layer_whites_out_keeps_the_content()
    {
        // tar order: the link is made while the lower file exists, then the whiteout removes the old name
        var image = Base().Layer("ln /etc/keep /etc/kept && rm /etc/keep", l => l.Dir("etc").Hardlink("etc/kept", "etc/keep").Whiteout("etc/keep"));
        var m = Reference.Load(image);
        Assert.False(m.Visible("etc/keep"));
        Assert.Equal(5, m.Attrs("etc/kept").Size);
        Assert.Empty(m.Problems);
        Reference.AssertSameAsUmoci(image);
    }

    [Fact]
    public void Hardlink_to_a_missing_path_is_reported_not_fatal()
    {
        var image = Base().Layer("bad ln", l => l.Hardlink("etc/link", "nowhere/at/all"));
        var m = Reference.Load(image);
        Assert.False(m.Visible("etc/link"));
        var p = Assert.Single(m.Problems);
        Assert.Equal(ProblemKind.HardlinkTargetMissing, p.Kind);
        Assert.Equal(1, p.LayerIndex);
        Assert.Contains("nowhere/at/all", p.Message);
    }

    [Fact]
    public void A_path_deleted_and_added_again_later_is_added_again()
    {
        var image = Base()
            .Layer("rm /etc/gone", l => l.Whiteout("etc/gone"))
            .Layer("echo v2 > /etc/gone", l => l.File("etc/gone", "version 2\n"));
        var m = Reference.Load(image);
        Assert.Equal(ChangeKind.Removed, m.Status("etc/gone", 1));
        Assert.Equal(ChangeKind.Added, m.Status("etc/gone", 2));
        Assert.False(m.Visible("etc/gone", 1));
        Assert.Equal(10, m.Attrs("etc/gone").Size);
        Reference.AssertSameAsUmoci(image);
    }

    [Fact]
    public void A_layer_may_delete_and_recreate_a_path_whatever_the_marker_order()
    {
        var image = Base().Layer("recreate", l => l.File("etc/gone", "again\n").Whiteout("etc/gone"));
        var m = Reference.Load(image);
        Assert.True(m.Visible("etc/gone"));
        Assert.Equal(6, m.Attrs("etc/gone").Size);
        Assert.Equal(ChangeKind.Modified, m.Status("etc/gone", 1));
        Reference.AssertSameAsUmoci(image);
    }

    [Fact]
    public void Duplicate_entries_in_one_layer_the_later_wins()
    {
        var image = Base().Layer("dup", l => l.File("etc/dup", "first\n").File("etc/dup", "second one\n", mode: 0x180));
        var m = Reference.Load(image);
        Assert.Equal(11, m.Attrs("etc/dup").Size);
        Assert.Equal(0x180, m.Attrs("etc/dup").Mode);
        Assert.Equal(ChangeKind.Added, m.Status("etc/dup", 1));
        Assert.Equal(1, m.Layers[1].Added);
        Reference.AssertSameAsUmoci(image);
    }

    [Fact]
    public void Orphan_whiteout_is_a_note_not_an_error()
    {
        var image = Base().Layer("rm nothing", l => l.Dir("etc").Whiteout("etc/never-was").Whiteout("no/such/dir"));
        var m = Reference.Load(image);
        Assert.Equal(2, m.Layers[1].Whiteouts.Count(w => w.Orphan));
        Assert.Equal(2, m.Problems.Count(p => p.Kind == ProblemKind.OrphanWhiteout));
        Assert.Equal(Reference.Load(Base()).VisiblePaths(), m.VisiblePaths());
        Reference.AssertSameAsUmoci(image);
    }

    [Fact]
    public void Metadata_only_changes_are_modified_and_say_what_changed()
    {
        var later = ImageBuilder.Epoch.AddDays(3);
        var image = Base().Layer("chmod, chown, touch", l => l
            .Dir("etc")
            .File("etc/keep", "keep\n", mode: 0x180)
            .File("etc/gone", "gone\n", uid: 1000, gid: 1000)
            .Dir("data").File("data/b", "bb\n", mtime: later));
        var m = Reference.Load(image);
        Assert.Equal(AttributeChange.Mode, m.Record("etc/keep", 1).Changed);
        Assert.Equal(AttributeChange.Uid | AttributeChange.Gid, m.Record("etc/gone", 1).Changed);
        var touched = m.Record("data/b", 1);
        Assert.Equal(ChangeKind.Modified, touched.Kind);
        Assert.True(touched.IsMTimeOnly);
        Assert.Equal(ChangeKind.Unmodified, m.Status("etc", 1)); // re-stated, identical
        Reference.AssertSameAsUmoci(image);
    }

    [Fact]
    public void Unchanged_rewrite_is_unmodified()
    {
        var image = Base().Layer("COPY keep /etc/keep", l => l.Dir("etc").File("etc/keep", "keep\n"));
        var m = Reference.Load(image);
        Assert.Equal(ChangeKind.Unmodified, m.Status("etc/keep", 1));
        Assert.Equal(2, m.Layers[1].Unmodified);
        Assert.Equal(0, m.Layers[1].Modified + m.Layers[1].Added + m.Layers[1].Removed);
    }

    [Fact]
    public void Aufs_metadata_is_ignored()
    {
        var image = Base().Layer("aufs", l => l
            .Dir(".wh..wh.plnk").File(".wh..wh.plnk/123.456", "x\n").File(".wh..wh.aufs", "")
            .File("etc/new", "n\n"));
        var m = Reference.Load(image);
        Assert.Null(m.Find(".wh..wh.plnk"));
        Assert.Null(m.Find(".wh..wh.aufs"));
        Assert.True(m.Visible("etc/new"));
        Assert.Empty(m.Layers[1].Whiteouts);
    }

    [Fact]
    public void Overlay_native_whiteout_is_kept_as_a_device_and_flagged()
    {
        var image = Base().Layer("overlay leftovers", l => l.Dir("etc").CharDevice("etc/gone", 0, 0, mode: 0));
        var m = Reference.Load(image);
        var a = m.Attrs("etc/gone");
        Assert.Equal(FileType.CharDevice, a.Type);
        Assert.True(a.OverlayNativeMarker);
        var p = Assert.Single(m.Problems);
        Assert.Equal(ProblemKind.OverlayNativeMarker, p.Kind);
        Assert.Contains("not applied", p.Message);
        Reference.AssertSameAsUmoci(image);
    }

    [Fact]
    public void Missing_parents_are_created_implicitly()
    {
        var image = new ImageBuilder().Layer("no parents", l => l.File("a/b/c/file", "deep\n"));
        var m = Reference.Load(image);
        Assert.Equal(["a", "a/b", "a/b/c", "a/b/c/file"], m.VisiblePaths());
        Assert.True(m.Attrs("a/b").Implicit);
        Assert.Equal(0x1ED, m.Attrs("a/b").Mode);
        Reference.AssertSameAsUmoci(image);
    }

    [Fact]
    public void Special_files_devices_fifos_symlinks_and_setuid_bits_survive()
    {
        var image = new ImageBuilder().Layer("specials", l => l
            .Dir("dev").CharDevice("dev/null", 1, 3).Fifo("dev/fifo")
            .Dir("bin").File("bin/su", "su\n", mode: 0xFED).Dir("tmp", 0x3FF)
            .Symlink("bin/sh", "busybox").Symlink("bin/loop1", "loop2").Symlink("bin/loop2", "loop1").Symlink("bin/dangling", "/nonexistent"));
        var m = Reference.Load(image);
        Assert.Equal((1, 3), (m.Attrs("dev/null").DevMajor, m.Attrs("dev/null").DevMinor));
        Assert.Equal(FileType.Fifo, m.Attrs("dev/fifo").Type);
        Assert.Equal("-rwsr-sr-t", m.Attrs("bin/su").ModeString());
        Assert.Equal("drwxrwxrwt", m.Attrs("tmp").ModeString()); // 01777
        Assert.Equal("loop2", m.Attrs("bin/loop1").LinkTarget);
        Reference.AssertSameAsUmoci(image);
    }

    [Fact]
    public void Merge_is_the_same_from_every_layer_compression()
    {
        var image = SampleImage.Create();
        var gzip = Reference.OurListing(image, LayerCompression.Gzip);
        Assert.Equal(gzip, Reference.OurListing(image, LayerCompression.Zstd));
        Assert.Equal(gzip, Reference.OurListing(image, LayerCompression.None));
    }

    [Fact]
    public void The_bundled_sample_merges_as_umoci_does() => Reference.AssertSameAsUmoci(SampleImage.Create());
}
