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

print(f"| form | command | min s | median s | peak RSS MiB | ratio | target |")
print(f"|---|---|---|---|---|---|---|")
for (group, name), runs in rows.items():
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
