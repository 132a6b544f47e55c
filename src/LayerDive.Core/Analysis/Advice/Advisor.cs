using System.Runtime.InteropServices;
using System.Text;
using LayerDive.Core.Layers;
using LayerDive.Core.Loading;
using LayerDive.Core.Model;
using LayerDive.Core.Resources;

namespace LayerDive.Core.Analysis.Advice;

/// <summary>
/// What to change in the build, with the bytes each change saves: one walk over the finished tree,
/// looking at every stored copy of every file once.
/// <para>
/// No byte counts twice. Each stored copy (a path as one layer wrote it) goes to one finding, by this
/// precedence: a secret (by name, confirmed by content where the name is not enough) before anything
/// else; a copy no longer visible then goes by what the next layer did to the path: the same content
/// with other metadata or none (copied up unchanged), other content (rewritten), gone (removed later:
/// a whiteout, an opaque directory, a parent or the path replaced by another type); a copy still
/// visible goes to the first rule that matches where it lies (package manager caches, then build-only
/// content), else, when other visible paths hold the same content, to duplicates (the copy in the
/// lowest layer, then the first met, is kept; the others are the finding). Empty files save nothing and
/// are left out; a hardlink stores no content of its own; content still visible under another name
/// (a hardlink) is not waste.
/// </para>
/// </summary>
public static class Advisor
{
    /// <summary>Paths listed per finding (the rest are counted).</summary>
    public const int ListedPaths = 10;

    /// <summary>
    /// Analyses a finished model. With <paramref name="load"/> (its source still open), files whose
    /// name may be a secret are read back (only those, and only small ones) for their content
    /// markers; without it, the rules that need a marker find nothing.
    /// </summary>
    public static AdviceResult Analyze(ImageModel model, ImageLoad? load = null, CancellationToken ct = default) =>
        Analyze(model, load, null, ct);

    /// <inheritdoc cref="Analyze(ImageModel, ImageLoad?, CancellationToken)"/>
    /// <param name="visible">the model's visible contents (<see cref="OverlayMetrics.VisibleInodes"/>), where the overlay's figures are made beside</param>
    internal static AdviceResult Analyze(ImageModel model, ImageLoad? load, OverlayMetrics.VisibleContent? visible, CancellationToken ct = default)
    {
        if (!model.IsComplete) throw new InvalidOperationException("the model is still loading");
        var pass = new Pass(model, visible ?? OverlayMetrics.VisibleInodes(model));
        pass.Walk();
        HashSet<(int Node, int Layer)>? confirmed = null;
        if (load is not null)
        {
            // a second read the source cannot give (standard input, a blob gone since, a cached layer's
            // blob) leaves the markers unread: the advice says so, and never fails the command
            try { confirmed = ReadMarkers(load, pass.Candidates, ct); }
            catch (Exception ex) when (ex is ImageException or IOException or InvalidDataException or UnauthorizedAccessException) { }
        }
        return pass.Finish(confirmed ?? [], confirmed is not null);
    }

    /// <summary>Which candidates' content holds their rule's marker; reads only the layers holding candidates, through the verified reader.</summary>
    private static HashSet<(int Node, int Layer)> ReadMarkers(ImageLoad load, List<Candidate> candidates, CancellationToken ct)
    {
        var found = new HashSet<(int, int)>();
        var wanted = new Dictionary<(int Layer, string Path), List<Candidate>>();
        foreach (var c in candidates)
        {
            if (AdviceRules.Secrets[c.Rule].MarkerPattern is null || c.Bytes > AdviceRules.MarkerBytes) continue;
            // the layer cache knows from the layer's one verified read: its blob is not read again
            if (load.KnownMarkers(c.Layer, c.Node.Path) is ulong known)
            {
                if ((known >> c.Rule & 1) != 0) found.Add((c.Node.Number, c.Layer));
                continue;
            }
            var key = (c.Layer, c.Node.Path);
            if (!wanted.TryGetValue(key, out var list)) wanted[key] = list = [];
            list.Add(c);
        }
        if (wanted.Count == 0) return found;
        var layers = wanted.Keys.Select(k => k.Layer).Distinct().Order().ToList();
        var read = new Dictionary<(int Layer, string Path), MemoryStream>();
        VerifiedLayers.Read(load, layers, indices => new MarkerSink(indices, wanted, read), ct);
        foreach (var ((layer, path), stream) in read)
            foreach (var c in wanted[(layer, path)])
                if (HoldsMarker(c.Rule, stream)) found.Add((c.Node.Number, c.Layer));
        return found;
    }

