#!/usr/bin/env python3
"""Names LayerDive's texts by condition and reads them through generated, typed accessors.

    python3 tools/texts/apply.py [ROOT] [--dry-run]

ROOT is the repository (default: two folders up from this file). The run is idempotent, and it works
on a tree that differs from the one the table was written against:

1. every Strings*.resx (any src/**/*.resx and its satellites, English and Russian) gets its keys
   renamed by keys.tsv; a key the table does not know is named by the rule below and reported;
   the texts of added.tsv are added where they are missing;
2. each project with a resource file gets MSBuild's strongly-typed class for it (a missing or
   misspelt key then fails the build), and a project that reads another's texts is let in
   (InternalsVisibleTo);
3. edits.txt's edits (inline texts moved into resources, faults given their kind by hand) are made
   where their code is found;
4. every call in src/, tests/ and samples/ is rewritten: Text.Get("Error.X") -> Strings.Area_Condition,
   Text.Format("Error.X", a) -> Text.Fill(Strings.Area_Condition, a); a key chosen by a condition
   -> the condition over accessors; a key built from a prefix ("Key." + id) -> a lookup through the
   class's ResourceManager; SourceMissException -> ImageException with a kind. The explorer's UiText
   (over UiStrings.resx) is read the same way: UiText.Format("Ui.X", a) -> UiText.Fill(UiStrings.Ui_X, a).
5. each `new ImageException(` gets the FaultKind its text has in the table;
6. what it could not do is listed, file:line, for a hand; the exit code is 1 when there is any.

The rule for a key not in the table: Error.RegistryTokenTooLarge -> Registry_TokenTooLarge (the area is
the word before the second capital; Error/Warning/Note are dropped); Ui.Pane.Layers -> Ui_PaneLayers.
"""

import os
import re
import sys
from xml.sax.saxutils import escape

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import csharp  # noqa: E402
from csharp import CODE  # noqa: E402

NEW_NAME = re.compile(r'^[A-Z][A-Za-z0-9]*_[A-Z][A-Za-z0-9]*$')
KINDS = {'NotFound', 'Unreachable', 'Unauthorized', 'Damaged', 'DigestMismatch', 'Unsupported', 'BadArgument'}
HERE = os.path.dirname(os.path.abspath(__file__))


class Report:
    def __init__(self):
        self.done = []      # what changed
        self.review = []    # changed, but a person should look
        self.hand = []      # not done: for a hand

    def print(self):
        for title, items in (('Done', self.done), ('Done, to review', self.review), ('Left for a hand', self.hand)):
            if items:
                print(f'\n{title} ({len(items)}):')
                for i in items:
                    print('  ' + i)
        if not (self.done or self.review or self.hand):
            print('Nothing to do: the tree is already converted.')


R = Report()


# ---------------------------------------------------------------- data

def read_tsv(path):
    rows = []
    with open(path, encoding='utf-8') as f:
        for line in f:
            line = line.rstrip('\n')
            if not line or line.startswith('#'):
                continue
            rows.append(line.split('\t'))
    return rows


def load_table():
    rename, kind = {}, {}
    for row in read_tsv(os.path.join(HERE, 'keys.tsv')):
        old, new = row[0], row[1]
        rename[old] = new
        if len(row) > 2 and row[2]:
            kind[new] = row[2]
    added = []
    for key, k, en, ru in read_tsv(os.path.join(HERE, 'added.tsv')):
        added.append((key, en, ru))
        if k:
            kind[key] = k
    for n, k in kind.items():
        if k != '-' and k not in KINDS:
            raise SystemExit(f'tools/texts: unknown fault kind {k!r} for {n}')
    return rename, kind, added


def rule(old):
    """The name of a key the table does not list."""
    parts = old.split('.')
    if parts[0] in ('Error', 'Warning', 'Note') and len(parts) >= 2:
        rest = ''.join(parts[1:])
        m = re.match(r'^([A-Z][a-z0-9]+)([A-Z][A-Za-z0-9]*)$', rest)
        new = f'{m.group(1)}_{m.group(2)}' if m else f'{parts[0]}_{rest}'
    else:
        new = parts[0] + '_' + ''.join(parts[1:])
    new = re.sub(r'[^A-Za-z0-9_]', '', new)
    return new[0].upper() + new[1:] if new else new


