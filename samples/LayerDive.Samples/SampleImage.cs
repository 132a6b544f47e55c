using System.Text;

namespace LayerDive.Samples;

/// <summary>
/// The bundled sample: a small "app" image whose layers show every change kind (added, modified,
/// removed, unmodified) and every OverlayFS rule (file and directory whiteouts, an opaque directory,
/// a directory replaced by a file and back, a hardlink to a lower layer, a metadata-only copy-up,
/// history entries without a layer). Well under 1 MB.
/// </summary>
public static class SampleImage
{
    public const string Tag = "layerdive/sample:latest";

    public static ImageBuilder Create()
    {
        var rng = new Random(20241102);
        byte[] Noise(int n) { var b = new byte[n]; rng.NextBytes(b); return b; }
        byte[] shell = Noise(6000), tool = Noise(3000), library = Noise(12000), package = Noise(20000), cache = Noise(8000);
        var config = "{\n  \"listen\": \":8080\",\n  \"log\": \"info\"\n}\n";

        return new ImageBuilder()
            .Layer("/bin/sh -c #(nop) ADD file:rootfs.tar in /", l => l
                .Dir("bin").Dir("dev").Dir("etc").Dir("tmp", 0x3FF).Dir("usr").Dir("usr/bin").Dir("usr/lib")
                .Dir("var").Dir("var/cache").Dir("var/log").Dir("var/run")
                .File("bin/sh", shell, 0x1ED)
                .Symlink("bin/bash", "sh")
                .CharDevice("dev/null", 1, 3)
                .File("etc/os-release", "NAME=\"Sample Linux\"\nVERSION_ID=1\n")
                .File("etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/srv/app:/bin/sh\n")
                .File("etc/motd", "Welcome to the LayerDive sample.\n")
                .File("usr/bin/tool", tool, 0x1ED)
                .File("var/run/daemon.pid", "1\n"))
            .Layer("RUN apt-get install -y app", l => l
                .Dir("usr").Dir("usr/lib").Dir("usr/lib/app")
                .File("usr/lib/app/libapp.so", library, 0x1ED)
                .File("usr/lib/app/app.py", "print('hello from the sample app')\n")
                .Dir("etc/app")
                .File("etc/app/config.json", config)
                .File("etc/app/defaults.json", "{}\n")
                .Dir("var/cache/apt").Dir("var/cache/apt/archives")
                .File("var/cache/apt/archives/app_1.0_amd64.deb", package)
                .File("var/cache/apt/pkgcache.bin", cache)
                .Dir("var/log/apt")
                .File("var/log/apt/history.log", "Start-Date: 2024-01-02\nInstall: app:amd64 (1.0)\n"))
            .Layer("RUN rm -rf /var/cache/apt/archives /var/log/apt/history.log  # a directory and a file whiteout", l => l
                .Dir("var/cache/apt").Whiteout("var/cache/apt/archives")
                .Dir("var/log/apt").Whiteout("var/log/apt/history.log"))
            .Layer("RUN rm -rf /etc/app && mkdir /etc/app && echo '{}' > /etc/app/site.json  # opaque directory", l => l
                .Dir("etc/app").Opaque("etc/app")
                .File("etc/app/site.json", "{}\n"))
            .Layer("COPY config.json /etc/app/config.json  # the same bytes again", l => l
                .Dir("etc/app")
                .File("etc/app/config.json", config))
            .Layer("RUN chmod 4755 /usr/bin/tool && echo 'be nice' >> /etc/motd  # copy-ups", l => l
                .Dir("usr/bin").File("usr/bin/tool", tool, 0x9ED)
                .Dir("etc").File("etc/motd", "Welcome to the LayerDive sample.\nbe nice\n"))
            .Layer("RUN rm -rf /var/run && echo run > /var/run && ln /usr/lib/app/libapp.so /usr/lib/libapp.so.1  # dir -> file, hardlink", l => l
                .Dir("var").File("var/run", "run\n")
                .Dir("usr/lib").File("usr/lib/app/libapp.so", library, 0x1ED)
                .Hardlink("usr/lib/libapp.so.1", "usr/lib/app/libapp.so"))
            .Empty("ENV APP_ENV=production")
            .Empty("LABEL org.opencontainers.image.title=\"LayerDive sample\"")
            .Empty("CMD [\"/usr/bin/tool\"]");
    }
}