    private sealed class MarkerSink(IReadOnlyList<int> layers, Dictionary<(int Layer, string Path), List<Candidate>> wanted,
        Dictionary<(int Layer, string Path), MemoryStream> read) : IContentSink
    {
        public Stream? Open(string path)
        {
            // a blob several layers share is read once for all of them; a name held twice is read again (the later one counts)
            MemoryStream? stream = null;
            foreach (int layer in layers)
                if (wanted.ContainsKey((layer, path)))
                    read[(layer, path)] = stream ??= new MemoryStream();
            return stream is null ? null : new MarkerBytes(stream);
        }

        public void Add(in RawEntry entry) { }
    }

    /// <summary>
    /// Keeps a file's first <see cref="AdviceRules.MarkerBytes"/> bytes in <paramref name="content"/> (the candidates are no
    /// longer; a name held twice may be), passing every byte on to <paramref name="inner"/> when there is one.
    /// </summary>
    internal sealed class MarkerBytes(MemoryStream content, Stream? inner = null) : WriteOnlyForwardStream
    {
        public override void Flush() => inner?.Flush();

        public override void Write(byte[] buffer, int offset, int count)
        {
            int room = (int)Math.Max(0, AdviceRules.MarkerBytes - content.Length);
            if (room > 0) content.Write(buffer, offset, Math.Min(room, count));
            inner?.Write(buffer, offset, count);
        }
    }

    /// <summary>Whether <paramref name="content"/> holds rule <paramref name="rule"/>'s marker, as the bytes read as Latin-1.</summary>
    internal static bool HoldsMarker(int rule, MemoryStream content) =>
        // Latin-1 keeps every byte a character: the markers are ASCII, and nothing else is looked at
        AdviceRules.Secrets[rule].Marker!.IsMatch(Encoding.Latin1.GetString(content.GetBuffer(), 0, (int)content.Length));

    /// <summary>A stored copy whose name may be a secret, and where it goes if its content says it is not.</summary>
    internal readonly record struct Candidate(TreeNode Node, int Layer, long Bytes, int Rule, GroupKey Fallback, int? RemovedIn, int Attr, int Top);

    /// <summary>What groups copies into one finding: the kind, the rule, and the layers the finding is about.</summary>
    internal readonly record struct GroupKey(AdviceKind Kind, int Rule, int LayerA, int LayerB);

    private sealed class Group(GroupKey key, int layers)
    {
        public GroupKey Key { get; } = key;
        public long Bytes;
        public int Count;
        // bytes by the layer that stored them: the layers the finding names, and its compressed estimate
        public readonly long[] LayerBytes = new long[layers];
        public int? RemovedIn;
        // the largest copies, smallest first out
        public readonly PriorityQueue<(TreeNode Node, long Bytes, int Layer, int SameAs), (long, int, int)> Top = new();
        // what a later step made of the path (copied up, rewritten): the attributes it wrote
        public EntryAttributes? Later;
    }

    private sealed class Pass(ImageModel model, OverlayMetrics.VisibleContent visible)
    {
        private readonly TreeStore _tree = model.Root.Tree;
        private readonly PathMatcher _matcher = new(AdviceRules.Paths);
        private readonly OverlayMetrics.VisibleContent _visible = visible;
        private readonly Dictionary<GroupKey, Group> _groups = [];
        private readonly SameContent _same = new(model.Root.Tree);
        private readonly Dictionary<int, long> _kept = []; // what the image's own steps wrote that stays, by top folder
        private readonly int _baseLayers = LayerKinds.BaseLayers(model);
        private readonly double?[] _ratio = model.Layers.Select(l =>
            l.UncompressedSize > 0 && l.CompressedSize > 0 ? (double?)((double)l.CompressedSize / l.UncompressedSize) : null).ToArray();

        public List<Candidate> Candidates { get; } = [];