def parse_edits():
    """edits.txt: blocks of '=== path', '---' old lines, '+++' new lines (indented relative to their first line)."""
    edits = []
    path = None
    cur = None
    mode = None
    with open(os.path.join(HERE, 'edits.txt'), encoding='utf-8') as f:
        for line in f.read().split('\n'):
            if line.startswith('#') and mode is None:
                continue
            if line.startswith('=== '):
                if cur:
                    edits.append(cur)
                path = line[4:].strip()
                cur, mode = None, None
                continue
            if line == '---':
                if cur:
                    edits.append(cur)
                cur = {'path': path, 'old': [], 'new': []}
                mode = 'old'
                continue
            if line == '+++':
                mode = 'new'
                continue
            if line.startswith('#') and mode == 'new' and not cur['new']:
                continue
            if mode == 'old':
                cur['old'].append(line)
            elif mode == 'new':
                cur['new'].append(line)
    if cur:
        edits.append(cur)
    for e in edits:
        for side in ('old', 'new'):
            while e[side] and not e[side][-1].strip():
                e[side].pop()
    return edits


# ---------------------------------------------------------------- files

def walk(root, top, ext):
    base = os.path.join(root, top)
    for d, dirs, files in os.walk(base):
        dirs[:] = sorted(x for x in dirs if x not in ('bin', 'obj', '.git'))
        for f in sorted(files):
            if f.endswith(ext):
                yield os.path.join(d, f)


def read(path):
    with open(path, encoding='utf-8-sig') as f:
        return f.read()


def had_bom(path):
    with open(path, 'rb') as f:
        return f.read(3) == b'\xef\xbb\xbf'


class Files:
    """Reads once, writes what changed at the end (or not at all with --dry-run)."""

    def __init__(self, root):
        self.root = root
        self.text = {}
        self.original = {}

    def get(self, path):
        if path not in self.text:
            self.text[path] = self.original[path] = read(path)
        return self.text[path]

    def set(self, path, text):
        self.get(path)
        self.text[path] = text

    def changed(self):
        return [p for p in self.text if self.text[p] != self.original[p]]

    def write(self):
        for p in self.changed():
            bom = had_bom(p)
            with open(p, 'w', encoding='utf-8-sig' if bom else 'utf-8', newline='') as f:
                f.write(self.text[p])

    def rel(self, path):
        return os.path.relpath(path, self.root)


# ---------------------------------------------------------------- projects

class Project:
    def __init__(self, path, files):
        self.path = path
        self.dir = os.path.dirname(path)
        text = files.get(path)
        stem = os.path.splitext(os.path.basename(path))[0]
        m = re.search(r'<RootNamespace>([^<]+)</RootNamespace>', text)
        self.namespace = m.group(1).strip() if m else stem
        m = re.search(r'<AssemblyName>([^<]+)</AssemblyName>', text)
        self.assembly = m.group(1).strip() if m else stem
        self.references = [os.path.normpath(os.path.join(self.dir, r.replace('\\', '/')))
                           for r in re.findall(r'<ProjectReference\s+Include="([^"]+)"', text)]


def projects(root, files):
    found = {}
    for top in ('src', 'tests', 'samples'):
        for p in walk(root, top, '.csproj'):
            found[os.path.normpath(p)] = Project(p, files)
    return found


def project_of(path, projs):
    d = os.path.dirname(os.path.abspath(path))
    while True:
        for p in projs.values():
            if p.dir == d:
                return p
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def visible_projects(proj, projs):
    seen = []
    todo = [proj.path]
    while todo:
        p = os.path.normpath(todo.pop())
        if p in seen or p not in projs:
            continue
        seen.append(p)
        todo.extend(projs[p].references)
    return seen


# ---------------------------------------------------------------- resources

RESX = re.compile(r'^(?P<base>[^.]+)(?:\.(?P<culture>[a-z]{2,3}(?:-[A-Za-z0-9]+)*))?\.resx$')
DATA = re.compile(r'<data\s+name="([^"]+)"')


class ResourceClass:
    """One neutral .resx and its satellites, and the typed class MSBuild generates for it."""

    def __init__(self, neutral, satellites, project):
        self.neutral = neutral
        self.satellites = satellites  # culture -> path
        self.project = project
        self.base = RESX.match(os.path.basename(neutral)).group('base')
        rel = os.path.relpath(os.path.dirname(neutral), project.dir)
        parts = [] if rel == '.' else rel.replace('\\', '/').split('/')
        self.namespace = '.'.join([project.namespace] + parts)
        self.name = self.base
        self.full = f'{self.namespace}.{self.name}'
        self.relpath = '/'.join(parts + [os.path.basename(neutral)])


