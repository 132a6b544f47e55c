#!/usr/bin/env python3
"""Summarises bench/run.sh results: min/median wall time, peak RSS, and ratios to the limits."""
import csv, statistics, sys
from collections import defaultdict

rows = defaultdict(list)
entries = {}
with open(sys.argv[1]) as f:
    for r in csv.DictReader(f, delimiter='\t'):
        rows[(r['group'], r['name'])].append((float(r['wall_s']), int(r['maxrss_kb'])))
        entries[(r['group'], r['name'])] = int(r['entries'])

def med(key): return statistics.median(w for w, _ in rows[key]) if key in rows else None

limits = {
    'gzip': ('pigz -dc', 1.0, 'target <= 1.0 x pigz -dc'),
    'zstd': ('zstd -dc', 2.0, 'target <= 2.0 x zstd -dc'),
    'engine': ('engine export (curl)', 1.15, 'target <= 1.15 x the export alone'),
    'registry': ('layerdive --ci (OCI layout)', 1.25, 'target <= 1.25 x the OCI layout'),
    'store': ('layerdive ls (uncompressed layout)', 1.1, 'target <= 1.1 x the uncompressed layout'),
}
gzip_ls = med(('gzip', 'layerdive ls'))
base_rss = max((m for _, m in rows.get(('baseline', 'layerdive ls sample'), [(0, 0)])), default=0) / 1024

def files_row(group, name, runs):
    """A row of the files section (issue 26) or of bigscale: ratios to the floor and to dive, bytes an entry, targets."""
    walls = [w for w, _ in runs]
    m, rss, n = statistics.median(walls), max(r for _, r in runs) / 1024, entries[(group, name)]
    floor_name, floor = files_floor(group)
    dive = next((med(k) for k in rows if k[0] == group and k[1].startswith('dive ')), None)
    at_least = '>= ' if any(k[0] == group and k[1].startswith('dive ') and 'stopped' in k[1] for k in rows) else ''
    budget = 64 + 100 * n / 2**20
    per_entry = f"{(rss - base_rss) * 2**20 / n:.0f} B/entry over the sample's {base_rss:.0f} MiB"
    ratio, target, shown = [], [], f"{rss:.0f}"
    if name.startswith('floor'):
        ratio.append('the floor (the fastest way)' if name == floor_name else f"{m / floor:.2f} x the floor")
    elif name.startswith('layerdive') or name.startswith('dive '):
        if floor: ratio.append(f"{m / floor:.1f} x the floor")
        if dive and name.startswith('layerdive'): ratio.append(f"{at_least}{dive / m:.1f} x faster than dive")
        ratio.append(per_entry)
        if name == 'layerdive --ci' and floor:
            target.append(f"<= 3 x the floor ({'met' if m <= 3 * floor else 'over'})")
        if name == 'layerdive --ci' and dive:
            target.append(f">= 10 x faster than dive ({'met' if dive >= 10 * m else 'over'})")
        if name.startswith('layerdive'):
            target.append(f"RSS <= 64 MiB + 100 B/entry = {budget:.0f} MiB ({'met' if rss <= budget else 'over'})")
    elif name.startswith('ui '):
        shown = ''
        if name == 'ui first frame' or name.endswith(', settled'):
            target.append(f"< 0.1 s ({'met' if m < 0.1 else 'over'})")
        elif name == 'ui explorer complete':
            shown = f"{rss:.0f}"
            ls = med((group, 'layerdive ls'))
            if ls: ratio.append(f"{m / ls:.2f} x layerdive ls")
            ratio.append(per_entry + ' (after the keys)')
    return f"| {group} | {name} | {min(walls):.2f} | {m:.3f} | {shown} | {'; '.join(ratio)} | {'; '.join(target)} |"

def files_floor(group):
    floors = [(med(k), k[1]) for k in rows if k[0] == group and k[1].startswith('floor')]
    if not floors: return None, None
    value, name = min(floors)
    return name, value