        public void Walk()
        {
            var tree = _tree;
            // a directory, the rule it lies under (-1: none yet), its matcher state (null: no rule can match
            // below), its depth and its top folder (the ancestor two levels down: what a build stage copies)
            var stack = new Stack<(int Node, int Rule, PathMatcher.State? State, int Depth, int Top)>();
            stack.Push((0, -1, _matcher.Start, 0, 0));
            Span<char> scratch = stackalloc char[256], folderScratch = stackalloc char[256];
            while (stack.Count > 0)
            {
                var (dir, dirRule, state, depth, top) = stack.Pop();
                var folder = dir == 0 ? [] : tree.NameChars(dir, folderScratch);
                long kept = 0;
                for (int c = tree.FirstChild(dir); c != TreeStore.None; c = tree.NextSibling(c))
                {
                    var name = tree.NameChars(c, scratch);
                    int rule = dirRule;
                    bool subtree = dirRule >= 0;
                    PathMatcher.State? childState = null;
                    if (rule < 0 && state is not null) rule = state.Step(name, out subtree, out childState);
                    int childTop = depth < 2 ? c : top;
                    if (tree.FirstChild(c) != TreeStore.None)
                        stack.Push((c, subtree ? rule : -1, subtree ? null : childState, depth + 1, childTop));
                    long stays = Visit(c, childTop, rule, AdviceRules.SecretOf(name, folder));
                    if (depth < 2) Keep(c, stays);
                    else kept += stays;
                }
                if (kept > 0) Keep(top, kept);
            }
        }

        /// <summary>Places each stored copy of a node; returns the bytes of its visible copy the image's own steps wrote and no rule took.</summary>
        private long Visit(int node, int top, int rule, int secret)
        {
            var tree = _tree;
            int count = tree.RecordCount(node);
            long stays = 0;
            for (int i = 0; i < count; i++)
            {
                var r = tree.Record(node, i);
                if (!r.IsPresent || r.Layer < 0 || !tree.FileContent(r.Attr, out long size, out var hash, out long inode) || size == 0) continue;
                // the last record is what the merge shows; an earlier copy shows only where its content still
                // does (the last record kept its identity, or a hardlink elsewhere holds it)
                bool visible = i == count - 1 || _visible.Contains(node, r.Attr, inode);
                GroupKey key;
                Group? group = null;
                int? removedIn = null;
                if (!visible)
                {
                    var later = tree.Record(node, i + 1);
                    key = new GroupKey(Hidden(later, size, hash), -1, r.Layer, later.Layer);
                    // a secret deleted later: the layer that deleted it (the last record, when it is a removal)
                    var last = tree.Record(node, count - 1);
                    if (!last.IsPresent) removedIn = last.Layer;
                    // what the later step wrote, built for the first copy of the group only
                    if (key.Kind != AdviceKind.RemovedLater && (group = Group(key)).Later is null) group.Later = tree.Attributes(later.Attr);
                }
                else if (rule >= 0)
                    key = new GroupKey(AdviceRules.Paths[rule].Group == RuleGroup.Cache ? AdviceKind.PackageCache : AdviceKind.BuildOnly, rule,
                        AdviceRules.Paths[rule].Group == RuleGroup.Cache ? r.Layer : -1, -1);
                else
                    key = new GroupKey(AdviceKind.Duplicate, -1, -1, -1);
                if (secret >= 0)
                {
                    var candidate = new Candidate(tree.Node(node), r.Layer, size, secret, key, removedIn, r.Attr, top);
                    if (AdviceRules.Secrets[secret].MarkerPattern is null) AddSecret(candidate);
                    else Candidates.Add(candidate);
                    continue;
                }
                if (key.Kind == AdviceKind.Duplicate)
                {
                    Same(node, r.Layer, r.Attr, size, hash);
                    if (r.Layer >= _baseLayers) stays += size;
                }
                else Add(group ?? Group(key), tree.Node(node), size, r.Layer, -1);
            }
            return stays;
        }

        private void Same(int node, int layer, int attr, long size, UInt128 hash)
        {
            if (hash != UInt128.Zero && _same.Add(node, layer, attr, size, hash, out int duplicate, out int duplicateLayer))
                Add(Group(new GroupKey(AdviceKind.Duplicate, -1, -1, -1)), _tree.Node(duplicate), size, duplicateLayer, SameContent.Resolve);
        }

