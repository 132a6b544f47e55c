#!/usr/bin/env bash
# Runs `layerdive overlay` for real: lays out each layer as the printed overlay2 layout says (under a
# scratch folder instead of /var/lib/docker/overlay2), converts whiteouts to 0/0 character devices and
# opaque markers to the trusted.overlay.opaque xattr as Docker does, mounts with the printed command,
# and compares the merged folder with `layerdive ls --format tsv`. Needs root and overlay mounts.
#   mount.sh "dotnet path/to/layerdive.dll" OCI_LAYOUT_DIR CORPUS_TOOLS_PY
# Exit 0: same tree; 1: differences (printed); 77: the kernel refuses overlay mounts here.
set -u
layerdive=$1 layout=$2 tools=$3
scratch=$(mktemp -d)
trap 'umount "$scratch"/*/merged 2>/dev/null; rm -rf "$scratch"' EXIT
env -u CI $layerdive overlay "$layout" --quiet > "$scratch/overlay.txt" || exit 1
env -u CI $layerdive ls "$layout" --format tsv --quiet > "$scratch/expected.tsv" || exit 1

python3 - "$layout" "$scratch" <<'PY' || exit 1
import json, os, re, stat, sys, tarfile
layout, scratch = sys.argv[1], sys.argv[2]
root = "/var/lib/docker/overlay2"
text = open(os.path.join(scratch, "overlay.txt")).read().splitlines()
dirs = [l[len(root) + 1:].rstrip("/") for l in text if l.startswith(root + "/") and l.endswith("/")]
links = [l.split()[1] for l in text if l.startswith("    link ")]
idx = json.load(open(os.path.join(layout, "index.json")))
man = json.load(open(os.path.join(layout, "blobs", "sha256", idx["manifests"][0]["digest"][7:])))
blobs = [os.path.join(layout, "blobs", "sha256", l["digest"][7:]) for l in man["layers"]]
assert len(blobs) == len(dirs) == len(links), (len(blobs), len(dirs), len(links))
os.makedirs(os.path.join(scratch, "l"))
for blob, cache, link in zip(blobs, dirs, links):
    diff = os.path.join(scratch, cache, "diff")
    os.makedirs(diff)
    os.symlink("../%s/diff" % cache, os.path.join(scratch, "l", link))
    with tarfile.open(blob, "r:*") as t:
        for m in t:
            name = os.path.normpath(m.name.lstrip("/")).lstrip("./") if m.name not in (".", "./") else ""
            base, parent = os.path.basename(name), os.path.dirname(name)
            if base == ".wh..wh..opq":  # the opaque marker becomes an xattr on its directory
                os.makedirs(os.path.join(diff, parent), exist_ok=True)
                os.setxattr(os.path.join(diff, parent), "trusted.overlay.opaque", b"y")
            elif base.startswith(".wh."):  # a whiteout becomes a 0/0 character device
                os.makedirs(os.path.join(diff, parent), exist_ok=True)
                os.mknod(os.path.join(diff, parent, base[4:]), stat.S_IFCHR | 0o600, os.makedev(0, 0))
            elif name:
                # as GNU tar and Go do: a hardlink is only linked (its header's mode is not applied to the
                # shared inode), and a symlink gets its own mtime
                t.extract(m, diff, set_attrs=not m.islnk(), numeric_owner=True, filter="fully_trusted")
                if m.issym():
                    os.utime(os.path.join(diff, m.name), (m.mtime, m.mtime), follow_symlinks=False)
PY
mount_cmd=$(tail -1 "$scratch/overlay.txt" | sed "s#$(printf %s /var/lib/docker/overlay2)#$scratch#g")
container=$(sed -E 's#.* ([^ ]+)/merged$#\1#' <<<"$mount_cmd")
mkdir -p "$container/diff" "$container/work" "$container/merged"
if ! $mount_cmd 2>"$scratch/mount.err"; then
  echo "the kernel refuses the overlay mount here: $(cat "$scratch/mount.err")"
  exit 77
fi
python3 "$tools" rootfs "$container/merged" "$scratch/merged.tsv" >/dev/null
# every column but nlink: overlayfs reports a lower inode's own link count, which still counts names
# that an upper layer whited out, while an unpacked root filesystem (umoci, our reference) counts the
# visible names. Directory mtimes are '-' in both.
cut -f1-9 "$scratch/expected.tsv" > "$scratch/expected9.tsv"
cut -f1-9 "$scratch/merged.tsv" > "$scratch/merged9.tsv"
if diff "$scratch/expected9.tsv" "$scratch/merged9.tsv" > "$scratch/diff.txt"; then
  echo "overlay mount: $(($(wc -l < "$scratch/expected.tsv") - 1)) paths, the same tree as layerdive ls"
  exit 0
fi
echo "overlay mount differs from layerdive ls:"; head -20 "$scratch/diff.txt"
exit 1