def resource_classes(root, files, projs):
    groups = {}
    for path in walk(root, 'src', '.resx'):
        m = RESX.match(os.path.basename(path))
        if not m:
            continue
        g = groups.setdefault((os.path.dirname(path), m.group('base')), {'neutral': None, 'sat': {}})
        if m.group('culture'):
            g['sat'][m.group('culture')] = path
        else:
            g['neutral'] = path
    classes = []
    for (d, base), g in sorted(groups.items()):
        if g['neutral'] is None:
            R.hand.append(f'{files.rel(d)}/{base}.*.resx: satellites without an English {base}.resx')
            continue
        proj = project_of(g['neutral'], projs)
        if proj is None:
            R.hand.append(f'{files.rel(g["neutral"])}: in no project')
            continue
        classes.append(ResourceClass(g['neutral'], g['sat'], proj))
    return classes


def keys_of(text):
    return DATA.findall(text)


def rename_resources(classes, files, rename):
    """Renames keys in every resx; returns the full old -> new map used (table plus rule)."""
    used = dict(rename)
    for cls in classes:
        text = files.get(cls.neutral)
        present = keys_of(text)
        mapping = {}
        for k in present:
            if NEW_NAME.match(k):
                continue
            if k in rename:
                new = rename[k]
            else:
                new = rule(k)
                if not NEW_NAME.match(new):
                    R.hand.append(f'{files.rel(cls.neutral)}: key {k}: the rule makes {new!r}, which is not Area_Condition')
                    continue
                R.review.append(f'{files.rel(cls.neutral)}: {k} -> {new} (named by the rule, not in keys.tsv)')
                used[k] = new
            mapping[k] = new
        # two keys onto one name, or onto a name the file has already
        targets = {}
        for k, new in mapping.items():
            targets.setdefault(new, []).append(k)
        for new, olds in targets.items():
            if len(olds) > 1 or new in present:
                R.hand.append(f'{files.rel(cls.neutral)}: {", ".join(olds)} -> {new}: the name is taken; not renamed')
                for k in olds:
                    mapping.pop(k, None)
        for path in [cls.neutral] + list(cls.satellites.values()):
            t = files.get(path)
            n = 0
            for k, new in mapping.items():
                t, c = re.subn(r'(<data\s+name=")' + re.escape(k) + '"', r'\g<1>' + new + '"', t)
                n += c
            if n:
                files.set(path, t)
                R.done.append(f'{files.rel(path)}: {n} keys renamed')
    return used


def add_texts(classes, files, added):
    """The texts added.tsv lists (English, and Russian in .ru), each in the resx that holds most keys of its
    area (Ui_ beside the explorer's texts, wherever they live now), else in LayerDive.Core's."""
    if not added:
        return
    core = [c for c in classes if c.full == 'LayerDive.Core.Resources.Strings']
    if not core:
        R.hand.append('LayerDive.Core/Resources/Strings.resx not found: added.tsv not applied')
        return
    present = {c: keys_of(files.get(c.neutral)) for c in classes}
    everywhere = {k for ks in present.values() for k in ks}
    homes = {}
    for k, en, ru in added:
        if k in everywhere:
            continue
        area = k.split('_')[0] + '_'
        counts = sorted(((sum(x.startswith(area) for x in ks), c.full) for c, ks in present.items()), reverse=True)
        home = next(c for c in classes if c.full == counts[0][1]) if counts and counts[0][0] > 0 else core[0]
        homes.setdefault(home, []).append((k, en, ru))
    for cls, wanted in homes.items():
        for path, lang in [(cls.neutral, 'en')] + [(p, c) for c, p in cls.satellites.items()]:
            if lang not in ('en', 'ru'):
                R.hand.append(f'{files.rel(path)}: no {lang} text for {len(wanted)} added keys')
                continue
            t = files.get(path)
            have = set(keys_of(t))
            lines = ''.join(f'  <data name="{k}" xml:space="preserve"><value>{escape(en if lang == "en" else ru)}</value></data>\n'
                            for k, en, ru in wanted if k not in have)
            if lines:
                at = t.rindex('</root>')
                files.set(path, t[:at] + lines + t[at:])
                R.done.append(f'{files.rel(path)}: {lines.count(chr(10))} texts added')


def class_by_key(classes, files):
    where = {}
    for cls in classes:
        for k in keys_of(files.get(cls.neutral)):
            where.setdefault(k, cls)
    return where


# ---------------------------------------------------------------- build set-up

