using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;

namespace LayerDive.Samples;

/// <summary>
/// A realistic file-heavy image for the benchmark: about <c>entries</c> tar entries in 15 gzip layers,
/// shaped as a Debian base with apt packages (docs, locales, man pages, dpkg records, libraries with
/// their soname links), a Python with site-packages (<c>__pycache__/*.pyc</c>, dist-info folders), a
/// Node.js app (node_modules with nested node_modules, <c>.bin</c> links, workspaces whose packages are
/// hardlinks into a lower layer), build output in deep trees (depth 15 to 26), then the changes images
/// carry: whiteouts of files and of whole directories, opaque directories, rewrites of lower files with
/// the same bytes, other bytes or another mode or owner, a directory replaced by a file and a file by a
/// directory, files deleted and added again. Entries are ustar, or GNU with long-name records when a
/// name or link is longer than 100 bytes (not PAX: the runtime names PAX headers after the process id,
/// so the bytes would change from run to run); directories come before their
/// children, and a layer repeats the directories above what it changes, as a layer diff does.
/// Deterministic: the same arguments give the same bytes (a fixed seed, no clock).
/// </summary>
public static class FileHeavyImage
{
    /// <summary>Writes the layout and returns the number of tar entries written.</summary>
    public static long WriteOciLayout(string dir, int entries, string tag = "fileheavy", int seed = 26) =>
        new Generator(entries, seed).Write(dir, tag);

    private readonly record struct FileSpec(string Path, int Size, int Salt, int Mode, bool Binary, int Uid);

    private sealed class Generator
    {
        private static readonly string[] Words =
        [
            "core", "util", "array", "string", "parse", "stream", "buffer", "event", "emitter", "path", "glob", "minimatch",
            "color", "chalk", "debug", "semver", "json", "yaml", "http", "proxy", "agent", "cache", "lru", "map", "set",
            "is", "has", "get", "define", "property", "object", "assign", "keys", "type", "of", "to", "regex", "escape",
            "source", "babel", "plugin", "preset", "transform", "runtime", "helper", "loader", "webpack", "postcss",
            "eslint", "config", "rule", "jest", "mock", "react", "dom", "router", "redux", "tslib", "types", "node",
            "fs", "extra", "graceful", "signal", "exit", "once", "wrappy", "inherits", "safe", "buffer", "iconv", "lite",
            "mime", "db", "ms", "qs", "body", "parser", "cookie", "express", "accepts", "negotiator", "vary", "etag",
            "fresh", "range", "send", "serve", "static", "finalhandler", "encode", "url", "punycode", "uri", "js",
            "tokens", "ast", "walk", "acorn", "terser", "micro", "match", "fill", "braces", "picomatch", "chokidar",
            "fsevents", "anymatch", "readdirp", "binary", "extensions", "normalize", "which", "cross", "spawn", "shebang",
            "command", "regex", "ansi", "styles", "strip", "wrap", "cli", "width", "emoji", "yargs", "cliui", "locate",
        ];

        private static readonly string[] Languages =
        [
            "af", "ar", "ast", "be", "bg", "bn", "bs", "ca", "cs", "cy", "da", "de", "el", "en_GB", "eo", "es", "et", "eu",
            "fa", "fi", "fr", "ga", "gl", "he", "hi", "hr", "hu", "id", "is", "it", "ja", "ka", "kk", "km", "ko", "lt",
            "lv", "mk", "ml", "mr", "ms", "nb", "ne", "nl", "nn", "oc", "pa", "pl", "pt", "pt_BR", "ro", "ru", "sk", "sl",
            "sq", "sr", "sv", "ta", "te", "th", "tr", "uk", "vi", "zh_CN", "zh_TW",
        ];

        private const string Site = "usr/local/lib/python3.11/site-packages";
        private const int Dir755 = 0x1ED, File644 = 0x1A4, Exec755 = 0x1ED;

        private readonly Random _rng;
        private readonly int _target;
        private readonly byte[] _text;
        private readonly byte[] _binary;
        private long _total;

        // what later layers change, sampled as the lower layers are written
        private readonly List<FileSpec> _rewritable = [];
        private readonly List<FileSpec> _deletable = [];
        private readonly List<string> _testDirs = [];
        private readonly List<string> _docDirs = [];
        private readonly List<string> _pyUpgradable = [];
        private readonly List<List<FileSpec>> _linkSources = [];
        private readonly List<FileSpec> _aptLists = [];
        private readonly List<FileSpec> _deleted = [];

        public Generator(int entries, int seed)
        {
            _rng = new Random(seed);
            _target = Math.Max(entries, 2000);
            // a pool of code-like text and one of noise: file contents are slices of them, chosen by a hash
            // of the path, so that a rewrite can give the same bytes again or other bytes
            var text = new StringBuilder(1 << 20);
            while (text.Length < 1 << 20)
            {
                text.Append(Words[_rng.Next(Words.Length)]);
                text.Append(_rng.Next(12) switch { 0 => ";\n", 1 => "(", 2 => ") {\n  ", 3 => ".", 4 => " = ", 5 => ",\n", _ => " " });
            }
            _text = Encoding.ASCII.GetBytes(text.ToString());
            // compiled files (.pyc, .mo, .gz, .so) compress about 2:1: noise and text in turn
            _binary = new byte[1 << 20];
            _rng.NextBytes(_binary);
            for (int i = 0; i < _binary.Length; i += 128)
                _text.AsSpan(i, 64).CopyTo(_binary.AsSpan(i + 64));
        }

