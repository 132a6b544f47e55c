using System.Text.RegularExpressions;

namespace LayerDive.Core.Analysis.Advice;

/// <summary>What a path rule finds: a package manager's cache, or content only a build needs.</summary>
internal enum RuleGroup
{
    Cache,
    BuildOnly,
}

/// <summary>
/// A rule over where a file lies. Patterns are paths from the image's root, segment by segment:
/// <c>*</c> and <c>?</c> match within a segment, a segment <c>**</c> matches any number of segments
/// (none too); a pattern ending in <c>/**</c> takes the whole directory, any other names the file
/// itself. Its reason and its fix are the texts <c>AdviceRule_{Id}Why</c> and <c>AdviceRule_{Id}Fix</c>.
/// </summary>
internal sealed record PathRule(string Id, RuleGroup Group, string[] Patterns);

/// <summary>
/// A secret found by the file's name (and the folder it is in), confirmed by a content marker: a name
/// alone is never enough (a .pem may be a public certificate, a .npmrc may hold no token, and packages
/// ship test keys named id_rsa and .env files of no secret, which would fail every gate by default).
/// Only the marker's presence is used: the content itself is never kept nor shown.
/// </summary>
internal sealed record SecretRule(string Id, string[] Names, string? Folder, string? MarkerPattern, string[] NotNames)
{
    private Regex? _marker;

    /// <summary>The content marker, made when first asked for: a NonBacktracking regex takes milliseconds to build, and a run whose markers the layer cache holds asks for none.</summary>
    public Regex? Marker => MarkerPattern is null ? null : _marker ??= new Regex(MarkerPattern, AdviceRules.MarkerOptions);
}

/// <summary>
/// The advice's rules, as data: each row names the paths, the reason and the fix of one rule (texts in
/// the resources, by the rule's id). Order is precedence: a file matched by an earlier row is that row's.
/// </summary>
internal static class AdviceRules
{
    /// <summary>Files read for a content marker are at most this long (a private key, a .npmrc); larger ones are not secrets of these kinds.</summary>
    public const int MarkerBytes = 64 * 1024;

    public static readonly PathRule[] Paths =
    [
        // package manager caches: what an install leaves that nothing in the image reads again
        new("Apt", RuleGroup.Cache, ["var/lib/apt/lists/**", "var/cache/apt/**"]),
        new("Apk", RuleGroup.Cache, ["var/cache/apk/**", "etc/apk/cache/**"]),
        new("Dnf", RuleGroup.Cache, ["var/cache/dnf/**", "var/cache/yum/**", "var/cache/libdnf5/**"]),
        new("Pip", RuleGroup.Cache, ["**/.cache/pip/**"]),
        new("Npm", RuleGroup.Cache, ["**/.npm/_cacache/**"]),
        new("Yarn", RuleGroup.Cache, ["usr/local/share/.cache/yarn/**", "**/.cache/yarn/**"]),
        new("Pnpm", RuleGroup.Cache, ["**/.local/share/pnpm/store/**", "**/.pnpm-store/**", "**/.cache/pnpm/**"]),
        new("Go", RuleGroup.Cache, ["**/.cache/go-build/**", "**/go/pkg/mod/**"]),
        new("Gem", RuleGroup.Cache, ["usr/local/bundle/cache/**", "var/lib/gems/*/cache/**", "usr/lib/ruby/gems/*/cache/**", "usr/local/lib/ruby/gems/*/cache/**", "**/.gem/**"]),
        new("Conda", RuleGroup.Cache, ["opt/conda/pkgs/**", "**/miniconda3/pkgs/**", "**/anaconda3/pkgs/**", "**/.conda/pkgs/**"]),
        // content a build needs and a running program does not
        new("Toolchain", RuleGroup.BuildOnly,
        [
            "usr/lib/gcc/**", "usr/libexec/gcc/**", "usr/lib/llvm-*/**", "usr/local/go/**", "usr/local/rustup/**", "**/.rustup/**",
            "usr/bin/gcc*", "usr/bin/g++*", "usr/bin/cc", "usr/bin/c++", "usr/bin/*-linux-gnu*-gcc*", "usr/bin/*-linux-gnu*-g++*",
            "usr/bin/clang*", "usr/bin/lto-dump*",
        ]),
        new("Headers", RuleGroup.BuildOnly, ["usr/include/**", "usr/local/include/**"]),
        new("StaticLibraries", RuleGroup.BuildOnly, ["usr/lib/**/*.a", "usr/local/lib/**/*.a", "lib/**/*.a"]),
        new("GitDirectory", RuleGroup.BuildOnly, ["**/.git/**"]),
        new("PackageTests", RuleGroup.BuildOnly,
        [
            "**/site-packages/*/tests/**", "**/site-packages/*/test/**", "**/dist-packages/*/tests/**", "**/dist-packages/*/test/**",
            "**/node_modules/*/test/**", "**/node_modules/*/tests/**", "**/node_modules/*/__tests__/**",
            "**/node_modules/@*/*/test/**", "**/node_modules/@*/*/tests/**",
        ]),
    ];

    /// <summary>
    /// Folders a distribution's packages fill: a two-stage sketch does not name them as what to copy
    /// across (the final stage installs its runtime packages itself); what the build made lies elsewhere.
    /// </summary>
    public static readonly HashSet<string> SystemFolders = new(StringComparer.Ordinal)
    {
        "bin", "sbin", "lib", "lib32", "lib64", "libx32", "etc", "usr/bin", "usr/sbin", "usr/lib", "usr/lib32", "usr/lib64", "usr/libexec",
        "usr/share", "usr/include", "usr/src", "var/lib", "var/cache", "var/log", "var/tmp", "tmp", "root", "run", "dev", "proc", "sys",
    };

