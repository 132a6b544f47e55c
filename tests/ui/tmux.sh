#!/usr/bin/env bash
# Drives the built layerdive in a real terminal (tmux): starts it on an image, sends keys,
# captures the pane and checks what a user would see.
#   tmux.sh "dotnet path/to/layerdive.dll" SAMPLE_IMAGE DIVE_TEST_IMAGE
#   tmux.sh "dotnet path/to/layerdive.dll" - DIVE_TEST_NAME VAR=VALUE   only dive's test image, named in an
#                                                                       engine that VAR=VALUE (DOCKER_HOST=...) points at
set -u
layerdive=$1
sample=$2
dive=$3
sessions=0
session=layerdive-ui-$$-0
open_session() { # open_session COMMAND: a new 120x40 terminal running COMMAND, then the last one closes
  # (in that order: a tmux server whose last session closes exits, and a session opened while it
  # goes away fails with "server exited unexpectedly"; retried for a server left by an earlier run)
  local old=$session i
  sessions=$((sessions + 1)); session=layerdive-ui-$$-$sessions
  for ((i = 0; i < 10; i++)); do
    tmux new-session -d -s "$session" -x 120 -y 40 "$1" 2>/dev/null && break
    sleep 0.5
  done
  tmux kill-session -t "$old" 2>/dev/null
  return 0
}
failures=0
check() { if "${@:2}"; then echo "ok   $1"; else echo "FAIL $1"; failures=$((failures + 1)); fi; }
screen() { tmux capture-pane -t "$session" -p; }
wait_for() { # wait_for TEXT: up to 20 s for TEXT to appear on the screen
  local i
  for ((i = 0; i < 100; i++)); do screen | grep -qF -- "$1" && return 0; sleep 0.2; done
  echo "---- screen ----"; screen; echo "----------------"; return 1
}
wait_for_joined() { # wait_for_joined TEXT: as wait_for, reading the screen's lines as one (a long line wraps)
  local i
  for ((i = 0; i < 100; i++)); do screen | tr -d '\n' | grep -qF -- "$1" && return 0; sleep 0.2; done
  echo "---- screen ----"; screen; echo "----------------"; return 1
}
view() { # view NAME: search the tree for NAME and open it in the viewer
  tmux send-keys -t "$session" /
  tmux send-keys -t "$session" -l "$1"
  tmux send-keys -t "$session" Enter
  sleep 0.3
  tmux send-keys -t "$session" Enter
}
start() { # start IMAGE [VAR=VALUE]: a fresh terminal running layerdive (never in CI mode)
  open_session "env -u CI -u DisableRealDriverIO TERM=xterm-256color ${2:-} $layerdive $1; sleep 5"
}
trap 'tmux kill-session -t "$session" 2>/dev/null' EXIT
dive_checks() { # dive_checks IMAGE [VAR=VALUE]: dive's test image, however it is named
  start "$@"
  check "dive's test image opens" wait_for "Efficiency: 98.44 % (dive), wasted 32 kB"
  check "its steps without a layer are listed" wait_for 'CMD ["sh"]'
  tmux send-keys -t "$session" C-c
  sleep 1
  check "Ctrl+C quits" bash -c "! tmux capture-pane -t $session -p | grep -qF 'Image Details'"
}
if [[ -n ${4:-} ]]; then
  dive_checks "$dive" "$4"
  echo "tmux.sh: $failures failed"
  exit $((failures > 0))
fi