        public long Write(string dir, string tag)
        {
            var layout = new StreamedOciLayout(dir);
            var created = ImageBuilder.Epoch;
            void Layer(double share, string createdBy, Action<LayerTar, int> fill)
            {
                created = created.AddMinutes(7);
                var history = new JsonObject { ["created"] = created.ToString("yyyy-MM-ddTHH:mm:ssZ"), ["created_by"] = createdBy };
                layout.AddLayer(history, tar =>
                {
                    var layer = new LayerTar(tar, created, this);
                    fill(layer, share > 0 ? (int)(_target * share) : (int)Math.Max(1, _target - _total));
                    _total += layer.Count;
                }, TarEntryFormat.Ustar, CompressionLevel.Optimal);
            }
            void Empty(string createdBy)
            {
                created = created.AddMinutes(1);
                layout.AddEmptyHistory(new JsonObject { ["created"] = created.ToString("yyyy-MM-ddTHH:mm:ssZ"), ["created_by"] = createdBy });
            }

            Layer(0.08, "/bin/sh -c #(nop) ADD file:debian-bookworm-rootfs.tar.xz in /", Base);
            Empty("/bin/sh -c #(nop)  CMD [\"bash\"]");
            Layer(0.10, "RUN apt-get update && apt-get install -y --no-install-recommends build-essential git locales && rm -rf /var/lib/apt/lists/*", AptInstall);
            Empty("ENV LANG=C.UTF-8 PYTHON_VERSION=3.11.9");
            Layer(0.07, "RUN ./configure --enable-optimizations && make -j && make install  # python", PythonStdlib);
            Layer(0.15, "RUN pip install --no-cache-dir -r requirements.txt", PipInstall);
            Layer(0.02, "RUN pip install --upgrade numpy requests && find / -name tests -path '*site-packages*' -exec rm -rf {} +", PipUpgrade);
            Empty("ENV NODE_VERSION=20.14.0");
            Layer(0.05, "RUN tar -xJf node-v20.14.0-linux-x64.tar.xz -C /usr/local --strip-components=1", NodeRuntime);
            Empty("WORKDIR /app");
            Layer(0.25, "RUN npm ci", NpmCi);
            Layer(0.06, "RUN pnpm install --frozen-lockfile  # workspaces hardlinked to the store", Workspaces);
            Layer(0.06, "RUN npm run build", Build);
            Layer(0.04, "RUN chmod -R g+w /app/node_modules/.bin && chown -R node /app/dist && npm rebuild", Rewrites);
            Layer(0.02, "RUN rm -rf /usr/share/doc/* /usr/share/man node_modules/*/test node_modules/.cache && npm cache clean", Cleanup);
            Layer(0.005, "RUN rm -rf build config && echo done > build && mkdir config && cp -a /backup/. /", Replacements);
            Layer(0.05, "RUN apt-get install -y language-pack-all", LanguagePack);
            Layer(0.04, "RUN npm install -g yarn pnpm typescript", NodeGlobals);
            Empty("USER 1000:1000");
            Layer(-1, "COPY --chown=node . /app", AppSource); // what is left of the target
            Empty("EXPOSE 3000");
            Empty("CMD [\"node\", \"dist/server.js\"]");
            layout.Finish(tag, new JsonObject
            {
                ["created"] = created.ToString("yyyy-MM-ddTHH:mm:ssZ"),
                ["config"] = new JsonObject { ["User"] = "1000:1000", ["WorkingDir"] = "/app", ["Cmd"] = new JsonArray("node", "dist/server.js") },
            });
            return _total;
        }

        // ---------------- the layers ----------------

        private void Base(LayerTar t, int budget)
        {
            foreach (var d in new[] { "boot", "dev", "home", "media", "mnt", "opt", "proc", "root", "run", "srv", "sys", "usr/bin", "usr/sbin", "usr/lib/x86_64-linux-gnu", "var/log", "var/cache/apt/archives/partial", "var/lib/apt/lists/partial" })
                t.Dir(d);
            t.Dir("tmp", 0x3FF);
            t.Symlink("bin", "usr/bin");
            t.Symlink("sbin", "usr/sbin");
            t.Symlink("lib", "usr/lib");
            t.Symlink("lib64", "usr/lib64");
            t.File(new FileSpec("usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", 210_000, 0, Exec755, true, 0));
            t.Symlink("usr/lib64/ld-linux-x86-64.so.2", "../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2");
            t.File(new FileSpec("usr/bin/perl", 3_600, 0, Exec755, true, 0));
            t.Hardlink("usr/bin/perl5.36.0", "usr/bin/perl");
            t.File(new FileSpec("usr/bin/dpkg", 2_200, 0, Exec755, true, 0));
            for (int i = 0; i < 12; i++)
                _aptLists.Add(t.File(new FileSpec($"var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_{Words[i]}_binary-amd64_Packages.lz4", Size(9_000), 0, File644, true, 0)));
            t.File(new FileSpec("var/cache/apt/pkgcache.bin", Size(20_000), 0, File644, true, 0));
            t.File(new FileSpec("var/cache/apt/srcpkgcache.bin", Size(20_000), 0, File644, true, 0));
            Sample(t.File(new FileSpec("var/lib/dpkg/status", Size(30_000), 0, File644, false, 0)), 1);
            Sample(t.File(new FileSpec("etc/ld.so.cache", Size(8_000), 0, File644, true, 0)), 1);
            foreach (var f in new[] { "passwd", "group", "shadow", "hostname", "hosts", "os-release", "bash.bashrc", "profile", "nsswitch.conf", "login.defs" })
                Sample(t.File(new FileSpec("etc/" + f, Size(600), 0, f == "shadow" ? 0x1A0 : File644, false, 0)), 2);
            while (t.Count < budget) DebPackage(t, DebName(), 0.5);
        }

