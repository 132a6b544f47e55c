#!/usr/bin/env bash
# release/archive.sh [OUTDIR]: the release archive layerdive-VERSION-linux-x64.tar.gz in OUTDIR
# (default release/out), and its line in OUTDIR/SHA256SUMS (sha256sum -c format; the lines of other
# artefacts already there are kept).
#
# The archive holds one folder, layerdive-VERSION-linux-x64/: the native executable (dotnet publish,
# ahead-of-time compiled), the bundled sample it opens when no image is named (samples/), README.md,
# LICENSE, the completion scripts (completions/: what `layerdive completion bash|zsh|fish` prints) and
# the manual page layerdive.1 (what the hidden `layerdive man` writes from the command definitions).
# Everything but the executable is made by the executable just built, so the archive cannot disagree
# with it. Reproducible where it is cheap: names sorted, every mtime the commit's date
# (SOURCE_DATE_EPOCH when set), owner and group 0, fixed modes, gzip without a name or time stamp.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$repo/release/out}
mkdir -p "$out"
out=$(cd "$out" && pwd)
rid=linux-x64

version=$(cd "$repo" && dotnet msbuild src/LayerDive -getProperty:Version -nologo)
version=${version//[[:space:]]/}
[[ $version =~ ^[0-9A-Za-z.+-]+$ ]] || { echo "archive.sh: no usable version from dotnet msbuild: '$version'" >&2; exit 1; }
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || date +%s)}
name=layerdive-$version-$rid

work=$(mktemp -d "${TMPDIR:-/tmp}/layerdive-archive.XXXXXX")
trap 'rm -rf "$work"' EXIT

# LAYERDIVE_SYSROOT: a root filesystem with an older glibc's development files to link against, so the
# executable runs on that glibc and newer (`release/check-glibc.sh sysroot` makes a Debian bullseye one,
# glibc 2.31); without it the executable asks for the build machine's glibc (2.34 when built on 2.34 or
# later: pthread_*, dlopen and __libc_start_main moved into libc.so.6 there and carry that version).
sysroot=${LAYERDIVE_SYSROOT:-}
[[ -z $sysroot || -f $sysroot/usr/lib/x86_64-linux-gnu/crt1.o ]] \
  || { echo "archive.sh: LAYERDIVE_SYSROOT=$sysroot has no libc development files (crt1.o)" >&2; exit 1; }

# LAYERDIVE_PUBLISH_DIR: a folder `dotnet publish src/LayerDive -c Release -r linux-x64` already made from
# this tree (the tests pass theirs: one ahead-of-time compilation is minutes on a small machine)
publish=${LAYERDIVE_PUBLISH_DIR:-}
if [[ -z $publish ]]; then
  publish=$work/publish
  echo "archive.sh: publishing the native executable ($rid)" >&2
  dotnet publish "$repo/src/LayerDive" -c Release -r "$rid" ${sysroot:+-p:SysRoot="$sysroot"} -o "$publish" -nologo -v q >"$work/publish.log" 2>&1 \
    || { tail -30 "$work/publish.log" >&2; echo "archive.sh: dotnet publish failed" >&2; exit 1; }
fi
[[ -f $publish/layerdive && ! -f $publish/layerdive.dll ]] \
  || { echo "archive.sh: $publish holds no native executable" >&2; exit 1; }

# Only what runs: the Russian texts are compiled into the executable (ru/ is not needed), the debug
# symbols (layerdive.dbg) stay out, and libonigwrap.so (a syntax-highlighting library a dependency
# brings) is never loaded by it.
stage=$work/stage/$name
mkdir -p "$stage/completions" "$stage/samples"
cp "$publish/layerdive" "$stage/layerdive"
cp "$publish/samples/sample.oci.tar" "$stage/samples/sample.oci.tar"
cp "$repo/README.md" "$stage/README.md"
if [[ -f $repo/LICENSE ]]; then
  cp "$repo/LICENSE" "$stage/LICENSE"
else
  echo "archive.sh: warning: no LICENSE at the top of the repository; the archive has none" >&2
fi

# The executable writes its own completions and manual page, in a bare environment (English, no
# configuration file of the user's, the commit's date on the page).
home=$work/home
mkdir -p "$home"
run() { (cd "$home" && env -i PATH=/usr/bin:/bin HOME="$home" LANG=C LC_ALL=C SOURCE_DATE_EPOCH="$epoch" "$stage/layerdive" "$@"); }
run completion bash >"$stage/completions/layerdive.bash"
run completion zsh >"$stage/completions/_layerdive"
run completion fish >"$stage/completions/layerdive.fish"
run man >"$stage/layerdive.1"
for f in "$stage"/completions/* "$stage/layerdive.1"; do
  [[ -s $f ]] || { echo "archive.sh: $f came out empty" >&2; exit 1; }
done

chmod 0755 "$stage" "$stage/completions" "$stage/samples" "$stage/layerdive"
find "$stage" -type f ! -path "$stage/layerdive" -exec chmod 0644 {} +

archive=$name.tar.gz
tar -C "$work/stage" --sort=name --format=gnu --owner=0 --group=0 --numeric-owner \
  --mtime="@$epoch" -cf - "$name" | gzip -9 -n >"$work/$archive"
mv "$work/$archive" "$out/$archive"

# SHA256SUMS: this archive's line replaced, the other artefacts' lines kept, sorted by name
sums=$out/SHA256SUMS
{
  [[ -f $sums ]] && grep -v "  $archive\$" "$sums" || true
  (cd "$out" && sha256sum "$archive")
} | sort -k2 >"$work/SHA256SUMS"
mv "$work/SHA256SUMS" "$sums"

echo "archive.sh: $out/$archive ($(stat -c %s "$out/$archive") bytes; executable $(stat -c %s "$stage/layerdive") bytes)" >&2
echo "$out/$archive"