start "$sample"
check "the sample opens with its layers" wait_for "RUN   apt-get inst"
check "the tree shows layer 0" wait_for "Current Layer Contents (layer 0)"
tmux send-keys -t "$session" Down Down Down Down Down Down
check "Down moves to layer 6" wait_for "Current Layer Contents (layer 6)"
check "the hardlink is listed with its target" wait_for "libapp.so.1 → usr/lib/a"
check "the removed file under var/run is listed" wait_for "daemon.pid"
tmux send-keys -t "$session" Tab
check "Tab moves to the tree (its keys in the status bar)" wait_for "Space Fold ^Space Fold all"
tmux send-keys -t "$session" C-f
sleep 0.3
tmux send-keys -t "$session" -l "motd"
check "the filter is applied live" wait_for "motd"
sleep 0.5
check "the filter hides other files" bash -c "! tmux capture-pane -t $session -p | grep -qF os-release"
tmux send-keys -t "$session" Escape
check "Esc closes the filter" wait_for "os-release"
tmux send-keys -t "$session" '?'
check "? shows every key" wait_for "Keys (? or Esc closes)"
tmux send-keys -t "$session" Escape
sleep 0.5
tmux send-keys -t "$session" q
sleep 1
check "q quits" bash -c "! tmux capture-pane -t $session -p | grep -qF 'Current Layer Contents'"

dive_checks "$dive"

# dive's configuration: a .dive.yaml in the working directory hides the attribute columns, rebinds
# a key and picks a theme; a DIVE_KEYBINDING_* variable overrides it; a bad key name is one line
cfg=$(mktemp -d)
printf 'filetree:\n  show-attributes: false\nkeybinding:\n  toggle-view: ctrl+t\nlayerdive:\n  theme: light\n' > "$cfg/.dive.yaml"
open_session "cd $cfg && env -u CI -u DisableRealDriverIO TERM=xterm-256color $layerdive $sample; sleep 5"
check "the configured explorer opens" wait_for "Current Layer Contents (layer 0)"
check "./.dive.yaml hides the attribute columns" bash -c "! tmux capture-pane -t $session -p | grep -qF Permission"
tmux send-keys -t "$session" C-t
check "toggle-view rebound to ctrl+t moves to the tree" wait_for "Enter View"
view motd
check "Enter opens the file's content as of the layer" wait_for "/etc/motd as of layer 0"
check "with line numbers" wait_for "1 │ Welcome to the LayerDive sample."
tmux send-keys -t "$session" Escape
sleep 0.3
tmux send-keys -t "$session" C-t Down Down Down Down Down C-t
check "back in the tree at layer 5" wait_for "Current Layer Contents (layer 5)"
view motd
check "layer 5's motd" wait_for "2 │ be nice"
tmux send-keys -t "$session" Tab
check "Tab in the viewer: the diff against layer 4" wait_for "+be nice"
check "its hunk header" wait_for "@@ -1 +1,2 @@"
tmux send-keys -t "$session" q
sleep 0.3
tmux send-keys -t "$session" i
check "i: the image config" wait_for "PATH=/usr/local/sbin"
tmux send-keys -t "$session" q
sleep 0.3
tmux send-keys -t "$session" q
sleep 1
check "q quits after the viewer closed" bash -c "! tmux capture-pane -t $session -p | grep -qF 'Current Layer Contents'"
open_session "cd $cfg && env -u CI -u DisableRealDriverIO TERM=xterm-256color DIVE_KEYBINDING_TOGGLE_VIEW=ctrl+g $layerdive $sample; sleep 5"
check "opens with a variable set" wait_for "Current Layer Contents (layer 0)"
tmux send-keys -t "$session" C-g
check "DIVE_KEYBINDING_TOGGLE_VIEW overrides the file" wait_for "Enter View"
tmux send-keys -t "$session" q
printf 'keybinding:\n  quit: ctrl+banana\n' > "$cfg/.dive.yaml"
open_session "cd $cfg && env -u CI -u DisableRealDriverIO TERM=xterm-256color $layerdive $sample; echo exit=\$?; sleep 30"
check "a bad key name: one line naming the file, key and value" wait_for_joined "layerdive: error: $sample: $cfg/.dive.yaml: keybinding.quit: 'ctrl+banana'"
check "and exit code 2" wait_for "exit=2"
rm -rf "$cfg"

# a file far larger than its image (2 GiB of zeros in a layer of 2 MB): the viewer copies it while the
# explorer goes on, shows how far the copy has come, and Ctrl+C stops the copy (not the explorer)
zeros=$(mktemp -d)
python3 - "$zeros/zeros.tar" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile
out = sys.argv[1]
class Zeros(io.RawIOBase):
    def readinto(self, b): b[:] = bytes(len(b)); return len(b)