        private void AptInstall(LayerTar t, int budget)
        {
            // apt rewrites its records; the lists it downloaded are deleted in the same RUN (whiteouts of the base's)
            t.File(new FileSpec("var/lib/dpkg/status", Size(60_000), 1, File644, false, 0));
            t.File(new FileSpec("etc/ld.so.cache", Size(12_000), 1, File644, true, 0));
            foreach (var f in _aptLists) t.Whiteout(f.Path);
            t.Opaque("var/cache/apt");
            t.File(new FileSpec("var/cache/apt/pkgcache.bin", Size(25_000), 1, File644, true, 0));
            t.Dir("etc/alternatives");
            foreach (var (name, file, target) in new[] { ("cc", "usr/bin/gcc-12", "/usr/bin/gcc-12"), ("c++", "usr/bin/g++-12", "/usr/bin/g++-12"), ("editor", "usr/bin/nano", "/bin/nano"), ("pager", "usr/bin/less", "/bin/less"), ("awk", "usr/bin/mawk", "/usr/bin/mawk") })
            {
                t.File(new FileSpec(file, Size(4_000), 0, Exec755, true, 0));
                t.Symlink("etc/alternatives/" + name, target); // absolute, some through the /bin link
                t.Symlink("usr/bin/" + name, "/etc/alternatives/" + name);
            }
            t.File(new FileSpec("usr/bin/git", 40_000, 0, Exec755, true, 0));
            foreach (var cmd in new[] { "git-receive-pack", "git-upload-archive", "git-upload-pack" })
                t.Hardlink("usr/bin/" + cmd, "usr/bin/git");
            while (t.Count < budget) DebPackage(t, DebName(), 0.7);
        }

        private void PythonStdlib(LayerTar t, int budget)
        {
            t.File(new FileSpec("usr/local/bin/python3.11", 16_000, 0, Exec755, true, 0));
            t.Symlink("usr/local/bin/python3", "python3.11");
            t.Symlink("usr/local/bin/python", "python3");
            t.File(new FileSpec("usr/local/bin/pip3.11", Size(300), 0, Exec755, false, 0));
            t.Hardlink("usr/local/bin/pip3", "usr/local/bin/pip3.11");
            t.Hardlink("usr/local/bin/pip", "usr/local/bin/pip3.11");
            t.Dir(Site);
            string[] stdlib = ["asyncio", "email", "encodings", "json", "http", "importlib", "logging", "multiprocessing", "unittest", "xml", "urllib", "concurrent", "ctypes", "sqlite3", "tomllib", "wsgiref", "lib2to3", "idlelib", "test", "distutils"];
            int round = 0;
            while (t.Count < budget)
            {
                var pkg = stdlib[round % stdlib.Length] + (round >= stdlib.Length ? $"/{PyName()}{round}" : "");
                PyModules(t, "usr/local/lib/python3.11/" + pkg, _rng.Next(3, 40), sample: false);
                round++;
            }
        }

        private void PipInstall(LayerTar t, int budget)
        {
            var seen = new HashSet<string>();
            while (t.Count < budget)
            {
                var name = PyName();
                if (!seen.Add(name)) continue;
                var version = VersionOf(name);
                bool upgradable = _pyUpgradable.Count < 12 && _rng.Next(8) == 0; // an upgrade deletes its old dist-info: few, as the whiteouts
                if (upgradable) _pyUpgradable.Add(name);
                PyModules(t, $"{Site}/{name}", Heavy(12, 0.9, 2_000), sample: !upgradable);
                if (_rng.Next(3) == 0)
                {
                    var tests = $"{Site}/{name}/tests";
                    PyModules(t, tests, _rng.Next(2, 20), sample: false);
                    if (!upgradable) _testDirs.Add(tests);
                }
                if (_rng.Next(10) == 0) t.File(new FileSpec($"{Site}/{name}/_speedups.cpython-311-x86_64-linux-gnu.so", Size(40_000), 0, Exec755, true, 0));
                DistInfo(t, name, version);
                if (_rng.Next(5) == 0)
                {
                    var script = $"usr/local/bin/{name.Replace('_', '-')}";
                    t.File(new FileSpec(script, Size(250), 0, Exec755, false, 0));
                }
            }
        }

