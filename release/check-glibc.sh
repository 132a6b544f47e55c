#!/usr/bin/env bash
# release/check-glibc.sh ARCHIVE | sysroot
#
# ARCHIVE: checks the release archive's runtime needs on the oldest glibc this machine can get, Debian
# bullseye (glibc 2.31; buster's 2.28 has left the mirror), in a debootstrap'd minbase chroot. Prints
# what the executable links (ldd, the highest GLIBC_ symbol version it asks for), then unpacks the
# archive in the chroot and runs --version, ls, --ci and the manual page there; then reads a
# zstd-compressed copy of the sample with libzstd.so.1 and again with it hidden (the managed fallback).
#
# sysroot: makes the same chroot with libc6-dev and libgcc-10-dev and prints its path: the root to link
# against (LAYERDIVE_SYSROOT=$(release/check-glibc.sh sysroot) release/archive.sh) so that the
# executable runs on glibc 2.31 and later, not only on the build machine's glibc.
#
# The chroot is cached in $WORK (default ${TMPDIR:-/tmp}/layerdive-bullseye). Needs root (debootstrap,
# chroot, a /proc mount) and debootstrap; skopeo for the zstd copy. The Debian mirror is the one apt is
# configured with. Slow the first time (a debootstrap): not a unit test.
set -euo pipefail

what=${1:?usage: release/check-glibc.sh layerdive-VERSION-linux-x64.tar.gz | sysroot}
suite=${SUITE:-bullseye}
WORK=${WORK:-${TMPDIR:-/tmp}/layerdive-$suite}
[[ $(id -u) == 0 ]] || { echo "check-glibc.sh: needs root (chroot)" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "check-glibc.sh: needs debootstrap (apt-get install debootstrap)" >&2; exit 2; }

mirror=$(apt-get indextargets --format '$(REPO_URI)' 2>/dev/null | grep -v security | head -1)
mirror=${mirror:-http://deb.debian.org/debian/}
root=$WORK/rootfs
if [[ ! -x $root/bin/sh || ! -f $WORK/.done ]]; then
  echo "== debootstrap $suite (minbase)" >&2
  rm -rf "$root"; mkdir -p "$WORK"
  debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$WORK/debootstrap.log" 2>&1 \
    || { tail -20 "$WORK/debootstrap.log" >&2; echo "check-glibc.sh: debootstrap $suite failed" >&2; exit 2; }
  touch "$WORK/.done"
fi

if [[ $what == sysroot ]]; then
  if [[ ! -f $root/usr/lib/x86_64-linux-gnu/crt1.o ]]; then
    echo "== libc6-dev, libgcc-10-dev in the $suite root" >&2
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
      sh -c 'apt-get update -q && apt-get install -y -q --no-install-recommends libc6-dev libgcc-10-dev' >"$WORK/apt.log" 2>&1 \
      || { tail -20 "$WORK/apt.log" >&2; exit 2; }
  fi
  # a linker given --sysroot follows absolute links on the build machine: make them relative
  find "$root/usr/lib" "$root/usr/lib64" -type l -lname '/*' | while read -r link; do
    ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "$root$(readlink "$link")")" "$link"
  done
  echo "$root"
  exit 0
fi

archive=$(cd "$(dirname "$what")" && pwd)/$(basename "$what")
box=$root/opt/check
rm -rf "$box"; mkdir -p "$box"
tar -C "$box" -xzf "$archive"
dir=$(cd "$box" && echo layerdive-*)
exe=$box/$dir/layerdive
mount -t proc proc "$root/proc"
cleanup() {
  umount "$root/proc" 2>/dev/null || true
  rm -rf "$box"
  # libraries hidden for a check come back even when the check failed
  find "$root/usr/lib/x86_64-linux-gnu" -maxdepth 1 -name '*.hidden' | while read -r f; do mv "$f" "${f%.hidden}"; done
}
trap cleanup EXIT
in_root() { chroot "$root" env -i PATH=/usr/bin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

echo "== the executable: $(stat -c %s "$exe") bytes"
echo "-- needs (ldd, here)"; ldd "$exe" | sed 's/ (0x[0-9a-f]*)//'
echo "-- highest GLIBC_ symbol version it asks for"
objdump -T "$exe" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1
echo "-- the symbols that need the newest versions"
objdump -T "$exe" | awk 'NF > 1 && $(NF-1) ~ /GLIBC_/ { print $(NF-1), $NF }' | sort -uV | tail -4
echo "== Debian $suite: $(in_root ldd --version | head -1)"
echo "-- ldd there"; in_root ldd "/opt/check/$dir/layerdive" | sed 's/ (0x[0-9a-f]*)//'
echo "-- --version";   in_root "/opt/check/$dir/layerdive" --version
echo "-- ls (the bundled sample)"; in_root "/opt/check/$dir/layerdive" ls "/opt/check/$dir/samples/sample.oci.tar" | head -5
echo "-- --ci on the bundled sample"; in_root sh -c "cd /tmp && /opt/check/$dir/layerdive /opt/check/$dir/samples/sample.oci.tar --ci; echo exit \$?" | tail -3
echo "-- man page"; in_root sh -c "test -s /opt/check/$dir/layerdive.1 && echo present"

if command -v skopeo >/dev/null; then
  echo "== zstd layers: with and without libzstd.so.1"
  rm -rf "$box/zstd"
  skopeo copy -q --dest-compress-format zstd --dest-compress "oci-archive:$box/$dir/samples/sample.oci.tar" "oci:$box/zstd:sample"
  grep -o 'tar+zstd' "$box/zstd/blobs/sha256/"* | head -1 | sed 's/^.*://; s/^/layer media type: application\/vnd.oci.image.layer.v1./'
  with=$(in_root "/opt/check/$dir/layerdive" ls --format tsv /opt/check/zstd | sha256sum)
  real=$(in_root readlink -f /usr/lib/x86_64-linux-gnu/libzstd.so.1)
  echo "libzstd here: $real"
  mv "$root$real" "$root$real.hidden"
  without=$(in_root "/opt/check/$dir/layerdive" ls --format tsv /opt/check/zstd | sha256sum) || without=failed
  mv "$root$real.hidden" "$root$real"
  echo "listing with libzstd:    $with"
  echo "listing without libzstd: $without"
  [[ $with == "$without" ]] && echo "same listing: without libzstd the managed decoder reads zstd layers" || { echo "DIFFERENT"; exit 1; }
fi
echo "== without OpenSSL (SHA-256 digests are computed by the runtime through libcrypto)"
hidden=()
for lib in $(cd "$root" && ls usr/lib/x86_64-linux-gnu/libssl.so.* usr/lib/x86_64-linux-gnu/libcrypto.so.* 2>/dev/null); do
  mv "$root/$lib" "$root/$lib.hidden"; hidden+=("$root/$lib")
done
echo "hidden: ${hidden[*]#$root}"
set +e
in_root "/opt/check/$dir/layerdive" ls "/opt/check/$dir/samples/sample.oci.tar" >/dev/null 2>"$box/nossl.err"
echo "ls without OpenSSL: exit $?: $(head -c 300 "$box/nossl.err")"
set -e
for lib in "${hidden[@]}"; do mv "$lib.hidden" "$lib"; done
echo "== ok on $suite"