        private void AddSecret(in Candidate c)
        {
            var g = Group(new GroupKey(AdviceKind.Secret, c.Rule, c.Layer, c.Node.Number));
            g.RemovedIn = c.RemovedIn;
            Add(g, c.Node, c.Bytes, c.Layer, -1);
        }

        /// <summary>What the record after a copy did to it, read where the versions lie (no attributes built).</summary>
        private AdviceKind Hidden(in TreeStore.RecordData later, long size, UInt128 hash)
        {
            if (!later.IsPresent || _tree.TypeOf(later.Attr) != FileType.File) return AdviceKind.RemovedLater;
            // the same content, not a hardlink's
            if (later.Kind == ChangeKind.Unmodified || !_tree.IsHardlinkFile(later.Attr) && _tree.SameContent(later.Attr, size, hash))
                return AdviceKind.CopiedUpUnchanged;
            return AdviceKind.Rewritten;
        }

        /// <summary>A copy whose secret rule its content did not confirm goes where its place says.</summary>
        private void Place(in Candidate c)
        {
            if (c.Fallback.Kind != AdviceKind.Duplicate)
            {
                Add(Group(c.Fallback), c.Node, c.Bytes, c.Layer, -1);
                return;
            }
            _tree.FileContent(c.Attr, out _, out var hash, out _);
            Same(c.Node.Number, c.Layer, c.Attr, c.Bytes, hash);
            if (c.Layer >= _baseLayers) Keep(c.Top, c.Bytes);
        }

        /// <summary>Adds the bytes to a top folder (two levels down): what a build stage would copy across.</summary>
        private void Keep(int top, long bytes)
        {
            if (bytes > 0) CollectionsMarshal.GetValueRefOrAddDefault(_kept, top, out _) += bytes;
        }

        private Group? _lastGroup; // copies side by side mostly go to one group (a directory a step rewrote)

        private Group Group(GroupKey key)
        {
            if (_lastGroup is { } last && last.Key == key) return last;
            if (!_groups.TryGetValue(key, out var g)) _groups[key] = g = new Group(key, model.Layers.Count);
            return _lastGroup = g;
        }

        private void Add(Group g, TreeNode node, long bytes, int layer, int sameAs)
        {
            g.Bytes += bytes;
            g.LayerBytes[layer] += bytes;
            g.Count++;
            // only the largest are listed: a copy no larger than the smallest listed is not queued at all; a
            // path may be listed twice (a hardlink keeps an older copy visible): then its lower layer's first
            var priority = (bytes, -node.Number, -layer);
            if (g.Top.Count == ListedPaths && g.Top.TryPeek(out _, out var least) && priority.CompareTo(least) <= 0) return;
            g.Top.Enqueue((node, bytes, layer, sameAs), priority);
            if (g.Top.Count > ListedPaths) g.Top.Dequeue();
        }

        public AdviceResult Finish(HashSet<(int Node, int Layer)> confirmed, bool contentChecked)
        {
            foreach (var c in Candidates)
            {
                if (confirmed.Contains((c.Node.Number, c.Layer))) AddSecret(c);
                else Place(c);
            }
            var findings = _groups.Values.Where(g => g.Count > 0).Select(Describe).ToList();
            // secrets first (by layer), then what saves most; ties by kind, rule and first path for a stable order
            findings.Sort((x, y) =>
                (x.Kind == AdviceKind.Secret) != (y.Kind == AdviceKind.Secret) ? (x.Kind == AdviceKind.Secret ? -1 : 1)
                : x.Kind == AdviceKind.Secret && x.Steps[0].Layer != y.Steps[0].Layer ? x.Steps[0].Layer.CompareTo(y.Steps[0].Layer)
                : y.Bytes != x.Bytes ? y.Bytes.CompareTo(x.Bytes)
                : x.Kind != y.Kind ? x.Kind.CompareTo(y.Kind)
                : string.CompareOrdinal(x.Paths[0].Path, y.Paths[0].Path));
            long total = findings.Sum(f => f.Bytes);
            long? compressed = findings.All(f => f.CompressedBytes is not null) ? findings.Sum(f => f.CompressedBytes!.Value) : null;
            return new AdviceResult(findings, total, compressed, contentChecked);
        }