        private void PipUpgrade(LayerTar t, int budget)
        {
            // an upgraded package: its folder deleted and made again (opaque), its old dist-info deleted
            foreach (var name in _pyUpgradable)
            {
                if (t.Count >= budget) break;
                t.Opaque($"{Site}/{name}");
                PyModules(t, $"{Site}/{name}", Heavy(12, 0.9, 2_000), sample: false, salt: 1);
                t.Whiteout($"{Site}/{name}-{VersionOf(name)}.dist-info");
                DistInfo(t, name, VersionOf(name) + ".post1");
            }
            // the tests folders of the others (whiteouts of whole directories)
            foreach (var dir in Spread(_testDirs, 8)) t.Whiteout(dir);
            _testDirs.Clear();
        }

        private void NodeRuntime(LayerTar t, int budget)
        {
            t.File(new FileSpec("usr/local/bin/node", 90_000, 0, Exec755, true, 0));
            t.Symlink("usr/local/bin/npm", "../lib/node_modules/npm/bin/npm-cli.js");
            t.Symlink("usr/local/bin/npx", "../lib/node_modules/npm/bin/npx-cli.js");
            t.Symlink("usr/local/bin/corepack", "../lib/node_modules/corepack/dist/corepack.js");
            foreach (var h in new[] { "node.h", "v8.h", "uv.h", "node_api.h", "js_native_api.h" })
                t.File(new FileSpec("usr/local/include/node/" + h, Size(20_000), 0, File644, false, 0));
            new NodeTree(this, t, "usr/local/lib/node_modules", false).Package("npm", "10.7.0", 40, 0);
            t.File(new FileSpec("usr/local/lib/node_modules/npm/bin/npm-cli.js", Size(300), 0, Exec755, false, 0));
            t.File(new FileSpec("usr/local/lib/node_modules/npm/bin/npx-cli.js", Size(300), 0, Exec755, false, 0));
            t.File(new FileSpec("usr/local/lib/node_modules/corepack/dist/corepack.js", Size(900), 0, Exec755, false, 0));
            var inner = new NodeTree(this, t, "usr/local/lib/node_modules/npm/node_modules", false);
            while (t.Count < budget) inner.Package(NodeName(), Version(), Heavy(10, 1.0, 800), 0);
        }

        private void NpmCi(LayerTar t, int budget)
        {
            var tree = new NodeTree(this, t, "app/node_modules", sample: true);
            t.Dir("app", Dir755, 1000);
            t.File(new FileSpec("app/package.json", Size(1_500), 0, File644, false, 1000));
            t.File(new FileSpec("app/package-lock.json", Size(400_000), 0, File644, false, 1000));
            // the build cache that a later layer deletes and makes again (opaque)
            for (int i = 0; i < 40; i++)
                t.File(new FileSpec($"app/node_modules/.cache/babel-loader/{Hex(i)}.json", Size(2_000), 0, File644, false, 1000));
            while (t.Count < budget) tree.Package(NodeName(), Version(), Heavy(10, 1.0, 2_000), 0);
        }

        private void Workspaces(LayerTar t, int budget)
        {
            // pnpm links a workspace's packages to its store: hardlinks to files an earlier layer wrote
            int ws = 0, next = 0;
            while (t.Count < budget && _linkSources.Count > 0)
            {
                var root = $"app/packages/{Words[ws % Words.Length]}-{ws / Words.Length}";
                t.File(new FileSpec(root + "/package.json", Size(900), 0, File644, false, 1000));
                t.File(new FileSpec(root + "/src/index.ts", Size(2_000), 0, File644, false, 1000));
                for (int p = 0; p < Math.Min(30, _linkSources.Count) && t.Count < budget; p++)
                {
                    var files = _linkSources[next++ % _linkSources.Count];
                    var pkgRoot = files[0].Path[..files[0].Path.LastIndexOf('/')];
                    var inStore = pkgRoot["app/node_modules/".Length..];
                    foreach (var f in files)
                        t.Hardlink($"{root}/node_modules/{inStore}{f.Path[pkgRoot.Length..]}", f.Path, f.Mode, f.Uid);
                }
                ws++;
            }
        }

        private void Build(LayerTar t, int budget)
        {
            // build/ is a directory here and a file two layers up; config is a file here and a directory there
            for (int i = 0; i < 30; i++)
                t.File(new FileSpec($"app/build/static/chunk-{Hex(i)}.js", Size(3_000), 0, File644, false, 1000));
            t.File(new FileSpec("app/config", Size(300), 0, File644, false, 1000));
            int tree = 0;
            while (t.Count < budget)
            {
                // a Java-like source tree and its classes: paths 15 to 26 directories deep
                int depth = 15 + _rng.Next(12);
                var sb = new StringBuilder(tree % 2 == 0 ? "app/dist/classes/com/example" : "app/src/main/java/org/acme");
                for (int d = sb.ToString().Count(c => c == '/') + 1; d < depth; d++)
                    sb.Append('/').Append(Words[_rng.Next(Words.Length)]).Append(d % 5 == 0 ? "impl" : "");
                var leaf = sb.ToString();
                int files = _rng.Next(3, 25);
                for (int i = 0; i < files; i++)
                {
                    var cls = Capital(Words[_rng.Next(Words.Length)]) + Capital(Words[_rng.Next(Words.Length)]) + (i > 0 ? i.ToString() : "");
                    var spec = t.File(new FileSpec($"{leaf}/{cls}{(tree % 2 == 0 ? ".class" : ".java")}", Size(1_800), 0, File644, tree % 2 == 0, 1000));
                    if (tree % 2 == 0) Sample(spec, 30);
                }
                // some levels on the way down have files of their own
                var mid = leaf[..leaf.LastIndexOf('/')];
                t.File(new FileSpec(mid + "/package-info.java", Size(200), 0, File644, false, 1000));
                tree++;
            }
        }