def typed_resources(classes, files):
    for cls in classes:
        proj = cls.project.path
        t = files.get(proj)
        rel = cls.relpath
        m = re.search(r'<EmbeddedResource\s+(?:Update|Include)="' + re.escape(rel).replace('/', r'[/\\]') + r'"[^>]*>', t)
        if m:
            if 'StronglyTypedClassName' not in m.group(0):
                R.hand.append(f'{files.rel(proj)}: the EmbeddedResource of {rel} has no StronglyTypedClassName: add the typed class by hand')
            elif 'LogicalName' in m.group(0) or 'ManifestResourceName' in m.group(0):
                R.review.append(f'{files.rel(proj)}: {rel} has its own manifest name: the typed class must name it')
            continue
        item = (f'  <ItemGroup>\n'
                f'    <!-- typed accessors ({cls.name}.Area_Condition): a key the code asks for and {os.path.basename(rel)} lacks fails the build -->\n'
                f'    <EmbeddedResource Update="{rel}" StronglyTypedFileName="$(IntermediateOutputPath){cls.name}.Designer.cs" '
                f'StronglyTypedLanguage="CSharp" StronglyTypedNamespace="{cls.namespace}" StronglyTypedClassName="{cls.name}" />\n'
                f'  </ItemGroup>\n')
        at = t.rindex('</Project>')
        files.set(proj, t[:at] + item + t[at:])
        R.done.append(f'{files.rel(proj)}: typed class {cls.full} for {rel}')


def let_in(owner, reader, files):
    """InternalsVisibleTo(reader) in owner's project: the generated classes are internal."""
    t = files.get(owner.path)
    if re.search(r'<InternalsVisibleTo\s+Include="' + re.escape(reader.assembly) + '"', t):
        return
    m = re.search(r'([ \t]*)<InternalsVisibleTo\s+Include="[^"]+"\s*/>\n', t)
    line = f'<InternalsVisibleTo Include="{reader.assembly}" />'
    if m:
        t = t[:m.end()] + m.group(1) + line + '\n' + t[m.end():]
    else:
        at = t.rindex('</Project>')
        t = t[:at] + f'  <ItemGroup>\n    {line}\n  </ItemGroup>\n' + t[at:]
    files.set(owner.path, t)
    R.done.append(f'{files.rel(owner.path)}: InternalsVisibleTo {reader.assembly} (it reads this project\'s texts)')


# ---------------------------------------------------------------- edits.txt

def apply_edits(edits, files, sources):
    for e in edits:
        old = [l.strip() for l in e['old']]
        new = [l.strip() for l in e['new']]
        label = f'{e["path"]}: "{old[0][:70]}"'
        candidates = [os.path.join(files.root, e['path'])] if e['path'] else []
        candidates += [p for p in sources if p not in candidates]
        done = False
        for path in candidates:
            if not os.path.exists(path):
                continue
            text = files.get(path)
            lines = text.split('\n')
            stripped = [l.strip() for l in lines]
            at = find_block(stripped, old)
            if at is None:
                continue
            indent = re.match(r'[ \t]*', lines[at]).group(0)
            base = len(e['old'][0]) - len(e['old'][0].lstrip())
            repl = [(indent + l[base:] if l[:base].strip() == '' else indent + l.lstrip()) if l.strip() else '' for l in e['new']]
            lines[at:at + len(old)] = repl
            files.set(path, '\n'.join(lines))
            R.done.append(f'{files.rel(path)}:{at + 1}: edit made ({old[0][:60]})')
            done = True
            break
        if done:
            continue
        if new and any(find_block([plain(l) for l in files.get(p).split('\n')], [plain(l) for l in new]) is not None
                       for p in candidates if os.path.exists(p)):
            continue  # made on an earlier run
        R.hand.append(f'{label}: edit not made: its code was not found (changed since?) - make it by hand')


def plain(line):
    """A line with its accessors spelt without their class ({Ns.Class}.Key, Class.Key, global::Ns.Class.Key: Key),
    so that an edit made on an earlier run is recognised wherever its texts live now."""
    line = re.sub(r'\{[\w.]+\}\.(?=[A-Z][A-Za-z0-9]*_[A-Z])', '', line.strip())
    return re.sub(r'(?:global::)?(?:\w+\.)*\w+\.(?=[A-Z][A-Za-z0-9]*_[A-Z][A-Za-z0-9]*\b)', '', line)


def find_block(stripped, block):
    if not block:
        return None
    n = len(block)
    for i in range(len(stripped) - n + 1):
        if stripped[i:i + n] == block:
            return i
    return None


# ---------------------------------------------------------------- C# call sites

# The classes whose Get(key)/Format(key, ...) read a text by its key string: Core's Text, and the explorer's
# UiText (src/LayerDive/Ui, over UiStrings.resx). A call keeps its class: Fill and Lookup are on both.
READERS = {'Text': r'(?:LayerDive\.)?(?:Core\.)?', 'UiText': r'(?:LayerDive\.)?(?:Ui\.)?'}