        private Finding Describe(Group g)
        {
            var tree = model.Root.Tree;
            var top = new List<AdvicePath>();
            while (g.Top.Count > 0)
            {
                var (node, bytes, layer, sameAs) = g.Top.Dequeue();
                if (sameAs == SameContent.Resolve) sameAs = KeptCopy(node.Number, layer);
                top.Add(new AdvicePath("/" + node.Path, bytes, layer, sameAs < 0 ? null : "/" + tree.Path(sameAs)));
            }
            top.Sort((x, y) => y.Bytes != x.Bytes ? y.Bytes.CompareTo(x.Bytes) : string.CompareOrdinal(x.Path, y.Path));
            var k = g.Key;
            var layers = k.Kind is AdviceKind.CopiedUpUnchanged or AdviceKind.Rewritten or AdviceKind.RemovedLater
                ? [k.LayerA, k.LayerB]
                : g.RemovedIn is int removed ? [.. Stored(g), removed] : Stored(g);
            // a secret's steps by their instruction only: a command line may hold the secret itself
            var steps = layers.Select(k.Kind == AdviceKind.Secret ? Keyword : (Func<int, AdviceStep>)Step).ToList();
            string rule = k.Kind switch
            {
                AdviceKind.Secret => AdviceRules.Secrets[k.Rule].Id,
                AdviceKind.PackageCache or AdviceKind.BuildOnly => AdviceRules.Paths[k.Rule].Id,
                _ => k.Kind.ToString(),
            };
            // each layer's bytes at that layer's own ratio of stored to unpacked bytes
            double estimate = 0;
            for (int l = 0; l < g.LayerBytes.Length; l++)
                if (g.LayerBytes[l] > 0) estimate += _ratio[l] is double ratio ? g.LayerBytes[l] * ratio : double.NaN;
            long? compressed = double.IsNaN(estimate) ? null : (long)Math.Round(estimate);
            var (why, fix) = Texts(g, rule, steps, top);
            return new Finding(k.Kind, rule, g.Bytes, compressed, steps, top, g.Count, why, fix, g.RemovedIn);
        }

        private static List<int> Stored(Group g)
        {
            var layers = new List<int>();
            for (int l = 0; l < g.LayerBytes.Length; l++)
                if (g.LayerBytes[l] > 0) layers.Add(l);
            return layers;
        }

        /// <summary>The node whose copy of this duplicate's content is the one kept.</summary>
        private int KeptCopy(int node, int layer)
        {
            _tree.TryRecordIn(node, layer, out var r);
            _tree.FileContent(r.Attr, out long size, out var hash, out _);
            return _same.Kept(size, hash);
        }

        private AdviceStep Step(int layer) =>
            new(layer, Reports.Printable.OneLine(BuildStep.Line(model.Layers[layer].CreatedBy)), layer < _baseLayers);

        private AdviceStep Keyword(int layer)
        {
            var line = BuildStep.Line(model.Layers[layer].CreatedBy);
            int space = line.IndexOf(' ');
            return new(layer, space < 0 ? line : line[..space] + " ...", layer < _baseLayers);
        }