class Hashing(io.RawIOBase):
    def __init__(self, inner): self.inner, self.sha = inner, hashlib.sha256()
    def writable(self): return True
    def write(self, b): self.sha.update(b); return self.inner.write(b)
with open(out + ".gz", "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", compresslevel=1) as gz:
    h = Hashing(gz)
    with tarfile.open(fileobj=h, mode="w|", format=tarfile.PAX_FORMAT) as t:
        d = tarfile.TarInfo("data"); d.type = tarfile.DIRTYPE; d.mode = 0o755; t.addfile(d)
        z = tarfile.TarInfo("data/zeros"); z.size = 2 << 30; z.mode = 0o644; t.addfile(z, Zeros())
cfg = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": ["sha256:" + h.sha.hexdigest()]}, "history": [{"created_by": "RUN write zeros"}]}).encode()
name = hashlib.sha256(cfg).hexdigest() + ".json"
man = json.dumps([{"Config": name, "RepoTags": ["zeros:latest"], "Layers": ["l/layer.tar.gz"]}]).encode()
with tarfile.open(out, "w") as o:
    for n, b in (("manifest.json", man), (name, cfg)):
        ti = tarfile.TarInfo(n); ti.size = len(b); o.addfile(ti, io.BytesIO(b))
    o.add(out + ".gz", "l/layer.tar.gz")
os.remove(out + ".gz")
PY
# a limit as large as the file: without Ctrl+C, the whole 2 GiB would be copied
open_session "env -u CI -u DisableRealDriverIO TERM=xterm-256color LAYERDIVE_VIEWER_LIMIT=4GiB $layerdive $zeros/zeros.tar; sleep 5"
check "the image of zeros opens" wait_for "Current Layer Contents (layer 0)"
tmux send-keys -t "$session" Tab
sleep 0.3
view zeros
check "the viewer shows the copy's progress" wait_for "Copying /data/zeros from layer 0:"
tmux send-keys -t "$session" C-c
check "Ctrl+C stops the copy" wait_for "stopped copying /data/zeros"
check "and the explorer goes on" wait_for "Current Layer Contents (layer 0)"
tmux send-keys -t "$session" q
sleep 1
check "q quits after the copy stopped" bash -c "! tmux capture-pane -t $session -p | grep -qF 'Current Layer Contents'"
rm -rf "$zeros"

# the terminal shrinks: the panes follow
start "$sample"
check "opens before the resize" wait_for "Current Layer Contents (layer 0)"
tmux resize-window -t "$session" -x 90 -y 30 2>/dev/null || tmux resize-pane -t "$session" -x 90 -y 30
sleep 1
check "after a resize the panes fit 90 columns" bash -c "tmux capture-pane -t $session -p | python3 -c 'import sys; lines = list(sys.stdin); sys.exit(not lines or any(len(l.rstrip(chr(10))) > 90 for l in lines))'"
check "and the panes were redrawn to the new width" bash -c "tmux capture-pane -t $session -p | head -1 | python3 -c 'import sys; sys.exit(len(sys.stdin.read().rstrip()) != 90)'"
check "and still show the layers" wait_for "  1    40 kB    41 kB"
tmux send-keys -t "$session" q

# Ctrl+Z suspends to the shell, fg comes back
open_session "bash --norc --noprofile"
tmux send-keys -t "$session" "env -u CI -u DisableRealDriverIO TERM=xterm-256color $layerdive $sample" Enter
check "opens from a shell" wait_for "Current Layer Contents (layer 0)"
tmux send-keys -t "$session" C-z
check "Ctrl+Z suspends to the shell" wait_for "Stopped"
tmux send-keys -t "$session" "fg" Enter
check "fg redraws the explorer" wait_for "Current Layer Contents (layer 0)"
tmux send-keys -t "$session" q

echo "tmux.sh: $failures failed"
exit $((failures > 0))
