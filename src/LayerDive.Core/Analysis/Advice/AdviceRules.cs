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
/// States are made once per distinct set of positions and shared by every directory in it; a state
/// knows which literal names and which globs move it on, so the common name (one no pattern is
/// waiting for) costs a look at its length, perhaps a hash lookup, and the few globs alive.
/// </summary>
internal sealed class PathMatcher
{
    private readonly string[][] _segments;
    private readonly int[] _rule;
    private readonly Dictionary<int[], State> _states = new(StatesComparer.Instance);

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
        var start = new int[_segments.Length];
        for (int p = 0; p < start.Length; p++) start[p] = p << 8;
        Start = Intern(start)!;
    }

    /// <summary>The root's state: every pattern at its first segment.</summary>
    public State Start { get; }

    /// <summary>The state of this set of positions (a position: pattern &lt;&lt; 8 | segment), made once; null for none.</summary>
    private State? Intern(int[] positions)
    {
        if (positions.Length == 0) return null;
        Array.Sort(positions);
        if (!_states.TryGetValue(positions, out var state)) _states[positions] = state = new State(this, positions);
        return state;
    }

    /// <summary>A set of live pattern positions, with what moves each on.</summary>
    internal sealed class State
    {
        private readonly PathMatcher _matcher;
        private readonly int[] _positions;
        // the positions a name carries down whatever it is: each ** takes any name
        private readonly int[] _carried;
        private State? _carriedState;
        private bool _carriedMade;
        // the moves: a segment to match, and the pattern position past it
        private readonly Dictionary<string, (int P, int Pos)[]> _literal;
        private readonly Dictionary<string, (int P, int Pos)[]>.AlternateLookup<ReadOnlySpan<char>> _lookup;
        private readonly (string Pattern, int P, int Pos)[] _globs;
        // bit n: a literal of n characters (63: longer) is awaited
        private readonly ulong _lengths;
        private readonly List<(int P, int Pos)> _hits = [];
        // what each set of moves met gave (the literal's, and which of the first 64 globs matched): the names
        // that move a state on are mostly the same few (node_modules, __pycache__, *.pyc), so each outcome is
        // made once rather than a list and an array for every such name
        private readonly Dictionary<((int P, int Pos)[]? Literal, ulong Globs), (int Best, bool Subtree, State? Next)> _moves = [];

        internal State(PathMatcher matcher, int[] positions)
        {
            _matcher = matcher;
            _positions = positions;
            var carried = new List<int>();
            var literal = new Dictionary<string, List<(int, int)>>(StringComparer.Ordinal);
            var globs = new List<(string, int, int)>();
            foreach (int s in positions)
            {
                int p = s >> 8, pos = s & 0xFF;
                var seg = matcher._segments[p];
                string segment;
                int past;
                if (seg[pos] == "**")
                {
                    carried.Add(s);
                    if (pos + 1 >= seg.Length) continue;
                    (segment, past) = (seg[pos + 1], pos + 2);
                }
                else (segment, past) = (seg[pos], pos + 1);
                if (segment.AsSpan().IndexOfAny('*', '?') >= 0) globs.Add((segment, p, past));
                else
                {
                    if (!literal.TryGetValue(segment, out var moves)) literal[segment] = moves = [];
                    moves.Add((p, past));
                    _lengths |= 1UL << Math.Min(segment.Length, 63);
                }
            }
            _carried = [.. carried];
            _literal = literal.ToDictionary(m => m.Key, m => m.Value.ToArray(), StringComparer.Ordinal);
            _lookup = _literal.GetAlternateLookup<ReadOnlySpan<char>>();
            _globs = [.. globs];
        }

        /// <summary>
        /// Matches a child called <paramref name="name"/> of a directory in this state: returns the rule
        /// it matches (the lowest; <paramref name="subtree"/> true when the rule takes everything below
        /// too) or -1, and gives the child's own state (null: no pattern is alive below it).
        /// </summary>
        public int Step(ReadOnlySpan<char> name, out bool subtree, out State? next)
        {
            subtree = false;
            (int P, int Pos)[]? literal = null;
            if ((_lengths >> Math.Min(name.Length, 63) & 1) != 0) _lookup.TryGetValue(name, out literal);
            _hits.Clear();
            ulong matched = 0;
            for (int g = 0; g < _globs.Length; g++)
            {
                var (pattern, p, pos) = _globs[g];
                if (!Glob.Match(pattern, name)) continue;
                _hits.Add((p, pos));
                if (g < 64) matched |= 1UL << g;
            }
            if (literal is null && _hits.Count == 0)
            {
                next = Carried();
                return -1;
            }
            bool cached = _globs.Length <= 64;
            if (cached && _moves.TryGetValue((literal, matched), out var known))
            {
                (subtree, next) = (known.Subtree, known.Next);
                return known.Best;
            }
            if (literal is not null) _hits.AddRange(literal);
            var positions = new List<int>(_carried);
            int best = -1;
            foreach (var (p, pos) in _hits)
            {
                var seg = _matcher._segments[p];
                bool whole = pos == seg.Length - 1 && seg[pos] == "**";
                if (pos == seg.Length || whole)
                {
                    int rule = _matcher._rule[p];
                    if (best < 0 || rule < best) (best, subtree) = (rule, whole);
                    else if (rule == best && whole) subtree = true;
                }
                else if (!positions.Contains(p << 8 | pos)) positions.Add(p << 8 | pos);
            }
            next = _matcher.Intern([.. positions]);
            if (cached) _moves[(literal, matched)] = (best, subtree, next);
            return best;
        }

        private State? Carried()
        {
            if (!_carriedMade)
            {
                _carriedState = _carried.Length == _positions.Length ? this : _matcher.Intern([.. _carried]);
                _carriedMade = true;
            }
            return _carriedState;
        }
    }

    private sealed class StatesComparer : IEqualityComparer<int[]>
    {
        public static readonly StatesComparer Instance = new();

        public bool Equals(int[]? x, int[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(int[] positions)
        {
            var hash = new HashCode();
            hash.AddBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(positions.AsSpan()));
            return hash.ToHashCode();
        }
    }
}