        private void Rewrites(LayerTar t, int budget)
        {
            // what a RUN over lower files leaves: the same bytes again (unmodified), other bytes, another mode, another owner
            int i = 0;
            foreach (var f in _rewritable)
            {
                if (t.Count >= budget) break;
                switch (i++ % 4)
                {
                    case 0: t.File(f); break;
                    case 1: t.File(f with { Salt = f.Salt + 1, Size = Size(f.Size + 1) }); break;
                    case 2: t.File(f with { Mode = f.Mode | 0x10 | 0x49 }); break;
                    default: t.File(f with { Uid = 1000 }); break;
                }
            }
            t.Dir("app/node_modules/.bin", 0x1FD, 1000); // a directory's mode alone
        }

        private void Cleanup(LayerTar t, int _)
        {
            var gone = new HashSet<string>();
            foreach (var d in Spread(_docDirs, 12)) { t.Whiteout(d); gone.Add(d); }
            t.Whiteout("usr/share/man");
            gone.Add("usr/share/man");
            foreach (var d in Spread(_testDirs, 12)) { t.Whiteout(d); gone.Add(d); }
            // the cache made again: an opaque directory
            t.Opaque("app/node_modules/.cache");
            for (int i = 0; i < 10; i++)
                t.File(new FileSpec($"app/node_modules/.cache/babel-loader/{Hex(i + 1000)}.json", Size(2_000), 0, File644, false, 1000));
            foreach (var f in Spread(_deletable, 24))
            {
                if (Under(f.Path, gone)) continue;
                t.Whiteout(f.Path);
                _deleted.Add(f);
            }
        }

        private void Replacements(LayerTar t, int budget)
        {
            t.File(new FileSpec("app/build", 5, 0, File644, false, 1000)); // a directory replaced by a file
            t.File(new FileSpec("app/config/default.json", Size(400), 0, File644, false, 1000)); // a file replaced by a directory
            t.Symlink("app/current", "/app/dist"); // absolute
            foreach (var f in _deleted) t.File(f with { Salt = f.Salt + 7 }); // deleted below, back again
            while (t.Count < budget)
                t.File(new FileSpec($"app/logs/{Hex(t.Count)}.log", Size(500), 0, File644, false, 1000));
        }

        private void LanguagePack(LayerTar t, int budget)
        {
            int round = 0;
            while (t.Count < budget)
            {
                var domain = DebName() + (round++ % 3 == 0 ? "-" + Words[_rng.Next(Words.Length)] : "");
                foreach (var lang in Languages)
                    t.File(new FileSpec($"usr/share/locale-langpack/{lang}/LC_MESSAGES/{domain}.mo", Size(3_000), 0, File644, true, 0));
                t.File(new FileSpec($"usr/share/i18n/locales/{domain}", Size(2_000), 0, File644, false, 0));
            }
        }

        private void NodeGlobals(LayerTar t, int budget)
        {
            var tree = new NodeTree(this, t, "usr/local/lib/node_modules", false);
            foreach (var (name, bin) in new[] { ("yarn", "bin/yarn.js"), ("pnpm", "bin/pnpm.cjs"), ("typescript", "bin/tsc") })
            {
                tree.Package(name, Version(), 60, 0);
                t.File(new FileSpec($"usr/local/lib/node_modules/{name}/{bin}", Size(2_000), 0, Exec755, false, 0));
                t.Symlink("usr/local/bin/" + Path.GetFileNameWithoutExtension(bin), $"../lib/node_modules/{name}/{bin}");
            }
            while (t.Count < budget) tree.Package(NodeName(), Version(), Heavy(10, 1.0, 800), 0);
        }

        private void AppSource(LayerTar t, int budget)
        {
            t.File(new FileSpec("app/package.json", Size(1_500), 1, File644, false, 1000)); // changed
            t.File(new FileSpec("app/.env", Size(200), 0, 0x180, false, 1000));
            t.File(new FileSpec("app/dist/server.js", Size(30_000), 0, File644, false, 1000));
            int round = 0;
            while (t.Count < budget)
            {
                var dir = "app/src/" + string.Join('/', Enumerable.Range(0, 1 + _rng.Next(6)).Select(_ => Words[_rng.Next(Words.Length)]));
                for (int i = 0, n = _rng.Next(2, 15); i < n; i++)
                {
                    var ext = (i % 4) switch { 0 => ".tsx", 1 => ".ts", 2 => ".test.ts", _ => ".module.css" };
                    t.File(new FileSpec($"{dir}/{Capital(Words[_rng.Next(Words.Length)])}{round}_{i}{ext}", Size(1_500), 0, File644, false, 1000));
                }
                round++;
            }
        }

        // ---------------- the shapes ----------------

