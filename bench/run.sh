#!/usr/bin/env bash
# LayerDive benchmark: one command, everything measured in the same run.
#
#   bash bench/run.sh            # 3 rounds each; ROUNDS=5 bash bench/run.sh for more
#
# Uses (or builds, as root, with ../shared/tools/make-corpus.sh) the 1 GB "big" image, times the
# decompression limits (gzip -dc, pigz -dc, zstd -dc, cat) and layerdive (ls, --ci) on its gzip, zstd
# and uncompressed forms, the explorer's first frame, panes and end of read in tmux, then a synthetic
# scaling series (1e4, 1e5, 1e6 entries; 1 and 50 layers). layerdive is the native executable that
# `dotnet publish` makes; one row runs the same code on the .NET runtime for comparison.
# Prints a table of min/median wall time, peak RSS and ratios to the limit (bench/report.py).
# Results stay in $OUT (default $TMPDIR/layerdive-bench); nothing is cached between runs.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
GEN=${GEN:-${TMPDIR:-/tmp}/layerdive-corpus}
OUT=${OUT:-${TMPDIR:-/tmp}/layerdive-bench}
SCALES=${SCALES:-"10000 100000 1000000"}
mkdir -p "$OUT"

need=()
for pair in pigz:pigz zstd:zstd /usr/bin/time:time python3:python3 tmux:tmux; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || [[ -x ${pair%%:*} ]] || need+=("${pair#*:}")
done
if ((${#need[@]})); then
  [[ $(id -u) == 0 ]] || { echo "bench: needs ${need[*]} (apt-get install)" >&2; exit 2; }
  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
fi
if [[ ! -f $GEN/big.rootfs.tsv ]]; then
  echo "bench: building the big image with ../shared/tools/make-corpus.sh (about 5 minutes, as root)" >&2
  GEN=$GEN bash ../shared/tools/make-corpus.sh >&2
fi

echo "bench: building layerdive (dotnet publish: the native executable users get)" >&2
rm -rf "$OUT/bin" "$OUT/bin-runtime"
dotnet publish src/LayerDive -c Release -o "$OUT/bin" >/dev/null
LD=$OUT/bin/layerdive
# the same code on the .NET runtime (what `dotnet run` runs), for one comparison row
dotnet publish src/LayerDive -c Release -p:PublishAot=false -o "$OUT/bin-runtime" >/dev/null

blobs() { # the layer blobs of the first image of an OCI layout, in order
  python3 - "$1" <<'PY'
import json, sys
d = sys.argv[1]; idx = json.load(open(d + "/index.json"))
m = json.load(open(d + "/blobs/sha256/" + idx["manifests"][0]["digest"][7:]))
print("\n".join(d + "/blobs/sha256/" + l["digest"][7:] for l in m["layers"]))
PY
}
mapfile -t GZ < <(blobs "$GEN/big/oci")
mapfile -t ZS < <(blobs "$GEN/big/oci-zstd")
mapfile -t UN < <(blobs "$GEN/big/oci-uncompressed")

RESULTS=$OUT/results.tsv
printf 'group\tname\tround\twall_s\tmaxrss_kb\tentries\n' > "$RESULTS"
measure() { # measure GROUP NAME ENTRIES CMD... (exit status 1 is a CI verdict, not a failure)
  local group=$1 name=$2 entries=$3; shift 3
  local r
  for ((r = 1; r <= ROUNDS; r++)); do
    /usr/bin/time -f '%e\t%M' -o "$OUT/time.txt" env -u CI "$@" >/dev/null 2>"$OUT/stderr.txt" || {
      status=$?; [[ $status == 1 ]] || { echo "bench: $name failed ($status): $(tail -1 "$OUT/stderr.txt")" >&2; return; }; }
    printf '%s\t%s\t%d\t%s\t%s\n' "$group" "$name" "$r" "$(tail -1 "$OUT/time.txt")" "$entries" >> "$RESULTS"
  done
}
warm() { cat "$@" > /dev/null; }
ui() { # ui GROUP IMAGE: the explorer in a 120x36 tmux pane; times its first frame, its panes, the end of the read
  local group=$1 image=$2 r start now screen first open done
  for ((r = 1; r <= ROUNDS; r++)); do
    tmux kill-session -t ldbench 2>/dev/null || true
    first=""; open=""; done=""
    rm -f "$OUT/ui-rss.txt"
    # a tmux server whose last session was just killed may still be going away: try again
    for _ in $(seq 10); do
      start=$(date +%s%N)
      tmux new-session -d -s ldbench -x 120 -y 36 "env -u CI /usr/bin/time -f %M -o '$OUT/ui-rss.txt' $LD '$image'; sleep 60" 2>/dev/null && break
      sleep 0.5
    done
    while :; do
      now=$(( $(date +%s%N) - start ))
      screen=$(tmux capture-pane -p -t ldbench 2>/dev/null || true)
      [[ -z $first && $screen == *LayerDive* ]] && first=$now
      [[ -z $open && $screen == *Layers* ]] && open=$now
      [[ -n $open && $screen == *Efficiency:* ]] && { done=$now; break; }
      (( now > 60000000000 )) && break
      sleep 0.01
    done
    tmux send-keys -t ldbench q 2>/dev/null || true # quit, so that the peak RSS is written
    for _ in $(seq 50); do [[ -s $OUT/ui-rss.txt ]] && break; sleep 0.1; done
    tmux kill-session -t ldbench 2>/dev/null || true
    for pair in "first frame:$first" "explorer open:$open" "explorer complete:$done"; do
      local rss=0
      [[ ${pair%%:*} == "explorer complete" && -s $OUT/ui-rss.txt ]] && rss=$(tail -1 "$OUT/ui-rss.txt")
      [[ -n ${pair#*:} ]] && printf '%s\tui %s\t%d\t%s\t%s\t%s\n' "$group" "${pair%%:*}" "$r" "$(awk "BEGIN {print ${pair#*:} / 1e9}")" "$rss" "$ENTRIES" >> "$RESULTS"
    done
  done
}
ENTRIES=$(awk -F'\t' '/^#total/ {print $6}' "$GEN/big.layers.tsv")

echo "bench: big, gzip form" >&2
warm "${GZ[@]}"
measure gzip "gzip -dc" "$ENTRIES" sh -c 'for f; do gzip -dc "$f"; done' sh "${GZ[@]}"
measure gzip "pigz -dc" "$ENTRIES" sh -c 'for f; do pigz -dc "$f"; done' sh "${GZ[@]}"
measure gzip "layerdive ls" "$ENTRIES" "$LD" ls "$GEN/big/oci" --quiet
measure gzip "layerdive --ci" "$ENTRIES" "$LD" "$GEN/big/oci" --ci --quiet
measure gzip "layerdive --ci --json" "$ENTRIES" "$LD" "$GEN/big/oci" --ci --json "$OUT/big.json" --quiet
measure gzip "layerdive ls (runtime build)" "$ENTRIES" dotnet "$OUT/bin-runtime/layerdive.dll" ls "$GEN/big/oci" --quiet
ui gzip "$GEN/big/oci"

echo "bench: big, zstd form" >&2
warm "${ZS[@]}"
measure zstd "zstd -dc" "$ENTRIES" sh -c 'for f; do zstd -qdc "$f"; done' sh "${ZS[@]}"
measure zstd "layerdive ls" "$ENTRIES" "$LD" ls "$GEN/big/oci-zstd" --quiet
measure zstd "layerdive --ci" "$ENTRIES" "$LD" "$GEN/big/oci-zstd" --ci --quiet
ui zstd "$GEN/big/oci-zstd"

echo "bench: big, uncompressed form" >&2
warm "${UN[@]}"
measure uncompressed "cat" "$ENTRIES" sh -c 'cat "$@" > /dev/null' sh "${UN[@]}"
measure uncompressed "layerdive ls" "$ENTRIES" "$LD" ls "$GEN/big/oci-uncompressed" --quiet
measure uncompressed "layerdive --ci" "$ENTRIES" "$LD" "$GEN/big/oci-uncompressed" --ci --quiet
ui uncompressed "$GEN/big/oci-uncompressed"
measure uncompressed "layerdive ls (docker-archive)" "$ENTRIES" "$LD" ls "$GEN/big/big.docker-archive.tar" --quiet

# containers-storage: big loaded by podman into an overlay store; its layers rebuilt from their tar-split
# and the layer folders, against the uncompressed layout (the same bytes, from one file each) in the same run
if command -v podman >/dev/null && [[ $(id -u) == 0 ]]; then
  store=$OUT/store
  if [[ ! -f $store/loaded ]]; then
    rm -rf "$store"
    podman --root "$store/root" --runroot "/tmp/ldbench-run" --storage-driver overlay load -q -i "$GEN/big/big.docker-archive.tar" >/dev/null && touch "$store/loaded"
    # containers-storage bind-mounts its overlay folder on itself: undo it
    awk -v r="$store/" 'index($2, r) == 1 {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l
  fi
  if [[ -f $store/loaded ]]; then
    echo "bench: big in an overlay store (containers-storage)" >&2
    name=$(podman --root "$store/root" --runroot "/tmp/ldbench-run" --storage-driver overlay images --format '{{.Repository}}:{{.Tag}}' | head -1)
    awk -v r="$store/" 'index($2, r) == 1 {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l
    find "$store/root/overlay" -type f -print0 | xargs -0 cat > /dev/null
    warm "${UN[@]}"
    measure store "layerdive ls (uncompressed layout)" "$ENTRIES" "$LD" ls "$GEN/big/oci-uncompressed" --quiet
    measure store "layerdive ls (overlay store)" "$ENTRIES" "$LD" ls "containers-storage:[overlay@$store/root]$name" --quiet
    measure store "layerdive --ci (overlay store)" "$ENTRIES" "$LD" --ci "containers-storage:[overlay@$store/root]$name" --quiet
    # what reading it without LayerDive takes: an export of the image from the store (skopeo, as podman save does)
    if command -v skopeo >/dev/null; then
      measure store "skopeo copy to a docker-archive (an export)" "$ENTRIES" sh -c 'skopeo copy -q "$1" "docker-archive:$2" && rm -f "$2"' sh "containers-storage:[overlay@$store/root+/tmp/ldbench-run]$name" "$OUT/store-export.tar"
      awk -v r="$store/" 'index($2, r) == 1 {print $2}' /proc/mounts | sort -r | xargs -r -n1 umount -l
    fi
  fi
fi

echo "bench: diff of two big forms (the gzip layout and the docker-archive), against their two --ci runs" >&2
measure diff "layerdive --ci (gzip layout)" "$ENTRIES" "$LD" "$GEN/big/oci" --ci --quiet
measure diff "layerdive --ci (docker-archive)" "$ENTRIES" "$LD" "$GEN/big/big.docker-archive.tar" --ci --quiet
measure diff "layerdive diff" "$ENTRIES" "$LD" diff "$GEN/big/oci" "$GEN/big/big.docker-archive.tar" --quiet

# The Docker Engine: big loaded into a dockerd under a temporary root; layerdive reads the engine's
# export as it streams, next to the export alone (curl into /dev/null) in the same run.
if command -v dockerd >/dev/null && command -v curl >/dev/null && [[ $(id -u) == 0 ]]; then
  DK=$(mktemp -d "${TMPDIR:-/tmp}/layerdive-bench-dockerd.XXXXXX")
  dockerd --data-root "$DK/data" --exec-root "$DK/exec" --pidfile "$DK/pid" --host "unix://$DK/sock" --storage-driver vfs \
    --iptables=false --ip6tables=false --ip-masq=false --bridge=none >"$DK/log" 2>&1 &
  DKPID=$!
  for _ in $(seq 100); do curl -sf --unix-socket "$DK/sock" http://engine/_ping >/dev/null 2>&1 && break; sleep 0.2; done
  if curl -sf -X POST --unix-socket "$DK/sock" -H 'Content-Type: application/x-tar' --data-binary "@$GEN/big/big.docker-archive.tar" \
      "http://engine/images/load?quiet=1" >/dev/null; then
    NAME=$(tar -xOf "$GEN/big/big.docker-archive.tar" manifest.json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["RepoTags"][0])')
    echo "bench: big in the Docker Engine ($NAME)" >&2
    measure engine "engine export (curl)" "$ENTRIES" curl -sf --unix-socket "$DK/sock" -o /dev/null "http://engine/images/$NAME/get"
    measure engine "layerdive --ci docker://" "$ENTRIES" env DOCKER_HOST="unix://$DK/sock" "$LD" "docker://$NAME" --ci --quiet
    measure engine "layerdive ls docker://" "$ENTRIES" env DOCKER_HOST="unix://$DK/sock" "$LD" ls "docker://$NAME" --quiet
  else
    echo "bench: could not load big into dockerd (log: $DK/log)" >&2
  fi
  kill -TERM "$DKPID"; wait "$DKPID" || true
  rm -rf "$DK"
else
  echo "bench: no dockerd (apt-get install docker.io) or not root: the engine rows are left out" >&2
fi

# A registry: big (gzip layers) pushed with skopeo to a docker-registry on loopback under a temporary
# root; layerdive reads it with no daemon and nothing on disk, next to the same image's OCI layout.
if command -v docker-registry >/dev/null && command -v skopeo >/dev/null; then
  RG=$(mktemp -d "${TMPDIR:-/tmp}/layerdive-bench-registry.XXXXXX")
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s/data\nhttp:\n  addr: 127.0.0.1:%s\n' "$RG" "$PORT" > "$RG/config.yml"
  docker-registry serve "$RG/config.yml" >"$RG/log" 2>&1 &
  RGPID=$!
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/v2/" >/dev/null 2>&1 && break; sleep 0.2; done
  if skopeo copy --quiet --dest-tls-verify=false "oci:$GEN/big/oci" "docker://127.0.0.1:$PORT/big:latest" >"$RG/push.log" 2>&1; then
    echo "bench: big in a registry on 127.0.0.1:$PORT" >&2
    warm "${GZ[@]}"
    measure registry "layerdive --ci (OCI layout)" "$ENTRIES" "$LD" "$GEN/big/oci" --ci --quiet
    measure registry "layerdive --ci registry://" "$ENTRIES" "$LD" "registry://127.0.0.1:$PORT/big:latest" --ci --quiet
    measure registry "layerdive ls registry://" "$ENTRIES" "$LD" ls "registry://127.0.0.1:$PORT/big:latest" --quiet
    ui registry "registry://127.0.0.1:$PORT/big:latest"
  else
    echo "bench: could not push big to the registry: $(tail -1 "$RG/push.log")" >&2
  fi
  kill "$RGPID"; wait "$RGPID" 2>/dev/null || true
  rm -rf "$RG"
else
  echo "bench: no docker-registry or skopeo (apt-get install docker-registry skopeo): the registry rows are left out" >&2
fi

echo "bench: baseline (the bundled sample)" >&2
measure baseline "layerdive ls sample" 30 "$LD" ls samples/sample.oci.tar --quiet

for n in $SCALES; do
  for layers in 1 50; do
    dir=$OUT/synthetic-$n-$layers
    if [[ ! -f $dir/index.json ]]; then
      echo "bench: generating $n entries in $layers layers" >&2
      rm -rf "$dir"; dotnet run -c Release --project samples/LayerDive.Samples -- synthetic "$dir" "$n" "$layers" >/dev/null
    fi
    total=$(( n + n / 100 + (layers > 1 ? n / 10 : 0) ))  # files, directories, rewrites
    warm "$dir"/blobs/sha256/*
    measure scaling "ls $n entries, $layers layers" "$total" "$LD" ls "$dir" --quiet
    measure scaling "--ci --json $n entries, $layers layers" "$total" "$LD" --ci --json "$OUT/report.json" "$dir" --quiet
  done
done

# depth: one path 20,000 directories deep (a 60 KB image); every command costs its size, not its depth squared
deep=$OUT/deep-20000.tar
if [[ ! -f $deep ]]; then
  python3 - "$deep" <<'PY'
import sys, tarfile, io, json, hashlib
b = io.BytesIO(); t = tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT)
ti = tarfile.TarInfo("/".join(["d"] * 20000) + "/f"); ti.size = 5; t.addfile(ti, io.BytesIO(b"deep\n")); t.close()
layer = b.getvalue()
cfg = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]}, "history": [{"created_by": "deep"}]}).encode()
name = hashlib.sha256(cfg).hexdigest() + ".json"
man = json.dumps([{"Config": name, "RepoTags": ["deep:latest"], "Layers": ["l/layer.tar"]}]).encode()
o = tarfile.open(sys.argv[1], "w")
for n, d in (("manifest.json", man), (name, cfg), ("l/layer.tar", layer)):
    ti = tarfile.TarInfo(n); ti.size = len(d); o.addfile(ti, io.BytesIO(d))
o.close()
PY
fi
measure depth "ls --changes, 20,000 deep" 20003 "$LD" ls "$deep" --changes --layer 0 --quiet
measure depth "--ci --json, 20,000 deep" 20003 "$LD" --ci --json "$OUT/report.json" "$deep" --quiet
rm -rf "$OUT/deep-out"
measure depth "extract, 20,000 deep" 20003 "$LD" extract "$deep" / --output "$OUT/deep-out" --quiet
rm -rf "$OUT/deep-out"

# viewer: a 110 MB text file in a gzip layer, read by cat and paged by the explorer's viewer
big_file=$OUT/viewer-110mb.tar
if [[ ! -f $big_file ]]; then
  python3 - "$big_file" "$OUT" <<'PY'
import sys, tarfile, io, json, hashlib, gzip, os
out, tmp = sys.argv[1], sys.argv[2]
data = os.path.join(tmp, "viewer-big.log")
with open(data, "w") as f:
    for i in range(2_000_000): f.write(f"{i:09d} the quick brown fox jumps over the lazy dog {i % 7}\n")
layer = os.path.join(tmp, "viewer-layer.tar")
with tarfile.open(layer, "w", format=tarfile.PAX_FORMAT) as t:
    d = tarfile.TarInfo("data"); d.type = tarfile.DIRTYPE; d.mode = 0o755; t.addfile(d)
    t.add(data, "data/big.log")
diff_id = hashlib.sha256(open(layer, "rb").read()).hexdigest()
with open(layer, "rb") as src, gzip.open(layer + ".gz", "wb", compresslevel=6) as dst:
    while chunk := src.read(1 << 20): dst.write(chunk)
cfg = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff_id]}, "history": [{"created_by": "RUN generate big.log"}]}).encode()
name = hashlib.sha256(cfg).hexdigest() + ".json"
man = json.dumps([{"Config": name, "RepoTags": ["viewer:latest"], "Layers": ["l/layer.tar.gz"]}]).encode()
with tarfile.open(out, "w") as o:
    for n, b in (("manifest.json", man), (name, cfg)):
        ti = tarfile.TarInfo(n); ti.size = len(b); o.addfile(ti, io.BytesIO(b))
    o.add(layer + ".gz", "l/layer.tar.gz")
for f in (data, layer, layer + ".gz"): os.remove(f)
PY
fi
warm "$big_file"
measure viewer "layerdive ls (one 110 MB file)" 3 "$LD" ls "$big_file" --quiet
measure viewer "layerdive cat (110 MB to /dev/null)" 3 "$LD" cat "$big_file" data/big.log --quiet
open_viewer_session() { # the explorer on the big file in a 120x36 tmux pane, its peak RSS written when it quits
  tmux kill-session -t ldview 2>/dev/null || true
  rm -f "$OUT/viewer-rss.txt"
  for _ in $(seq 10); do
    tmux new-session -d -s ldview -x 120 -y 36 "env -u CI /usr/bin/time -f %M -o '$OUT/viewer-rss.txt' $LD '$big_file'; sleep 60" 2>/dev/null && break
    sleep 0.5
  done
}
viewer() { # the explorer's viewer on the big file: Enter to its first page, End to its last line; peak RSS of the whole run
  # (and of a run that opens the explorer alone, the same image: what the viewer adds is the difference)
  local r start now screen first last alone
  for ((r = 1; r <= ROUNDS; r++)); do
    open_viewer_session
    start=$(date +%s%N)
    for _ in $(seq 300); do tmux capture-pane -p -t ldview 2>/dev/null | grep -qF 'Efficiency:' && break; sleep 0.1; done
    alone=$(( $(date +%s%N) - start ))
    tmux send-keys -t ldview q
    for _ in $(seq 50); do [[ -s $OUT/viewer-rss.txt ]] && break; sleep 0.1; done
    tmux kill-session -t ldview 2>/dev/null || true
    printf 'viewer\tui explorer alone\t%d\t%s\t%s\t3\n' "$r" "$(awk "BEGIN {print $alone / 1e9}")" "$(tail -1 "$OUT/viewer-rss.txt")" >> "$RESULTS"
    open_viewer_session
    for _ in $(seq 300); do tmux capture-pane -p -t ldview 2>/dev/null | grep -qF 'Efficiency:' && break; sleep 0.1; done
    tmux send-keys -t ldview Tab / && tmux send-keys -t ldview -l big.log && tmux send-keys -t ldview Enter
    sleep 0.5
    first=""; last=""
    start=$(date +%s%N)
    tmux send-keys -t ldview Enter
    while :; do
      now=$(( $(date +%s%N) - start ))
      screen=$(tmux capture-pane -p -t ldview 2>/dev/null || true)
      [[ -z $first && $screen == *"1 │ 000000000 the quick"* ]] && { first=$now; start=$(date +%s%N); tmux send-keys -t ldview End; }
      [[ -n $first && $screen == *"2000000 │ 001999999 the quick"* ]] && { last=$now; break; }
      (( now > 60000000000 )) && break
      sleep 0.01
    done
    tmux send-keys -t ldview q; sleep 0.3; tmux send-keys -t ldview q
    for _ in $(seq 50); do [[ -s $OUT/viewer-rss.txt ]] && break; sleep 0.1; done
    tmux kill-session -t ldview 2>/dev/null || true
    [[ -n $first ]] && printf 'viewer\tui viewer first page\t%d\t%s\t0\t3\n' "$r" "$(awk "BEGIN {print $first / 1e9}")" >> "$RESULTS"
    [[ -n $last ]] && printf 'viewer\tui viewer end of file\t%d\t%s\t%s\t3\n' "$r" "$(awk "BEGIN {print $last / 1e9}")" "$(tail -1 "$OUT/viewer-rss.txt")" >> "$RESULTS"
  done
}
viewer

python3 bench/report.py "$RESULTS"