print(f"| form | command | min s | median s | peak RSS MiB | ratio | target |")
print(f"|---|---|---|---|---|---|---|")
for (group, name), runs in rows.items():
    if group.startswith('files-') or group == 'bigscale':
        print(files_row(group, name, runs))
        continue
    walls = [w for w, _ in runs]
    rss = max(m for _, m in runs) / 1024
    ratio, target = '', ''
    if group == 'diff' and name == 'layerdive diff':
        a, b = med(('diff', 'layerdive --ci (gzip layout)')), med(('diff', 'layerdive --ci (docker-archive)'))
        rss_a = max(m for _, m in rows[('diff', 'layerdive --ci (gzip layout)')]) / 1024
        rss_b = max(m for _, m in rows[('diff', 'layerdive --ci (docker-archive)')]) / 1024
        ratio = f"{statistics.median(walls) / (a + b):.2f} x the two --ci"
        target = f"target <= 1.1 x the two --ci ({'met' if statistics.median(walls) <= 1.1 * (a + b) else 'over'}); RSS <= {rss_a + rss_b:.0f} MiB, their sum ({'met' if rss <= rss_a + rss_b else 'over'})"
        print(f"| {group} | {name} | {min(walls):.2f} | {statistics.median(walls):.2f} | {rss:.0f} | {ratio} | {target} |")
        continue
    if group == 'viewer' and name.startswith('ui '):
        # the viewer pages a spooled copy of the file: it adds a window and a few checkpoints to the explorer's own RSS
        alone = max(m for _, m in rows[(group, 'ui explorer alone')]) / 1024 if (group, 'ui explorer alone') in rows else None
        if name == 'ui viewer first page':
            rss = None
            target = f"target < 1 s ({'met' if statistics.median(walls) < 1 else 'over'})"
        elif name == 'ui viewer end of file' and alone:
            ratio = f"+{rss - alone:.0f} MiB over the explorer alone"
            target = f"RSS <= the explorer alone + 16 MiB, {alone + 16:.0f} ({'met' if rss <= alone + 16 else 'over'})"
        shown = '' if rss is None else f"{rss:.0f}"
        print(f"| {group} | {name} | {min(walls):.2f} | {statistics.median(walls):.2f} | {shown} | {ratio} | {target} |")
        continue
    if name.startswith('ui '):
        rss = rss if name == 'ui explorer complete' else None
        if name == 'ui first frame':
            target = f"target < 1 s ({'met' if statistics.median(walls) < 1 else 'over'})"
        elif name == 'ui explorer complete' and med((group, 'layerdive ls')):
            ratio = f"{statistics.median(walls) / med((group, 'layerdive ls')):.2f} x layerdive ls"
    elif group in limits and name.startswith('layerdive') and name != limits[group][0]:
        limit, bound, target = limits[group]
        value = statistics.median(walls) / med((group, limit))
        ratio = f"{value:.2f} x {limit}"
        target = f"{target} ({'met' if value <= bound else 'over'})"
    elif group == 'uncompressed' and name.startswith('layerdive') and gzip_ls:
        ratio = f"{statistics.median(walls) / gzip_ls:.2f} x gzip form"
        target = 'target <= 0.6 x gzip form'
    if name.startswith('layerdive') or group in ('scaling', 'depth'):
        n = entries[(group, name)]
        budget = 64 + 400 * n / 2**20
        target = (target + '; ' if target else '') + f"RSS <= {budget:.0f} MiB ({'met' if rss <= budget else 'over'})"
        if group == 'scaling':
            ratio = f"{(rss - base_rss) * 2**20 / n:.0f} B/entry over the sample's {base_rss:.0f} MiB"
    shown = '' if rss is None else f"{rss:.0f}"
    print(f"| {group} | {name} | {min(walls):.2f} | {statistics.median(walls):.2f} | {shown} | {ratio} | {target} |")

# issue 26's targets, one line each
summary = []
for group in dict.fromkeys(g for g, _ in rows if g.startswith('files-') or g == 'bigscale'):
    for (g, name), runs in rows.items():
        if g != group or not (name == 'layerdive --ci' or (group == 'bigscale' and name.startswith('layerdive --ci'))): continue
        m, rss, n = med((g, name)), max(r for _, r in runs) / 1024, entries[(g, name)]
        floor_name, floor = files_floor(g)
        dive = next((med(k) for k in rows if k[0] == g and k[1].startswith('dive ')), None)
        stopped = any(k[0] == g and k[1].startswith('dive ') and 'stopped' in k[1] for k in rows)
        budget = 64 + 100 * n / 2**20
        parts = [f"{group} ({n:,} entries): `{name}` {m:.2f} s"]
        if floor: parts.append(f"{m / floor:.1f} x the floor ({floor:.2f} s, {floor_name.split(' +')[0][7:]}): {'met' if m <= 3 * floor else 'NOT met'} (<= 3 x)")
        if dive: parts.append(f"dive {'>= ' if stopped else ''}{dive:.2f} s = {'>= ' if stopped else ''}{dive / m:.1f} x: {'met' if dive >= 10 * m else 'not known (dive was stopped)' if stopped else 'NOT met'} (>= 10 x faster)")
        parts.append(f"peak RSS {rss:.0f} MiB ({(rss - base_rss) * 2**20 / n:.0f} B/entry over the sample): {'met' if rss <= budget else 'NOT met'} (<= 64 MiB + 100 B/entry = {budget:.0f} MiB)")
        summary.append('; '.join(parts))
    keys = [(name, med((g, name))) for (g, name) in rows if g == group and (name.endswith(', settled') or name == 'ui first frame')]
    if keys:
        slow = [f"{k[len('ui '):].replace(', settled', '')} {v * 1000:.0f} ms" for k, v in keys if v >= 0.1]
        summary.append(f"{group}: the explorer's first frame and keys within 100 ms: " + ('met' if not slow else 'NOT met (' + ', '.join(slow) + ')'))
if summary:
    print()
    print("Issue 26 targets:")
    for line in summary: print("- " + line)