        private void DebPackage(LayerTar t, string pkg, double translated)
        {
            var doc = $"usr/share/doc/{pkg}";
            t.File(new FileSpec(doc + "/copyright", Size(1_800), 0, File644, false, 0));
            t.File(new FileSpec(doc + "/changelog.Debian.gz", Size(1_500), 0, File644, true, 0));
            if (_rng.Next(4) == 0) t.File(new FileSpec(doc + "/NEWS.Debian.gz", Size(800), 0, File644, true, 0));
            if (_rng.Next(6) == 0) t.File(new FileSpec(doc + "/README.Debian", Size(1_200), 0, File644, false, 0));
            _docDirs.Add(doc);
            if (_rng.Next(2) == 0)
                for (int i = 0, n = 1 + _rng.Next(4); i < n; i++)
                    t.File(new FileSpec($"usr/share/man/man{1 + _rng.Next(8)}/{pkg}{(i > 0 ? "-" + Words[_rng.Next(Words.Length)] : "")}.{1 + _rng.Next(8)}.gz", Size(2_000), 0, File644, true, 0));
            if (_rng.NextDouble() < translated)
                foreach (var lang in Languages)
                    if (_rng.Next(3) > 0) t.File(new FileSpec($"usr/share/locale/{lang}/LC_MESSAGES/{pkg}.mo", Size(4_000), 0, File644, true, 0));
            t.File(new FileSpec($"var/lib/dpkg/info/{pkg}.list", Size(600), 0, File644, false, 0));
            Sample(t.File(new FileSpec($"var/lib/dpkg/info/{pkg}.md5sums", Size(800), 0, File644, false, 0)), 10);
            if (_rng.Next(3) == 0)
            {
                var so = $"usr/lib/x86_64-linux-gnu/lib{pkg}.so";
                int major = _rng.Next(1, 9);
                var real = t.File(new FileSpec($"{so}.{major}.{_rng.Next(20)}.{_rng.Next(9)}", Size(30_000), 0, File644, true, 0)).Path;
                t.Symlink($"{so}.{major}", Path.GetFileName(real)); // relative, as ldconfig makes them
                if (_rng.Next(2) == 0) t.Symlink(so, $"lib{pkg}.so.{major}");
            }
            if (_rng.Next(4) == 0) Sample(t.File(new FileSpec($"usr/bin/{pkg}", Size(20_000), 0, Exec755, true, 0)), 4);
            if (_rng.Next(8) == 0) t.File(new FileSpec($"etc/{pkg}/{pkg}.conf", Size(700), 0, File644, false, 0));
        }

        private void PyModules(LayerTar t, string dir, int modules, bool sample, int salt = 0)
        {
            t.File(new FileSpec(dir + "/__init__.py", Size(300), salt, File644, false, 0));
            t.File(new FileSpec(dir + "/__pycache__/__init__.cpython-311.pyc", Size(400), salt, File644, true, 0));
            var sub = dir;
            for (int i = 0; i < modules; i++)
            {
                if (i > 0 && i % 15 == 0)
                {
                    sub = $"{dir}/{PyName()}";
                    t.File(new FileSpec(sub + "/__init__.py", Size(300), salt, File644, false, 0));
                }
                var mod = PyName() + (i > 0 ? "_" + i : "");
                var py = t.File(new FileSpec($"{sub}/{mod}.py", Size(3_000), salt, File644, false, 0));
                var pyc = t.File(new FileSpec($"{sub}/__pycache__/{mod}.cpython-311.pyc", Size(2_500), salt, File644, true, 0));
                if (sample) { Sample(py, 40); SampleDelete(pyc, 40); }
            }
        }

        private void DistInfo(LayerTar t, string name, string version)
        {
            var info = $"{Site}/{name}-{version}.dist-info";
            foreach (var (file, size) in new[] { ("METADATA", 2_500), ("RECORD", 2_000), ("WHEEL", 110), ("INSTALLER", 4), ("top_level.txt", 20), ("LICENSE", 1_100) })
                t.File(new FileSpec($"{info}/{file}", file == "LICENSE" ? 1_100 : Size(size), file == "LICENSE" ? 0 : 1, File644, false, 0)); // the licence text: the same bytes in most dist-info folders
            if (_rng.Next(4) == 0) t.File(new FileSpec(info + "/entry_points.txt", Size(150), 0, File644, false, 0));
        }

        /// <summary>A node_modules folder: packages with nested node_modules, .bin links, duplicates hardlinked within the layer.</summary>
        private sealed class NodeTree(Generator g, LayerTar t, string root, bool sample)
        {
            private readonly Dictionary<string, (string Dir, List<FileSpec> Files)> _written = [];
            private readonly HashSet<string> _names = [];

