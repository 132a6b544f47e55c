#!/usr/bin/env bash
# LayerDive benchmark: one command, everything measured in the same run.
#
#   bash bench/run.sh            # 3 rounds each; ROUNDS=5 bash bench/run.sh for more
#
# Knobs (environment):
#   ROUNDS=N          rounds of each measurement (3)
#   ONLY="files ..."  only these sections: gzip zstd uncompressed store containerd diff engine registry scaling
#                     depth viewer files bigscale cache scan (default: all; the first eight need the 1 GB image)
#   LD_BIN=PATH       an already published layerdive to measure (no dotnet publish; the runtime-build row is
#                     left out unless LD_RUNTIME_DLL=PATH/layerdive.dll names that build)
#   SCALES="1e4 ..."  the synthetic scaling series' sizes
#   FILES_IMAGES="synthetic realistic"   the file-heavy images of the files section (issue 26)
#   FILES_ENTRIES=N   their size (1000000): the synthetic image in 50 layers, the realistic one (fileheavy)
#   FILES_SYNTHETIC=DIR   a synthetic layout of FILES_ENTRIES entries in 50 layers already generated
#   BIG_SCALE=0       leave out the 5,000,000 entries in one layer row (bigscale; BIG_SCALE_ENTRIES=N another size)
#   DIVE=PATH         dive v0.13.1 (../shared/tools/dive/dive); DIVE_ROUNDS=1 of it (minutes on the realistic
#                     image: it walks its whole tree once a whiteout), each stopped after DIVE_TIMEOUT=1200 s
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
FILES_IMAGES=${FILES_IMAGES:-"synthetic realistic"}
FILES_ENTRIES=${FILES_ENTRIES:-1000000}
DIVE=${DIVE:-../shared/tools/dive/dive}
DIVE_ROUNDS=${DIVE_ROUNDS:-1}
DIVE_TIMEOUT=${DIVE_TIMEOUT:-1200}
mkdir -p "$OUT"
# every row reads its image as a first run does: the layer cache is off but in the cache section
export LAYERDIVE_CACHE=off
want() { [[ -z ${ONLY:-} || " ${ONLY//,/ } " == *" $1 "* ]]; } # want SECTION: is it to be measured?
BIG=0
for section in gzip zstd uncompressed store containerd diff engine registry cache; do want "$section" && BIG=1; done