def text_aliases(text):
    """The aliases a file gives the readers: `using T = LayerDive.Core.Text;`, `using U = LayerDive.Ui.UiText;`."""
    return re.findall(r'using\s+(\w+)\s*=\s*(?:global::)?LayerDive\.(?:Core\.Text|Ui\.UiText)\s*;', text)


def call_pattern(aliases):
    names = [f'(?:global::)?{space}{name}' for name, space in READERS.items()] + [re.escape(a) for a in aliases]
    return re.compile(r'(?<![\w.])((?:' + '|'.join(names) + r'))\.(Get|Format)\s*\(')


PLACEHOLDER = re.compile(r'\{([A-Za-z][\w.]*)\}\.([A-Z][A-Za-z0-9]*_[A-Z][A-Za-z0-9]*|ResourceManager)\b')
LITERAL = re.compile(r'^"([A-Za-z][A-Za-z0-9._]*)"$')
PREFIX = re.compile(r'^"([A-Za-z][A-Za-z0-9.]*\.)"\s*\+\s*(.+)$', re.S)


class Converter:
    def __init__(self, files, projs, classes, used, kinds):
        self.files = files
        self.projs = projs
        self.classes = classes
        self.used = used          # old key -> new key
        self.kinds = kinds        # new key -> kind
        self.where = class_by_key(classes, files)
        self.cross = set()        # (owner project, reader project)

    # which key, and the accessor for it from this file
    def resolve(self, key, ctx):
        new = self.used.get(key, key if key in self.where else None)
        if new is None and not NEW_NAME.match(key) and '.' in key:
            new = rule(key)
        if new is None or new not in self.where:
            return None, f'no resource file has the key {key!r}' + (f' (as {new})' if new and new != key else '')
        cls = self.where[new]
        if cls.project.path not in ctx['visible']:
            return None, f'{new} is in {self.files.rel(cls.neutral)}, which {os.path.basename(ctx["project"].path)} cannot see'
        return f'{{{cls.full}}}.{new}', None

    def prefix_lookup(self, prefix, ctx):
        """'Key.' -> the new common prefix ('Key_') and the class, if every key under it keeps its suffix."""
        members = {k[len(prefix):]: n for k, n in self.used.items() if k.startswith(prefix) and '.' not in k[len(prefix):]}
        if not members:
            return None, f'no key starts with {prefix!r}'
        heads = {n[:len(n) - len(s)] for s, n in members.items() if n.endswith(s)}
        if len(heads) != 1 or any(not n.endswith(s) for s, n in members.items()):
            return None, f'the keys under {prefix!r} are not renamed to one prefix: choose each key in code'
        head = heads.pop()
        owners = {self.where[n] for n in members.values() if n in self.where}
        if len(owners) != 1:
            return None, f'the keys under {prefix!r} are in {len(owners)} resource files'
        cls = owners.pop()
        if cls.project.path not in ctx['visible']:
            return None, f'the keys under {prefix!r} are in a project {os.path.basename(ctx["project"].path)} cannot see'
        return (head, cls), None

    def analyse(self, text, kinds, m, ctx):
        """The replacement of the call matched by m, or None and why."""
        qual, verb = m.group(1), m.group(2)
        open_at = m.end() - 1
        close_at = csharp.closing(text, kinds, open_at)
        if close_at < 0:
            return None, 'unbalanced call', None
        args = csharp.split_args(text, kinds, open_at, close_at)
        if not args:
            return None, 'no arguments', None
        a0s, a0e = args[0]
        a0 = text[a0s:a0e].strip()
        rest = text[a0e:close_at]  # ", a, b" or ""
        if verb == 'Get' and len(args) > 1:
            return None, 'Text.Get with more than one argument', None
        lit = LITERAL.match(a0)
        if lit:
            acc, why = self.resolve(lit.group(1), ctx)
            if acc is None:
                return None, why, None
            return (acc if verb == 'Get' else f'{qual}.Fill({acc}{rest})'), None, close_at
        pre = PREFIX.match(a0)
        if pre:
            got, why = self.prefix_lookup(pre.group(1), ctx)
            if got is None:
                return None, why, None
            head, cls = got
            look = f'{qual}.Lookup({{{cls.full}}}.ResourceManager, "{head}" + {pre.group(2).strip()})'
            R.review.append(f'{self.files.rel(ctx["path"])}:{csharp.line_of(text, m.start())}: a key built at run time ({pre.group(1)}...) '
                            f'reads {head}* through {cls.name}.ResourceManager; a test must cover every value')
            return (look if verb == 'Get' else f'{qual}.Fill({look}{rest})'), None, close_at
        # an expression choosing among literal keys
        sub_kinds = kinds[a0s:a0e]
        raw = text[a0s:a0e]
        pieces = []
        i = 0
        found = 0
        while i < len(raw):
            if sub_kinds[i] == csharp.STRING and raw[i] == '"' and (i == 0 or sub_kinds[i - 1] != csharp.STRING):
                j = i + 1
                while j < len(raw) and not (raw[j] == '"' and sub_kinds[j] == csharp.STRING and (j + 1 >= len(raw) or sub_kinds[j + 1] != csharp.STRING)):
                    j += 1
                lit_text = raw[i:j + 1]
                km = LITERAL.match(lit_text)
                if not km:
                    return None, f'a string {lit_text[:40]!r} that is not a key in the key expression', None
                acc, why = self.resolve(km.group(1), ctx)
                if acc is None:
                    return None, why, None
                before = raw[:i].rstrip()
                after = raw[j + 1:].lstrip()
                if before.endswith('+') or after.startswith('+'):
                    return None, 'a key built by concatenation', None
                pieces.append(acc)
                found += 1
                i = j + 1
                continue
            if sub_kinds[i] == csharp.STRING and raw[i] == "'" and (i == 0 or sub_kinds[i - 1] != csharp.STRING):
                j = i + 1
                while j < len(raw) and sub_kinds[j] == csharp.STRING and raw[j - 1:j + 1] != "'" * 2 and not (raw[j] == "'" and j > i + 1 and raw[j - 1] != '\\'):
                    j += 1
                pieces.append(raw[i:j + 1])  # a char literal, kept as it is
                i = j + 1
                continue
            if sub_kinds[i] == csharp.STRING:
                return None, 'a non-literal string in the key expression', None
            pieces.append(raw[i])
            i += 1
        if not found:
            return None, 'the key is not a literal (a variable or a call): name the text in code', None
        expr = ''.join(pieces).strip()
        if verb == 'Format':
            return f'{qual}.Fill({expr}{rest})', None, close_at
        before = text[:m.start()].rstrip()
        after = text[close_at + 1:].lstrip()
        bare = (before.endswith(('(', ',', '=', '[', '{', '=>', 'return')) and after[:1] in (')', ',', ';', ']', '}'))
        return (expr if bare else f'({expr})'), None, close_at

    def convert(self, path, ctx):
        text = self.files.get(path)
        aliases = text_aliases(text)
        pat = call_pattern(aliases)
        kinds = csharp.classify(text)
        starts = [m.start() for m in pat.finditer(csharp.masked(text, kinds))]
        n = 0
        for s in reversed(starts):
            kinds = csharp.classify(text)
            m = pat.match(csharp.masked(text, kinds), s)
            if not m:
                continue
            repl, why, close_at = self.analyse(text, kinds, m, ctx)
            if repl is None:
                continue  # reported by the final scan
            text = text[:m.start()] + repl + text[close_at + 1:]
            n += 1
        if n:
            R.done.append(f'{self.files.rel(path)}: {n} texts read through their accessors')
        return text

    # ---------------------------------------------------------- faults

    def source_miss(self, text):
        """SourceMissException -> ImageException; a catch of it catches the kinds that mean 'try the next source'."""
        if 'SourceMissException' not in text:
            return text
        kinds = csharp.classify(text)
        code = csharp.masked(text, kinds)
        # the declaration goes, with its doc comment
        decl = re.search(r'((?:[ \t]*///[^\n]*\n)*)[ \t]*(?:internal|public)?\s*sealed\s+class\s+SourceMissException\b[^;{]*(?:;|\{[^}]*\})[ \t]*\n(?:[ \t]*\n)?', text)
        if decl and code[decl.start(0) + len(decl.group(1)):decl.end()].strip():
            text = text[:decl.start()] + text[decl.end():]
        def catch(m):
            name = m.group(1) or 'miss'
            return f'catch (ImageException {name}) when ({name}.Kind is FaultKind.NotFound or FaultKind.Unreachable)'
        out = []
        kinds = csharp.classify(text)
        code = csharp.masked(text, kinds)
        last = 0
        for m in re.finditer(r'catch\s*\(\s*SourceMissException(?:\s+(\w+))?\s*\)', code):
            out.append(text[last:m.start()])
            out.append(catch(m))
            last = m.end()
        out.append(text[last:])
        text = ''.join(out)
        text = re.sub(r'\ba (<see cref="SourceMissException"/>)', r'an \1', text)
        text = text.replace('<see cref="SourceMissException"/>',
                            '<see cref="ImageException"/> of kind <see cref="FaultKind.NotFound"/> or <see cref="FaultKind.Unreachable"/>')
        return re.sub(r'\bSourceMissException\b', 'ImageException', text)

    def fault_kinds(self, path, ctx):
        text = self.files.get(path)
        kinds = csharp.classify(text)
        sites = self.fault_sites(text, kinds)
        n = 0
        for open_at, qual in reversed(sites):
            kinds = csharp.classify(text)
            kind, why = self.kind_of(text, kinds, open_at)
            if kind is None:
                continue
            text = text[:open_at + 1] + f'{qual}FaultKind.{kind}, ' + text[open_at + 1:].lstrip()
            n += 1
        if n:
            R.done.append(f'{self.files.rel(path)}: {n} faults given their kind')
        return text

    @staticmethod
    def fault_sites(text, kinds):
        """(index of the '(', qualifier of FaultKind) for each construction of an ImageException."""
        code = csharp.masked(text, kinds)
        sites = []
        for m in re.finditer(r'\bnew\s+((?:global::)?(?:LayerDive\.)?(?:Core\.)?)ImageException\s*\(', code):
            sites.append((m.end() - 1, m.group(1)))
        # target-typed, in a member that returns an ImageException: ImageException Name(...) => new(...), and each
        # new(...) its body gives as the result (an arm of a switch or of ?:), to the body's ';'
        for m in re.finditer(r'\bImageException\??\s+\w+\s*\([^()]*\)\s*=>', code):
            end = code.find(';', m.end())
            body = code[m.end() - 2:end if end >= 0 else len(code)]
            for n in re.finditer(r'(?:=>|\?|(?<!:):(?!:))\s*new\s*\(', body):
                sites.append((m.end() - 2 + n.end() - 1, ''))
        return sorted(set(sites))

    def kind_of(self, text, kinds, open_at):
        close_at = csharp.closing(text, kinds, open_at)
        if close_at < 0:
            return None, 'unbalanced'
        args = csharp.split_args(text, kinds, open_at, close_at)
        if not args:
            return None, 'no arguments'
        a0 = text[args[0][0]:args[0][1]].strip()
        if 'FaultKind.' in a0 or re.search(r'(?:^|\.)Kind$', a0) or a0 == 'kind':
            return None, None  # it has one
        names = {c.name for c in self.classes}
        found = set()
        for m in re.finditer(r'(?:\{[\w.]+\}|\b[\w:.]*?(\w+))\.([A-Z][A-Za-z0-9]*_[A-Z][A-Za-z0-9]*)\b', a0):
            if m.group(0).startswith('{') or m.group(1) in names:
                found.add(m.group(2))
        for m in re.finditer(r'"([A-Za-z][A-Za-z0-9.]*)"', a0):
            if m.group(1) in self.used:
                found.add(self.used[m.group(1)])
        if not found:
            return None, 'its message is not a text of the table: give the kind by hand'
        ks = {self.kinds.get(k, '') for k in found}
        if '-' in ks:
            return None, f'its text ({", ".join(sorted(found))}) places or wraps another fault: pass that fault\'s kind'
        if '' in ks:
            return None, f'no kind in the table for {", ".join(sorted(k for k in found if not self.kinds.get(k)))}'
        if len(ks) > 1:
            return None, f'its texts have different kinds ({", ".join(sorted(ks))}): choose in code'
        return ks.pop(), None

    # ---------------------------------------------------------- accessors and usings

    def qualify(self, path, text, ctx):
        """{Namespace.Class}.Key -> Class.Key with a using, or global::Namespace.Class.Key where the short name is
        taken. The class is the one whose resx holds the key now (a text may have moved since the placeholder
        was written), else the one the placeholder names."""
        hits = list(PLACEHOLDER.finditer(text))
        if not hits:
            return text
        by_full = {c.full: c for c in self.classes}
        owner = {m.start(): self.where.get(m.group(2)) or by_full.get(m.group(1)) for m in hits}
        used = sorted({c for c in owner.values() if c is not None and c.project.path in ctx['visible']}, key=lambda c: c.full)
        shorts = {}
        for c in used:
            shorts.setdefault(c.name, []).append(c)
        code = csharp.masked(text, csharp.classify(text))
        spelling = {}
        for c in used:
            taken = len(shorts[c.name]) > 1 or re.search(r'[\w>\]?]\s+' + re.escape(c.name) + r'\s*[(;={,]', code) \
                or re.search(r'\b(?:class|struct|record|interface|enum|namespace)\s+' + re.escape(c.name) + r'\b', code)
            spelling[c] = f'global::{c.full}' if taken else c.name
        for m in reversed(hits):
            c = owner[m.start()]
            if c is None or c not in spelling:
                continue  # reported by the final scan
            text = text[:m.start()] + spelling[c] + '.' + m.group(2) + text[m.end():]
        for c in used:
            if spelling[c] == c.name:
                text = add_using(text, c.namespace)
            if c.project.path != ctx['project'].path:
                self.cross.add((c.project.path, ctx['project'].path))
        return text