        private (string Why, string Fix) Texts(Group g, string rule, List<AdviceStep> steps, List<AdvicePath> paths)
        {
            var first = steps[0].Instruction;
            var second = steps.Count > 1 ? steps[1].Instruction : "";
            var listed = string.Join(' ', paths.Take(3).Select(p => Quote(p.Path)));
            switch (g.Key.Kind)
            {
                case AdviceKind.Secret:
                    return (Text.Fill(Strings.Advice_SecretWhy, Rule(rule, "Why"), steps[0].Layer),
                        Text.Fill(g.RemovedIn is int gone ? Strings.Advice_SecretDeletedFix : Strings.Advice_SecretFix, rule.ToLowerInvariant(), paths[0].Path, steps[0].Layer, g.RemovedIn ?? 0));
                case AdviceKind.RemovedLater:
                {
                    var why = Text.Fill(Strings.Advice_RemovedLaterWhy, steps[0].Layer, steps[1].Layer);
                    if (steps[0].BaseImage) return (why, Text.Fill(Strings.Advice_BaseRemovedFix, steps[0].Layer));
                    if (BuildStep.RunCommand(first) is { } made)
                        return (why, Text.Fill(Strings.Advice_RemovedLaterRunFix, made, BuildStep.RunCommand(second) is { } rm && rm.Contains("rm ", StringComparison.Ordinal) ? rm : "rm -rf " + listed));
                    return (why, Text.Fill(Strings.Advice_RemovedLaterCopyFix, first, string.Join('\n', paths.Take(3).Select(p => p.Path.TrimStart('/')))));
                }
                case AdviceKind.CopiedUpUnchanged:
                {
                    var why = Text.Fill(Strings.Advice_CopiedUpWhy, steps[0].Layer, steps[1].Layer);
                    if (steps[0].BaseImage) return (why, Text.Fill(Strings.Advice_BaseChangedFix, steps[0].Layer, steps[1].Layer));
                    var now = g.Later!.Value;
                    if (BuildStep.IsCopy(first))
                    {
                        int space = first.IndexOf(' ');
                        var flags = $"--chmod={Convert.ToString(now.Mode & 0xFFF, 8).PadLeft(4, '0')} --chown={now.Uid}:{now.Gid} ";
                        return (why, Text.Fill(Strings.Advice_CopiedUpCopyFix, first[..(space + 1)] + flags + first[(space + 1)..]));
                    }
                    if (BuildStep.RunCommand(first) is { } made && BuildStep.RunCommand(second) is { } change)
                        return (why, Text.Fill(Strings.Advice_SameStepFix, made, change));
                    return (why, Text.Fill(Strings.Advice_CopiedUpOtherFix, steps[1].Layer, steps[0].Layer));
                }
                case AdviceKind.Rewritten:
                {
                    var why = Text.Fill(Strings.Advice_RewrittenWhy, steps[0].Layer, steps[1].Layer);
                    if (steps[0].BaseImage) return (why, Text.Fill(Strings.Advice_BaseChangedFix, steps[0].Layer, steps[1].Layer));
                    if (BuildStep.RunCommand(first) is { } made && BuildStep.RunCommand(second) is { } again)
                        return (why, Text.Fill(Strings.Advice_SameStepFix, made, again));
                    return (why, Text.Fill(Strings.Advice_RewrittenOtherFix, steps[0].Layer, steps[1].Layer, listed));
                }
                case AdviceKind.PackageCache:
                    return (Rule(rule, "Why"), Rule(rule, "Fix"));
                case AdviceKind.BuildOnly:
                {
                    var keep = _kept.Select(p => (Path: tree(p.Key), Bytes: p.Value))
                        .Where(p => !AdviceRules.SystemFolders.Contains(p.Path) && !AdviceRules.SystemFolders.Contains(PathText.Parent(p.Path)))
                        .OrderByDescending(p => p.Bytes).ThenBy(p => p.Path, StringComparer.Ordinal).Take(3).Select(p => Quote("/" + p.Path)).ToList();
                    var copies = keep.Count == 0 ? "COPY --from=build /app /app" : string.Join('\n', keep.Select(p => $"COPY --from=build {p} {p}"));
                    return (Rule(rule, "Why"), Text.Fill(Strings.Advice_BuildOnlyFix, copies));
                }
                default:
                {
                    var p = paths[0];
                    return (Strings.Advice_DuplicateWhy, Text.Fill(Strings.Advice_DuplicateFix, Quote(p.SameAs ?? ""), Quote(p.Path)));
                }
            }
            string tree(int n) => model.Root.Tree.Path(n);
        }

        private static string Rule(string id, string part) => Text.Lookup(Strings.ResourceManager, "AdviceRule_" + id + part);

        /// <summary>A path as a shell word: quoted when it holds anything but plain characters.</summary>
        private static string Quote(string path)
        {
            var p = Reports.Printable.OneLine(path);
            foreach (char c in p)
                if (!(char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '_' or '-' or '+' or '@' or ':' or ',' or '=')) return "'" + p.Replace("'", "'\\''") + "'";
            return p;
        }
    }
}