            public void Package(string name, string version, int files, int depth, string? parent = null)
            {
                var modules = parent is null ? root : parent + "/node_modules";
                var dir = $"{modules}/{name}";
                if (!_names.Add(dir)) return;
                var key = name + "@" + version;
                if (depth > 0 && _written.TryGetValue(key, out var first))
                {
                    // the same package version again, deduplicated by the package manager into hardlinks
                    foreach (var f in first.Files) t.Hardlink(dir + f.Path[first.Dir.Length..], f.Path, f.Mode, f.Uid);
                    return;
                }
                int uid = root.StartsWith("app/", StringComparison.Ordinal) ? 1000 : 0;
                var list = new List<FileSpec>
                {
                    t.File(new FileSpec(dir + "/package.json", g.Size(900), 0, File644, false, uid)),
                    t.File(new FileSpec(dir + "/LICENSE", 1_071, 0, File644, false, uid)), // the MIT text: the same bytes in most packages
                    t.File(new FileSpec(dir + "/README.md", g.Size(3_000), 0, File644, false, uid)),
                    t.File(new FileSpec(dir + "/index.js", g.Size(400), 0, File644, false, uid)),
                };
                if (g._rng.Next(3) == 0) list.Add(t.File(new FileSpec(dir + "/CHANGELOG.md", g.Size(5_000), 0, File644, false, uid)));
                bool dist = g._rng.Next(3) == 0;
                for (int i = 0; i < files; i++)
                {
                    var stem = Words[g._rng.Next(Words.Length)] + (i > 0 ? i.ToString() : "");
                    var sub = i < 20 ? "" : "/" + Words[(i / 20) % Words.Length];
                    list.Add(t.File(new FileSpec($"{dir}/lib{sub}/{stem}.js", g.Size(1_500), 0, File644, false, uid)));
                    if (dist && i % 2 == 0)
                    {
                        list.Add(t.File(new FileSpec($"{dir}/dist{sub}/{stem}.d.ts", g.Size(500), 0, File644, false, uid)));
                        list.Add(t.File(new FileSpec($"{dir}/dist{sub}/{stem}.js.map", g.Size(2_000), 0, File644, false, uid)));
                    }
                }
                if (g._rng.Next(4) == 0)
                {
                    for (int i = 0, n = g._rng.Next(2, 12); i < n; i++)
                        t.File(new FileSpec($"{dir}/test/{(i == 3 ? "fixtures/données-é" : "spec")}{i}.js", g.Size(800), 0, File644, false, uid));
                    if (sample && depth == 0) g._testDirs.Add(dir + "/test");
                }
                if (g._rng.Next(8) == 0)
                {
                    list.Add(t.File(new FileSpec(dir + "/bin/cli.js", g.Size(700), 0, Exec755, false, uid)));
                    var link = $"{modules}/.bin/{name[(name.IndexOf('/') + 1)..]}";
                    if (_names.Add(link)) t.Symlink(link, $"../{name}/bin/cli.js"); // relative
                }
                _written[key] = (dir, list);
                if (sample && depth == 0)
                {
                    int role = g._rng.Next(40);
                    if (role < 2) g._linkSources.Add(list);
                    else if (role < 5) g._rewritable.AddRange(list.Take(3));
                    else if (role < 8) g._deletable.Add(list[2]); // README.md
                }
                // nested node_modules: versions that conflict with the top level, some already written (hardlinked)
                if (depth < 3 && g._rng.Next(5) == 0)
                    for (int i = 0, n = 1 + g._rng.Next(3); i < n; i++)
                    {
                        if (_written.Count > 10 && g._rng.Next(2) == 0)
                        {
                            var again = _written.Keys.ElementAt(g._rng.Next(Math.Min(_written.Count, 200)));
                            var at = again.LastIndexOf('@');
                            Package(again[..at], again[(at + 1)..], 0, depth + 1, dir);
                        }
                        else Package(g.NodeName(), g.Version(), g.Heavy(6, 0.8, 200), depth + 1, dir);
                    }
            }
        }

        // ---------------- helpers ----------------

        private void Sample(FileSpec f, int oneIn)
        {
            if (_rng.Next(oneIn) == 0) _rewritable.Add(f);
        }

        private void SampleDelete(FileSpec f, int oneIn)
        {
            if (_rng.Next(oneIn) == 0) _deletable.Add(f);
        }

        /// <summary>
        /// At most <paramref name="n"/> items spread over the list. Whiteouts are few whatever the image's size (about 80), as in
        /// real images (a later layer deletes tens of paths, not a share of them); dive v0.13.1 also walks its whole
        /// tree once for each whiteout (200 whiteouts over 100,000 files: 58 s against 1.3 s for 200 additions),
        /// so a share would keep it from ever finishing at a million entries.
        /// </summary>
        private static IEnumerable<T> Spread<T>(List<T> list, int n)
        {
            for (int i = 0; i < Math.Min(n, list.Count); i++) yield return list[(int)((long)i * list.Count / Math.Min(n, list.Count))];
        }

        private static bool Under(string path, HashSet<string> dirs)
        {
            for (int i = path.LastIndexOf('/'); i > 0; i = path.LastIndexOf('/', i - 1))
                if (dirs.Contains(path[..i])) return true;
            return false;
        }

        /// <summary>A size around <paramref name="typical"/> (log-normal: most small, a few large).</summary>
        private int Size(int typical)
        {
            double u1 = 1.0 - _rng.NextDouble(), u2 = _rng.NextDouble();
            double normal = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
            return (int)Math.Clamp(typical * 0.3 * Math.Exp(0.8 * normal), 0, 500_000);
        }

        /// <summary>A count with a heavy tail: most near <paramref name="typical"/>, a few up to <paramref name="max"/>.</summary>
        private int Heavy(int typical, double sigma, int max)
        {
            double u1 = 1.0 - _rng.NextDouble(), u2 = _rng.NextDouble();
            double normal = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
            return (int)Math.Clamp(typical * Math.Exp(sigma * normal), 1, max);
        }