def add_using(text, namespace):
    if re.search(r'^\s*using\s+' + re.escape(namespace) + r'\s*;', text, re.M):
        return text
    ns = re.search(r'^\s*namespace\s+([\w.]+)', text, re.M)
    if ns and (ns.group(1) == namespace or ns.group(1).startswith(namespace + '.')):
        return text
    usings = list(re.finditer(r'^using\s+(?:static\s+)?[\w.]+\s*;[ \t]*\n', text, re.M))
    line = f'using {namespace};\n'
    if usings:
        at = usings[-1].end()
        return text[:at] + line + text[at:]
    return line + ('\n' if not text.startswith('\n') else '') + text


# ---------------------------------------------------------------- the run

def main():
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    dry = '--dry-run' in sys.argv
    root = os.path.abspath(args[0] if args else os.path.join(HERE, '..', '..'))
    files = Files(root)
    rename, kinds, added = load_table()
    projs = projects(root, files)
    classes = resource_classes(root, files, projs)

    used = rename_resources(classes, files, rename)
    add_texts(classes, files, added)
    typed_resources(classes, files)

    sources = [p for top in ('src', 'tests', 'samples') for p in walk(root, top, '.cs')]
    apply_edits(parse_edits(), files, sources)

    conv = Converter(files, projs, classes, used, kinds)
    for path in sources:
        proj = project_of(path, projs)
        if proj is None:
            continue
        ctx = {'path': path, 'project': proj, 'visible': visible_projects(proj, projs)}
        text = files.get(path)
        text = conv.source_miss(text)
        files.set(path, text)
        text = conv.convert(path, ctx)
        files.set(path, text)
        text = conv.qualify(path, text, ctx)
        files.set(path, text)
        files.set(path, conv.fault_kinds(path, ctx))

    for owner, reader in sorted(conv.cross):
        if reader != owner:
            let_in(projs[owner], projs[reader], files)

    final_scan(files, conv, sources, projs)
    if not dry:
        files.write()
    R.print()
    changed = files.changed()
    print(f'\n{len(changed)} files {"would change" if dry else "changed"}; {len(R.hand)} items left for a hand.')
    return 1 if R.hand else 0