    internal const RegexOptions MarkerOptions = RegexOptions.CultureInvariant | RegexOptions.NonBacktracking;

    public static readonly SecretRule[] Secrets =
    [
        new("SshKey", ["id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk"], null, @"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----", []),
        new("PrivateKey", ["*.pem", "*.key"], null, @"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----", []),
        new("AwsCredentials", ["credentials"], ".aws", @"(?i)aws_secret_access_key\s*=\s*\S", []),
        new("DockerConfig", ["config.json"], ".docker", @"""(auth|identitytoken|registrytoken)""\s*:\s*""[^""]+""", []),
        new("Npmrc", [".npmrc"], null, @"(_authToken|_auth|_password)\s*=\s*\S", []),
        new("GitCredentials", [".git-credentials"], null, @"://[^:/\s@]+:[^@\s]+@", []),
        new("Netrc", [".netrc"], null, @"\bpassword\s+\S", []),
        new("DotEnv", [".env", ".env.*"], null, @"(?im)^[ \t]*(export[ \t]+)?[A-Z0-9_]*(SECRET|TOKEN|PASSWORD|PASSWD|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL)[A-Z0-9_]*[ \t]*=[ \t]*[^\s#]", [".env.example", ".env.sample", ".env.template", ".env.dist", ".env.defaults"]),
    ];

    /// <summary>The secret rule a file's name (and its folder's) matches, or -1.</summary>
    public static int SecretOf(ReadOnlySpan<char> name, ReadOnlySpan<char> folder)
    {
        // most names start with neither '.', 'i', 'c' nor end in .pem/.key: a look at the ends settles them
        if (name.Length == 0) return -1;
        char first = name[0];
        if (first is not ('.' or 'i' or 'c') && !name.EndsWith(".pem", StringComparison.Ordinal) && !name.EndsWith(".key", StringComparison.Ordinal))
            return -1;
        for (int i = 0; i < Secrets.Length; i++)
        {
            var rule = Secrets[i];
            if (rule.Folder is not null && !folder.SequenceEqual(rule.Folder)) continue;
            bool named = false;
            foreach (var n in rule.Names)
                if (Glob.Match(n, name)) { named = true; break; }
            if (!named) continue;
            bool excluded = false;
            foreach (var n in rule.NotNames)
                if (name.SequenceEqual(n)) { excluded = true; break; }
            if (!excluded) return i;
        }
        return -1;
    }
}

/// <summary>Shell-style matching of one path segment: <c>*</c> any run of characters, <c>?</c> one.</summary>
internal static class Glob
{
    public static bool Match(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || pattern[p] == text[t])) { p++; t++; }
            else if (p < pattern.Length && pattern[p] == '*') { star = p++; mark = t; }
            else if (star >= 0) { p = star + 1; t = ++mark; }
            else return false;
        }
        while (p < pattern.Length && pattern[p] == '*') p++;
        return p == pattern.Length;
    }
}

/// <summary>
/// Follows <see cref="AdviceRules.Paths"/> down the tree: a directory's state is the pattern positions
/// still alive below it, so each name is matched once, as the walk meets it, without making paths.
/// </summary>
internal sealed class PathMatcher
{
    private readonly string[][] _segments;
    private readonly int[] _rule;

    public PathMatcher(IReadOnlyList<PathRule> rules)
    {
        var segments = new List<string[]>();
        var rule = new List<int>();
        for (int r = 0; r < rules.Count; r++)
            foreach (var p in rules[r].Patterns)
            {
                segments.Add(p.Split('/'));
                rule.Add(r);
            }
        _segments = [.. segments];
        _rule = [.. rule];
        var start = new List<int>();
        for (int p = 0; p < _segments.Length; p++) start.Add(p << 8);
        Start = [.. start];
    }

    /// <summary>The root's state: every pattern at its first segment.</summary>
    public int[] Start { get; }

    /// <summary>
    /// Matches a child called <paramref name="name"/> of a directory in state <paramref name="states"/>:
    /// returns the rule it matches (the lowest; <paramref name="subtree"/> true when the rule takes
    /// everything below too) or -1, and fills <paramref name="next"/> with the child's own state.
    /// </summary>
    public int Step(int[] states, ReadOnlySpan<char> name, List<int> next, out bool subtree)
    {
        next.Clear();
        int best = -1;
        subtree = false;
        foreach (int s in states)
        {
            int p = s >> 8, pos = s & 0xFF;
            var seg = _segments[p];
            if (seg[pos] == "**")
            {
                Add(next, s); // the ** takes this name too
                if (pos + 1 < seg.Length && Glob.Match(seg[pos + 1], name)) Advance(p, pos + 2, next, ref best, ref subtree);
            }
            else if (Glob.Match(seg[pos], name)) Advance(p, pos + 1, next, ref best, ref subtree);
        }
        return best;
    }

    private void Advance(int p, int pos, List<int> next, ref int best, ref bool subtree)
    {
        var seg = _segments[p];
        bool whole = pos == seg.Length - 1 && seg[pos] == "**";
        if (pos == seg.Length || whole)
        {
            int rule = _rule[p];
            if (best < 0 || rule < best) (best, subtree) = (rule, whole);
            else if (rule == best && whole) subtree = true;
            return;
        }
        Add(next, p << 8 | pos);
    }

    private static void Add(List<int> next, int state)
    {
        if (!next.Contains(state)) next.Add(state);
    }
}