        private readonly Dictionary<string, string> _versions = [];
        private string Version() => $"{_rng.Next(10)}.{_rng.Next(30)}.{_rng.Next(12)}";
        private string VersionOf(string name) => _versions[name];
        private string PyName()
        {
            var name = Words[_rng.Next(Words.Length)] + (_rng.Next(2) == 0 ? "_" + Words[_rng.Next(Words.Length)] : "");
            if (!_versions.ContainsKey(name)) _versions[name] = Version();
            return name;
        }
        private string NodeName() => _rng.Next(6) switch
        {
            0 => $"@{Words[_rng.Next(Words.Length)]}/{Words[_rng.Next(Words.Length)]}-{Words[_rng.Next(Words.Length)]}",
            1 or 2 => Words[_rng.Next(Words.Length)],
            _ => $"{Words[_rng.Next(Words.Length)]}-{Words[_rng.Next(Words.Length)]}{(_rng.Next(4) == 0 ? "-" + Words[_rng.Next(Words.Length)] : "")}",
        };
        private readonly HashSet<string> _debNames = [];
        private string DebName()
        {
            var name = _rng.Next(4) switch
            {
                0 => $"lib{Words[_rng.Next(Words.Length)]}{_rng.Next(1, 9)}",
                1 => $"python3-{Words[_rng.Next(Words.Length)]}",
                _ => $"{Words[_rng.Next(Words.Length)]}-{Words[_rng.Next(Words.Length)]}",
            };
            if (!_debNames.Add(name)) _debNames.Add(name = $"{name}-{_debNames.Count}"); // the count only grows: unique
            return name;
        }
        private static string Capital(string w) => char.ToUpperInvariant(w[0]) + w[1..];
        private static string Hex(int i) => ((uint)(i * 2654435761u)).ToString("x8");

        /// <summary>The bytes of a file: a slice of a pool chosen by its path and salt (the same spec, the same bytes).</summary>
        internal MemoryStream Content(FileSpec f)
        {
            var pool = f.Binary ? _binary : _text;
            int size = Math.Min(f.Size, pool.Length / 2);
            uint h = 2166136261;
            foreach (var c in f.Path) h = (h ^ c) * 16777619;
            h = (h ^ (uint)f.Salt) * 16777619;
            return new MemoryStream(pool, (int)(h % (uint)(pool.Length - size)), size, writable: false);
        }

        /// <summary>One layer's tar: counts entries, writes the directories above each path once.</summary>
        private sealed class LayerTar(TarWriter tar, DateTimeOffset time, Generator g)
        {
            private readonly HashSet<string> _dirs = [];
            public int Count;

            public void Dir(string path, int mode = Dir755, int uid = 0)
            {
                if (!_dirs.Add(path)) return;
                Parents(path, uid);
                Write(Entry(TarEntryType.Directory, path + "/", mode, uid));
            }

            public FileSpec File(FileSpec f)
            {
                Parents(f.Path, f.Uid);
                var e = Entry(TarEntryType.RegularFile, f.Path, f.Mode, f.Uid);
                e.DataStream = g.Content(f);
                Write(e);
                return f;
            }

            public void Symlink(string path, string target)
            {
                Parents(path, 0);
                var e = Entry(TarEntryType.SymbolicLink, path, 0x1FF, 0, target);
                Write(e);
            }

            public void Hardlink(string path, string target, int mode = File644, int uid = 0)
            {
                Parents(path, uid);
                var e = Entry(TarEntryType.HardLink, path, mode, uid, target);
                Write(e);
            }

            /// <summary><c>DIR/.wh.NAME</c>: deletes a lower file or a whole lower directory.</summary>
            public void Whiteout(string path)
            {
                int slash = path.LastIndexOf('/');
                var marker = slash < 0 ? ".wh." + path : path[..(slash + 1)] + ".wh." + path[(slash + 1)..];
                Parents(marker, 0);
                Write(Entry(TarEntryType.RegularFile, marker, 0, 0));
            }

            /// <summary>The directory and its <c>.wh..wh..opq</c>: nothing of the lower layers shows beneath it.</summary>
            public void Opaque(string dir)
            {
                Dir(dir);
                Write(Entry(TarEntryType.RegularFile, dir + "/.wh..wh..opq", 0, 0));
            }

            private void Parents(string path, int uid)
            {
                int slash = path.LastIndexOf('/');
                if (slash > 0) Dir(path[..slash], Dir755, path.StartsWith("app/", StringComparison.Ordinal) ? 1000 : uid);
            }

            private void Write(TarEntry e)
            {
                tar.WriteEntry(e);
                Count++;
            }

            private PosixTarEntry Entry(TarEntryType type, string name, int mode, int uid, string link = "")
            {
                PosixTarEntry e = Encoding.UTF8.GetByteCount(name) <= 100 && Encoding.UTF8.GetByteCount(link) <= 100 ? new UstarTarEntry(type, name) : new GnuTarEntry(type, name) { AccessTime = time, ChangeTime = time };
                if (link.Length > 0) e.LinkName = link;
                e.Mode = (UnixFileMode)mode;
                e.Uid = e.Gid = uid;
                e.ModificationTime = time;
                return e;
            }
        }
    }
}