need=()
for pair in pigz:pigz zstd:zstd /usr/bin/time:time python3:python3 tmux:tmux skopeo:skopeo; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || [[ -x ${pair%%:*} ]] || need+=("${pair#*:}")
done
if ((${#need[@]})); then
  [[ $(id -u) == 0 ]] || { echo "bench: needs ${need[*]} (apt-get install)" >&2; exit 2; }
  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}" >/dev/null
fi
if ((BIG)) && [[ ! -f $GEN/big.rootfs.tsv ]]; then
  echo "bench: building the big image with ../shared/tools/make-corpus.sh (about 5 minutes, as root)" >&2
  GEN=$GEN bash ../shared/tools/make-corpus.sh >&2
fi

if [[ -n ${LD_BIN:-} ]]; then
  LD=$(realpath "$LD_BIN")
  LD_RUNTIME_DLL=${LD_RUNTIME_DLL:+$(realpath "$LD_RUNTIME_DLL")}
  echo "bench: measuring $LD (LD_BIN)" >&2
else
  echo "bench: building layerdive (dotnet publish: the native executable users get)" >&2
  rm -rf "$OUT/bin" "$OUT/bin-runtime"
  dotnet publish src/LayerDive -c Release -o "$OUT/bin" >/dev/null
  LD=$OUT/bin/layerdive
  # the same code on the .NET runtime (what `dotnet run` runs), for one comparison row
  dotnet publish src/LayerDive -c Release -p:PublishAot=false -o "$OUT/bin-runtime" >/dev/null
  LD_RUNTIME_DLL=$OUT/bin-runtime/layerdive.dll
fi

blobs() { # the layer blobs of the first image of an OCI layout, in order
  python3 - "$1" <<'PY'
import json, sys
d = sys.argv[1]; idx = json.load(open(d + "/index.json"))
m = json.load(open(d + "/blobs/sha256/" + idx["manifests"][0]["digest"][7:]))
print("\n".join(d + "/blobs/sha256/" + l["digest"][7:] for l in m["layers"]))
PY
}
if ((BIG)); then
  mapfile -t GZ < <(blobs "$GEN/big/oci")
  mapfile -t ZS < <(blobs "$GEN/big/oci-zstd")
  mapfile -t UN < <(blobs "$GEN/big/oci-uncompressed")
fi

RESULTS=$OUT/results.tsv
printf 'group\tname\tround\twall_s\tmaxrss_kb\tentries\n' > "$RESULTS"
measure() { # measure GROUP NAME ENTRIES CMD... (exit status 1 is a CI verdict, not a failure; 124, timeout(1)'s, is kept as a bound)
  local group=$1 name=$2 entries=$3; shift 3
  local r
  for ((r = 1; r <= ROUNDS; r++)); do
    /usr/bin/time -f '%e\t%M' -o "$OUT/time.txt" env -u CI "$@" >/dev/null 2>"$OUT/stderr.txt" || {
      status=$?
      if [[ $status == 124 ]]; then
        echo "bench: $name stopped at its timeout" >&2
        printf '%s\t%s (stopped at the timeout)\t%d\t%s\t%s\n' "$group" "$name" "$r" "$(tail -1 "$OUT/time.txt")" "$entries" >> "$RESULTS"
        continue
      fi
      [[ $status == 1 ]] || { echo "bench: $name failed ($status): $(tail -1 "$OUT/stderr.txt")" >&2; return; }; }
    printf '%s\t%s\t%d\t%s\t%s\n' "$group" "$name" "$r" "$(tail -1 "$OUT/time.txt")" "$entries" >> "$RESULTS"
  done
}
warm() { cat "$@" > /dev/null; }
pane() { tmux capture-pane -p -e -t ldbench 2>/dev/null || true; } # the explorer's screen, colours included
registry_up() { # registry_up DIR: a docker-registry with its root in DIR on a free loopback port; sets REG_PORT and REG_PID
  REG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s/data\nhttp:\n  addr: 127.0.0.1:%s\n' "$1" "$REG_PORT" > "$1/config.yml"
  docker-registry serve "$1/config.yml" >"$1/log" 2>&1 &
  REG_PID=$!
  for _ in $(seq 50); do curl -sf "http://127.0.0.1:$REG_PORT/v2/" >/dev/null 2>&1 && break; sleep 0.2; done
}
settle() { # waits until the explorer's pane has not changed for 300 ms (30 s at most)
  local last cur start since now
  last=$(pane); start=${EPOCHREALTIME/[.,]/}; since=$start
  while :; do
    sleep 0.02
    cur=$(pane); now=${EPOCHREALTIME/[.,]/}
    [[ $cur != "$last" ]] && { last=$cur; since=$now; }
    (( now - since > 300000 || now - start > 30000000 )) && break
  done
}
key() { # key GROUP ROUND NAME ENTRIES TMUX-KEYS...: once the pane is still, sends the keys and times, polling every
  # 5 ms, the first change of the pane and its last change before 300 ms without one (the whole answer)
  local group=$1 r=$2 name=$3 entries=$4; shift 4
  settle
  local before cur start now first="" last=""
  before=$(pane)
  start=${EPOCHREALTIME/[.,]/}
  tmux send-keys -t ldbench "$@"
  while :; do
    cur=$(pane); now=$(( ${EPOCHREALTIME/[.,]/} - start ))
    [[ $cur != "$before" ]] && { [[ -z $first ]] && first=$now; last=$now; before=$cur; }
    [[ -n $first ]] && (( now - last > 300000 )) && break
    (( now > 30000000 )) && break
    sleep 0.005
  done
  if [[ -n $first ]]; then
    printf '%s\tui key %s\t%d\t%s\t0\t%s\n' "$group" "$name" "$r" "$(awk "BEGIN {print $first / 1e6}")" "$entries" >> "$RESULTS"
    printf '%s\tui key %s, settled\t%d\t%s\t0\t%s\n' "$group" "$name" "$r" "$(awk "BEGIN {print $last / 1e6}")" "$entries" >> "$RESULTS"
  else
    echo "bench: $group: the key '$name' changed nothing in 30 s" >&2
  fi
}
ui() { # ui GROUP IMAGE [ENTRIES [FILTER]]: the explorer in a 120x36 tmux pane; times its first frame, its panes, the end
  # of the read; with FILTER, then the keys: the next layer, aggregated changes, collapse all, expand all, a filter
  local group=$1 image=$2 entries=${3:-$ENTRIES} filter=${4:-} r start now screen first open done
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
      (( now > 120000000000 )) && break
      sleep 0.01
    done
    if [[ -n $filter && -n $done ]]; then
      # the explorer starts in the layers pane on layer 0, the tree expanded
      key "$group" "$r" "next layer (Down)" "$entries" Down
      settle; tmux send-keys -t ldbench PageDown # a layer further up, so that the aggregate covers several
      key "$group" "$r" "aggregated changes (Ctrl+A)" "$entries" C-a
      settle; tmux send-keys -t ldbench C-l; settle; tmux send-keys -t ldbench Tab # this layer again; the tree pane
      key "$group" "$r" "collapse all (Ctrl+Space)" "$entries" C-Space
      key "$group" "$r" "expand all (Ctrl+Space)" "$entries" C-Space
      settle; tmux send-keys -t ldbench C-f
      key "$group" "$r" "filter '$filter' (typed at once)" "$entries" -l "$filter"
      tmux send-keys -t ldbench Escape; sleep 0.3
    fi
    tmux send-keys -t ldbench q 2>/dev/null || true # quit, so that the peak RSS is written
    for _ in $(seq 50); do [[ -s $OUT/ui-rss.txt ]] && break; sleep 0.1; done
    tmux kill-session -t ldbench 2>/dev/null || true
    for pair in "first frame:$first" "explorer open:$open" "explorer complete:$done"; do
      local rss=0
      [[ ${pair%%:*} == "explorer complete" && -s $OUT/ui-rss.txt ]] && rss=$(tail -1 "$OUT/ui-rss.txt")
      [[ -n ${pair#*:} ]] && printf '%s\tui %s\t%d\t%s\t%s\t%s\n' "$group" "${pair%%:*}" "$r" "$(awk "BEGIN {print ${pair#*:} / 1e9}")" "$rss" "$entries" >> "$RESULTS"
    done
  done
}
ENTRIES=0
((BIG)) && ENTRIES=$(awk -F'\t' '/^#total/ {print $6}' "$GEN/big.layers.tsv")

if want gzip; then
echo "bench: big, gzip form" >&2
warm "${GZ[@]}"
measure gzip "gzip -dc" "$ENTRIES" sh -c 'for f; do gzip -dc "$f"; done' sh "${GZ[@]}"
measure gzip "pigz -dc" "$ENTRIES" sh -c 'for f; do pigz -dc "$f"; done' sh "${GZ[@]}"
measure gzip "layerdive ls" "$ENTRIES" "$LD" ls "$GEN/big/oci" --quiet
measure gzip "layerdive --ci" "$ENTRIES" "$LD" "$GEN/big/oci" --ci --quiet
measure gzip "layerdive --ci --json" "$ENTRIES" "$LD" "$GEN/big/oci" --ci --json "$OUT/big.json" --quiet
measure gzip "layerdive advise" "$ENTRIES" "$LD" advise "$GEN/big/oci" --quiet # issue 29: at most 1.1x --ci (the same pass)
[[ -n ${LD_RUNTIME_DLL:-} ]] && measure gzip "layerdive ls (runtime build)" "$ENTRIES" dotnet "$LD_RUNTIME_DLL" ls "$GEN/big/oci" --quiet
ui gzip "$GEN/big/oci"
fi

# The layer cache (issue 28): --ci --json of the gzip layout with the cache empty (each round), warm,
# and for the image plus one new layer (its blobs hard-linked) with the base's layers cached, beside
# that layer read alone as an image of its own
if want cache; then
echo "bench: the layer cache" >&2
LC=$OUT/layer-cache
rm -rf "$LC" "$OUT/plus1" "$OUT/alone" && cp -al "$GEN/big/oci" "$OUT/plus1" && rm -f "$OUT/plus1/index.json"
python3 bench/plus-one-layer.py "$GEN/big/oci" "$OUT/plus1" "$OUT/alone"
measure cache "layerdive --ci --json (cache cold)" "$ENTRIES" sh -c 'rm -rf "$1"; exec "$2" "$3" --ci --json "$4" --quiet --cache "$1"' sh "$LC" "$LD" "$GEN/big/oci" "$OUT/big.json"
measure cache "layerdive --ci --json (cache warm)" "$ENTRIES" "$LD" "$GEN/big/oci" --ci --json "$OUT/big.json" --quiet --cache "$LC"
measure cache "layerdive --ci --json (plus one layer, base cached)" "$ENTRIES" sh -c 'rm -rf "$1.plus"; cp -r "$1" "$1.plus"; exec "$2" "$3" --ci --json "$4" --quiet --cache "$1.plus"' sh "$LC" "$LD" "$OUT/plus1" "$OUT/plus1.json"
measure cache "layerdive --ci --json (the new layer alone)" 1001 "$LD" "$OUT/alone" --ci --json "$OUT/alone.json" --quiet --no-cache
fi

if want zstd; then
echo "bench: big, zstd form" >&2
warm "${ZS[@]}"
measure zstd "zstd -dc" "$ENTRIES" sh -c 'for f; do zstd -qdc "$f"; done' sh "${ZS[@]}"
measure zstd "layerdive ls" "$ENTRIES" "$LD" ls "$GEN/big/oci-zstd" --quiet
measure zstd "layerdive --ci" "$ENTRIES" "$LD" "$GEN/big/oci-zstd" --ci --quiet
ui zstd "$GEN/big/oci-zstd"
fi

if want uncompressed; then
echo "bench: big, uncompressed form" >&2
warm "${UN[@]}"
measure uncompressed "cat" "$ENTRIES" sh -c 'cat "$@" > /dev/null' sh "${UN[@]}"
measure uncompressed "layerdive ls" "$ENTRIES" "$LD" ls "$GEN/big/oci-uncompressed" --quiet
measure uncompressed "layerdive --ci" "$ENTRIES" "$LD" "$GEN/big/oci-uncompressed" --ci --quiet
ui uncompressed "$GEN/big/oci-uncompressed"
measure uncompressed "layerdive ls (docker-archive)" "$ENTRIES" "$LD" ls "$GEN/big/big.docker-archive.tar" --quiet
fi

# containers-storage: big loaded by podman into an overlay store; its layers rebuilt from their tar-split
# and the layer folders, against the uncompressed layout (the same bytes, from one file each) in the same run
if want store && command -v podman >/dev/null && [[ $(id -u) == 0 ]]; then
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

# containerd: big imported (ctr, not unpacked) into a containerd under a temporary root, read through its
# gRPC API, next to the same gzip blobs as an OCI layout and to `ctr images export` (what a user does today)
if want containerd && command -v containerd >/dev/null && command -v ctr >/dev/null && [[ $(id -u) == 0 ]]; then
  ctd=$OUT/containerd
  rm -rf "$ctd" && mkdir -p "$ctd"
  printf 'version = 2\nroot = "%s/root"\nstate = "%s/state"\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n[grpc]\n  address = "%s/sock"\n[ttrpc]\n  address = "%s/sock.ttrpc"\n' "$ctd" "$ctd" "$ctd" "$ctd" > "$ctd/config.toml"
  containerd --config "$ctd/config.toml" > "$ctd/log" 2>&1 &
  ctd_pid=$!
  for ((i = 0; i < 100; i++)); do ctr -a "$ctd/sock" version >/dev/null 2>&1 && break; sleep 0.2; done
  if ctr -a "$ctd/sock" -n bench images import --no-unpack "$GEN/big/big.oci-archive.tar" >/dev/null 2>&1; then
    echo "bench: big in containerd (containerd://)" >&2
    name=$(ctr -a "$ctd/sock" -n bench images ls -q | head -1)
    warm "$GEN"/big/oci/blobs/sha256/*
    measure containerd "layerdive --ci (gzip layout)" "$ENTRIES" "$LD" "$GEN/big/oci" --ci --quiet
    measure containerd "layerdive --ci (containerd)" "$ENTRIES" "$LD" "containerd://$name" --address "$ctd/sock" --namespace bench --ci --quiet
    measure containerd "ctr images export (an export)" "$ENTRIES" sh -c 'ctr -a "$1" -n bench images export "$2" "$3" && rm -f "$2"' sh "$ctd/sock" "$OUT/containerd-export.tar" "$name"
  fi
  kill -TERM "$ctd_pid" 2>/dev/null; wait "$ctd_pid" 2>/dev/null
  rm -rf "$ctd"
fi

if want diff; then
echo "bench: diff of two big forms (the gzip layout and the docker-archive), against their two --ci runs" >&2
measure diff "layerdive --ci (gzip layout)" "$ENTRIES" "$LD" "$GEN/big/oci" --ci --quiet
measure diff "layerdive --ci (docker-archive)" "$ENTRIES" "$LD" "$GEN/big/big.docker-archive.tar" --ci --quiet
measure diff "layerdive diff" "$ENTRIES" "$LD" diff "$GEN/big/oci" "$GEN/big/big.docker-archive.tar" --quiet
fi

# The Docker Engine: big loaded into a dockerd under a temporary root; layerdive reads the engine's
# export as it streams, next to the export alone (curl into /dev/null) in the same run.
if ! want engine; then
  :
elif command -v dockerd >/dev/null && command -v curl >/dev/null && [[ $(id -u) == 0 ]]; then
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
if ! want registry; then
  :
elif command -v docker-registry >/dev/null && command -v skopeo >/dev/null; then
  RG=$(mktemp -d "${TMPDIR:-/tmp}/layerdive-bench-registry.XXXXXX")
  registry_up "$RG"
  PORT=$REG_PORT RGPID=$REG_PID
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

# scan: a registry of 40 images built from 3 bases (bench/scan-images.py: a base is 3,000 files and a tools
# layer, each image adds a small layer), pushed with skopeo to a docker-registry on loopback; layerdive scan
# of the whole registry with the cache empty (each round) and warm, beside the 40 single --ci runs one
# after the other, with no cache, as a CI job per image would run them (one row: their sum)
if ! want scan; then
  :
elif command -v docker-registry >/dev/null && command -v skopeo >/dev/null; then
  SR=$(mktemp -d "${TMPDIR:-/tmp}/layerdive-bench-scan.XXXXXX")
  registry_up "$SR"
  SPORT=$REG_PORT SRPID=$REG_PID
  echo "bench: 40 images from 3 bases into a registry on 127.0.0.1:$SPORT" >&2
  python3 bench/scan-images.py "$SR/oci" 40 > "$SR/tags.tsv"
  : > "$SR/names"
  while IFS=$'\t' read -r tag repo; do
    skopeo copy --quiet --dest-tls-verify=false "oci:$SR/oci:$tag" "docker://127.0.0.1:$SPORT/$repo" >>"$SR/push.log" 2>&1
    echo "registry://127.0.0.1:$SPORT/$repo" >> "$SR/names"
  done < "$SR/tags.tsv"
  SC=$SR/cache
  measure scan "layerdive scan registry:// (40 images, cache cold)" 40 sh -c 'rm -rf "$1"; exec "$2" scan "$3" --format json -o "$4" --quiet --cache "$1"' sh "$SC" "$LD" "registry://127.0.0.1:$SPORT" "$SR/scan.json"
  measure scan "layerdive scan registry:// (40 images, cache warm)" 40 "$LD" scan "registry://127.0.0.1:$SPORT" --format json -o "$SR/scan.json" --quiet --cache "$SC"
  measure scan "layerdive --ci, 40 single runs (sum, no cache)" 40 sh -c 'while read -r n; do "$1" --ci "$n" --quiet --no-cache >/dev/null || [ $? = 1 ] || exit 2; done < "$2"' sh "$LD" "$SR/names"
  measure scan "layerdive scan --ci registry:// (40 images, cache warm)" 40 "$LD" scan "registry://127.0.0.1:$SPORT" --ci --format json -o "$SR/scan.json" --quiet --cache "$SC"
  kill "$SRPID"; wait "$SRPID" 2>/dev/null || true
  rm -rf "$SR"
else
  echo "bench: no docker-registry or skopeo (apt-get install docker-registry skopeo): the scan rows are left out" >&2
fi

echo "bench: baseline (the bundled sample)" >&2
measure baseline "layerdive ls sample" 30 "$LD" ls samples/sample.oci.tar --quiet

want scaling && for n in $SCALES; do
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

if want depth; then
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
fi

if want viewer; then
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
fi

# files: issue 26's file-heavy images, everything in one run: the synthetic image (FILES_ENTRIES files in 50
# layers) and a realistic one (samples' fileheavy: node_modules, site-packages, docs and locales, deep trees,
# links, whiteouts, opaque directories, rewrites). For each: the floor (every layer blob read, its sha256, its
# tar inflated and that sha256, one layer per core; with gzip and with pigz, the hashes by OpenSSL, which uses the
# CPU's SHA instructions: coreutils' sha256sum here takes 3.4 s for 1.1 GB, 3x longer; and in process, with the
# runtime's GZipStream and SHA256, without pipes: the report takes the fastest of the three),
# layerdive --ci, --ci --json, ls, the explorer (first frame, then the keys), and dive --ci on a docker-archive
# of the same image (skopeo copy).
cat > "$OUT/floor.sh" <<'SH'
# floor.sh INFLATER HASHER BLOB...: what reading an image cannot go below: each blob hashed, inflated and its tar hashed, one blob per core
inflater=$1 hasher=$2; shift 2
printf '%s\0' "$@" | xargs -0 -P "$(nproc)" -n 1 sh -c '$2 < "$3" > /dev/null && "$1" -dc "$3" | $2 > /dev/null' sh "$inflater" "$hasher"
SH
if command -v openssl >/dev/null; then HASHER="openssl dgst -sha256" HASHER_NAME="sha256 (openssl)"; else HASHER=sha256sum HASHER_NAME=sha256sum; fi
files_image() { # files_image GROUP LAYOUT TAG ENTRIES FILTER
  local group=$1 dir=$2 tag=$3 entries=$4 filter=$5 blob
  local archive=$OUT/$group.docker-archive.tar
  if [[ ! -s $archive ]]; then
    echo "bench: $group: a docker-archive of $dir for dive (skopeo copy)" >&2
    rm -f "$archive"
    skopeo copy -q "oci:$dir:$tag" "docker-archive:$archive:layerdive-bench/$group:latest" >&2 || rm -f "$archive"
  fi
  mapfile -t blob < <(blobs "$dir")
  echo "bench: $group: $entries entries in ${#blob[@]} layers ($(du -sh "$dir" | cut -f1) stored)" >&2
  warm "${blob[@]}"
  measure "$group" "floor: gzip -dc + $HASHER_NAME, $(nproc) layers at a time" "$entries" sh "$OUT/floor.sh" gzip "$HASHER" "${blob[@]}"
  measure "$group" "floor: pigz -dc + $HASHER_NAME, $(nproc) layers at a time" "$entries" sh "$OUT/floor.sh" pigz "$HASHER" "${blob[@]}"
  measure "$group" "floor: in process (GZipStream + SHA256), $(nproc) layers at a time" "$entries" dotnet "$SAMPLES_DLL" floor "${blob[@]}"
  measure "$group" "layerdive --ci" "$entries" "$LD" "$dir" --ci --quiet
  measure "$group" "layerdive --ci --json" "$entries" "$LD" "$dir" --ci --json "$OUT/$group.json" --quiet
  measure "$group" "layerdive ls" "$entries" "$LD" ls "$dir" --quiet
  ui "$group" "$dir" "$entries" "$filter"
  if [[ -x $DIVE && -s $archive ]]; then
    warm "$archive"
    ROUNDS=$DIVE_ROUNDS measure "$group" "dive --ci ($("$DIVE" --version | awk '{print $NF}'), docker-archive)" "$entries" \
      timeout "$DIVE_TIMEOUT" "$DIVE" --ci --source docker-archive "$archive"
  else
    echo "bench: $group: no dive at $DIVE (or no docker-archive): its row is left out" >&2
  fi
}
if want files; then
  # the in-process floor: the runtime's zlib-ng and OpenSSL, what LayerDive itself reads with
  dotnet build samples/LayerDive.Samples -c Release -v q >&2
  SAMPLES_DLL=samples/LayerDive.Samples/bin/Release/net10.0/LayerDive.Samples.dll
  for image in $FILES_IMAGES; do
    case $image in
      synthetic)
        dir=${FILES_SYNTHETIC:-$OUT/synthetic-$FILES_ENTRIES-50}
        if [[ ! -f $dir/index.json ]]; then
          echo "bench: generating $FILES_ENTRIES entries in 50 layers" >&2
          rm -rf "$dir"; dotnet run -c Release --project samples/LayerDive.Samples -- synthetic "$dir" "$FILES_ENTRIES" 50 >/dev/null
        fi
        files_image files-synthetic "$dir" synthetic $(( FILES_ENTRIES + FILES_ENTRIES / 100 + FILES_ENTRIES / 10 )) f00012 ;;
      realistic)
        dir=$OUT/fileheavy-$FILES_ENTRIES
        if [[ ! -f $dir/index.json || ! -s $dir.entries ]]; then
          echo "bench: generating the realistic file-heavy image, about $FILES_ENTRIES entries" >&2
          rm -rf "$dir"
          dotnet run -c Release --project samples/LayerDive.Samples -- fileheavy "$dir" "$FILES_ENTRIES" | awk '{print $2}' > "$dir.entries"
        fi
        files_image files-realistic "$dir" fileheavy "$(cat "$dir.entries")" package.json ;;
      *) echo "bench: FILES_IMAGES: no image '$image' (synthetic, realistic)" >&2; exit 2 ;;
    esac
  done
fi

# bigscale: 5,000,000 entries in one layer (the synthetic generator), --ci's wall and peak RSS against 64 MiB + 100 B an entry
if want bigscale && [[ ${BIG_SCALE:-1} != 0 ]]; then
  n=${BIG_SCALE_ENTRIES:-5000000}
  dir=$OUT/synthetic-$n-1
  if [[ ! -f $dir/index.json ]]; then
    echo "bench: generating $n entries in 1 layer" >&2
    rm -rf "$dir"; dotnet run -c Release --project samples/LayerDive.Samples -- synthetic "$dir" "$n" 1 >/dev/null
  fi
  warm "$dir"/blobs/sha256/*
  measure bigscale "layerdive --ci, $n entries, 1 layer" $(( n + n / 100 )) "$LD" "$dir" --ci --quiet
fi

python3 bench/report.py "$RESULTS"
