namespace LayerDive.Samples;

/// <summary>One tiny image per OverlayFS rule, for teaching (samples/lessons/*.oci.tar, samples/README.md).</summary>
public sealed record Lesson(string Name, string Rule, string TryPath, Func<ImageBuilder> Build);

public static class Lessons
{
    private static ImageBuilder Base() => new ImageBuilder().Layer("ADD rootfs.tar /", l => l
        .Dir("etc").File("etc/hostname", "lesson\n")
        .Dir("app").File("app/main.py", "print('hello')\n").File("app/config.ini", "[app]\ndebug=false\n")
        .Dir("app/cache").File("app/cache/a.bin", new string('a', 2000)).File("app/cache/b.bin", new string('b', 3000)));

    public static readonly IReadOnlyList<Lesson> All =
    [
        new("file-whiteout", "A whiteout file .wh.NAME in an upper layer hides NAME from the layers below.", "/app/config.ini",
            () => Base().Layer("RUN rm /app/config.ini", l => l.Dir("app").Whiteout("app/config.ini"))),
        new("directory-whiteout", "A whiteout for a directory hides the directory and everything under it.", "/app/cache/a.bin",
            () => Base().Layer("RUN rm -rf /app/cache", l => l.Dir("app").Whiteout("app/cache"))),
        new("opaque-directory", "An opaque marker DIR/.wh..wh..opq hides every lower child of DIR; the layer's own children stay.", "/app/main.py",
            () => Base().Layer("RUN rm -rf /app && mkdir /app && echo v2 > /app/VERSION", l => l.Dir("app").Opaque("app").File("app/VERSION", "v2\n"))),
        new("dir-to-file", "A file written where a directory stood replaces it: the directory's whole subtree is gone.", "/app/cache/b.bin",
            () => Base().Layer("RUN rm -rf /app/cache && echo off > /app/cache", l => l.Dir("app").File("app/cache", "off\n"))),
        new("chmod-copy-up", "Changing only metadata copies the whole file up into the new layer: the bytes are stored twice.", "/app/main.py",
            () => Base().Layer("RUN chmod +x /app/main.py", l => l.Dir("app").File("app/main.py", "print('hello')\n", mode: 0x1ED))),
        new("hardlink-across-layers", "Linking to a lower file copies it up; the two names share one content, which stays while either name does.", "/app/a.link",
            () => Base()
                .Layer("RUN ln /app/cache/a.bin /app/a.link", l => l.Dir("app").Dir("app/cache").File("app/cache/a.bin", new string('a', 2000)).Hardlink("app/a.link", "app/cache/a.bin"))
                .Layer("RUN rm /app/cache/a.bin", l => l.Dir("app/cache").Whiteout("app/cache/a.bin"))),
        // what `docker run --name c IMAGE sh -c '...'` leaves in the container's upper directory, as a layer
        // (the comment marks it as a container's read-write layer, as container://c reads it)
        new("container-layer", "A running container writes into its own read-write layer: a write is a copy-up, a delete a whiteout, rm -rf DIR; mkdir DIR an opaque DIR.", "/app/config.ini",
            () => Base().Layer("container c: its read-write layer (echo container > /etc/hostname; echo ok >> /app/out.log; rm /app/config.ini; rm -rf /app/cache; mkdir /app/cache; echo c > /app/cache/c.bin)", l => l
                .Dir("etc").File("etc/hostname", "container\n")
                .Dir("app").File("app/out.log", "ok\n").Whiteout("app/config.ini")
                .Dir("app/cache").Opaque("app/cache").File("app/cache/c.bin", "c\n"), comment: "layerdive:container-layer")),
    ];

    public static void WriteAll(string dir)
    {
        Directory.CreateDirectory(dir);
        foreach (var lesson in All)
            lesson.Build().WriteOciArchive(Path.Combine(dir, lesson.Name + ".oci.tar"), "lesson/" + lesson.Name + ":latest");
    }
}