def final_scan(files, conv, sources, projs):
    """What is left: calls not converted, faults without a kind, old keys still spelt in code."""
    old_keys = set(conv.used)
    for path in sources:
        text = files.get(path)
        proj = project_of(path, projs)
        if proj is None:
            continue
        ctx = {'path': path, 'project': proj, 'visible': visible_projects(proj, projs)}
        kinds = csharp.classify(text)
        code = csharp.masked(text, kinds)
        pat = call_pattern(text_aliases(text))
        for m in pat.finditer(code):
            repl, why, _ = conv.analyse(text, kinds, m, ctx)
            R.hand.append(f'{files.rel(path)}:{csharp.line_of(text, m.start())}: {m.group(0)}...: {why or "not converted"}')
        for open_at, _ in Converter.fault_sites(text, kinds):
            kind, why = conv.kind_of(text, kinds, open_at)
            if why:
                R.hand.append(f'{files.rel(path)}:{csharp.line_of(text, open_at)}: ImageException without a kind: {why}')
        for m in re.finditer(r'"([A-Z][A-Za-z0-9]*(?:\.[A-Za-z0-9]+)+)"', text):
            if m.group(1) in old_keys and kinds[m.start()] == csharp.STRING:
                R.hand.append(f'{files.rel(path)}:{csharp.line_of(text, m.start())}: the old key "{m.group(1)}" is still spelt here')
        for m in PLACEHOLDER.finditer(text):
            where = conv.where.get(m.group(2))
            R.hand.append(f'{files.rel(path)}:{csharp.line_of(text, m.start())}: {m.group(2)}: '
                          + (f'in {files.rel(where.neutral)}, which {os.path.basename(proj.path)} cannot see' if where else 'no resource file has this key'))
        for m in re.finditer(r'\bSourceMissException\b', code):
            R.hand.append(f'{files.rel(path)}:{csharp.line_of(text, m.start())}: SourceMissException is still used')


if __name__ == '__main__':
    sys.exit(main())
