#!/usr/bin/env bash
# Builds a distroless-style base image from this machine's own files, for where no registry can be
# reached (the Containerfile's default base is gcr.io/distroless/base-debian12). It holds what
# distroless "base" holds and the native layerdive needs, nothing more: the C library the executable
# links with (ldd), the OpenSSL it loads for registries over HTTPS (libssl.so.3), CA certificates,
# /etc/passwd and /etc/group with root and nonroot (65532, as distroless), and /tmp (mode 1777).
# No shell, no package manager.
#
#   release/base.sh [TAG] [EXECUTABLE]
#     TAG         the image made (default localhost/layerdive-base:local)
#     EXECUTABLE  the native layerdive whose libraries are copied (default: the one on PATH)
#   BUILDER=buildah|docker|podman chooses the builder (default: the first installed, in that order).
set -euo pipefail

tag=${1:-localhost/layerdive-base:local}
exe=${2:-$(command -v layerdive || true)}
[[ -n $exe && -x $exe ]] || { echo "base.sh: no native layerdive to take libraries from (give its path)" >&2; exit 2; }

builder=${BUILDER:-}
if [[ -z $builder ]]; then
  for b in buildah docker podman; do command -v "$b" >/dev/null && { builder=$b; break; }; done
fi
[[ -n $builder ]] || { echo "base.sh: none of buildah, docker, podman is installed" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
mkdir -p "$root"

# a library as the loader finds it: the real file, under the path ldd names
copy_lib() {
  local path=$1
  mkdir -p "$root$(dirname "$path")"
  cp -L "$path" "$root$path"
}
# what a file links with, as absolute paths (ldd's "=> /path" and the loader itself)
needs() { ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'; }

declare -A seen=()
add_with_needs() {
  local f
  for f in "$@"; do
    [[ -n ${seen[$f]:-} ]] && continue
    seen[$f]=1
    copy_lib "$f"
  done
}
add_with_needs $(needs "$exe")
# loaded at run time by name, not linked: OpenSSL for HTTPS to registries (libzstd is optional:
# without it zstd layers are decoded by the managed decoder, as distroless base has no libzstd)
for soname in libssl.so.3 libcrypto.so.3; do
  path=$(ldconfig -p | awk -v n="$soname" '$1 == n && /x86-64/ { print $NF; exit }')
  [[ -n $path ]] || { echo "base.sh: $soname is not installed here (apt-get install libssl3)" >&2; exit 2; }
  add_with_needs "$path" $(needs "$path")
done

mkdir -p "$root/etc/ssl/certs" "$root/tmp" "$root/home/nonroot" "$root/root"
chmod 1777 "$root/tmp"
chmod 700 "$root/root"
cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
cat > "$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
PASSWD
cat > "$root/etc/group" <<'GROUP'
root:x:0:
nobody:x:65534:
nonroot:x:65532:
GROUP
printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$root/etc/nsswitch.conf"
chown 65532:65532 "$root/home/nonroot"
# one layer, from a tar so that owners and modes are the tar's (a COPY would make all of it root's)
tar --numeric-owner --sort=name --mtime=@0 -C "$root" -cf "$work/rootfs.tar" .
cat > "$work/Containerfile" <<'CONTAINERFILE'
FROM scratch
ADD rootfs.tar /
ENV PATH=/usr/local/bin:/usr/bin:/bin SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
CONTAINERFILE

case $builder in
  buildah) buildah bud --quiet --layers=false -f "$work/Containerfile" -t "$tag" "$work" >/dev/null ;;
  podman) podman build --quiet -f "$work/Containerfile" -t "$tag" "$work" >/dev/null ;;
  docker)
    # the classic builder where the buildx plugin is missing (docker build needs one or the other)
    docker buildx version >/dev/null 2>&1 || export DOCKER_BUILDKIT=0
    docker build --quiet -f "$work/Containerfile" -t "$tag" "$work" >/dev/null ;;
  *) echo "base.sh: unknown BUILDER $builder" >&2; exit 2 ;;
esac
echo "$tag"
