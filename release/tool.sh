#!/usr/bin/env bash
# The .NET tool packages, into the folder given as $1 (default release/out/):
#   layerdive.VERSION.nupkg              the pointer package `dotnet tool install layerdive` reads first:
#                                        it names the packages below, and the CLI picks the machine's
#   layerdive.linux-x64.VERSION.nupkg    the native executable (ahead-of-time compiled, no JIT)
#   layerdive.linux-arm64.VERSION.nupkg  the same, cross compiled for arm64
#   layerdive.any.VERSION.nupkg          framework-dependent, for a machine with no native package
#                                        (it needs the .NET 10 runtime there)
# linux-arm64 needs a cross linker and C runtime (Debian: apt-get install gcc-aarch64-linux-gnu
# binutils-aarch64-linux-gnu libc6-dev-arm64-cross clang: the ILCompiler gives the linker
# --target=aarch64-linux-gnu, which gcc refuses). Without them it is left out, saying
# so, and the pointer package names only the packages made, so an install never looks for a
# package that is not there; LAYERDIVE_REQUIRE_ARM64=1 (a release) makes that an error instead.
# Builds in a scratch folder of its own (--artifacts-path), so a pack never disturbs the bin/ and
# obj/ that `dotnet build` and `dotnet test` use, and the packages hold nothing stale.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/release/out}
mkdir -p "$out"
out=$(cd "$out" && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/layerdive-tool.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

project=$root/src/LayerDive
version=$(dotnet msbuild "$project" -getProperty:Version)
rids=(linux-x64 linux-arm64 any)   # as ToolPackageRuntimeIdentifiers in src/LayerDive/LayerDive.csproj
without_arm64=
if ! command -v aarch64-linux-gnu-objcopy >/dev/null || ! command -v aarch64-linux-gnu-gcc >/dev/null \
   || ! command -v clang >/dev/null || [[ ! -f /usr/aarch64-linux-gnu/lib/libc.so.6 ]]; then
  msg="no arm64 cross toolchain (apt-get install gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu libc6-dev-arm64-cross clang)"
  [[ ${LAYERDIVE_REQUIRE_ARM64:-} == 1 ]] && { echo "release/tool.sh: $msg" >&2; exit 1; }
  echo "release/tool.sh: linux-arm64 left out: $msg" >&2
  rids=(linux-x64 any)
  without_arm64=-p:LayerDiveToolWithoutArm64=true
fi
# no symbols in the packages: the native build's layerdive.dbg alone is 30 MB that no user runs
pack() { dotnet pack "$project" -c Release --artifacts-path "$scratch" -o "$out" -nologo -v q \
  -p:DebugType=none -p:CopyOutputSymbolsToPublishDirectory=false ${without_arm64:+"$without_arm64"} "$@"; }
pack
for rid in "${rids[@]}"; do
  case $rid in
    any) pack -r any -p:PublishAot=false ;;
    linux-arm64) pack -r linux-arm64 -p:ObjCopyName=aarch64-linux-gnu-objcopy ;;
    *) pack -r "$rid" ;;
  esac
done
for id in layerdive "${rids[@]/#/layerdive.}"; do
  [[ -f $out/$id.$version.nupkg ]] || { echo "release/tool.sh: $id.$version.nupkg was not made" >&2; exit 1; }
  echo "$out/$id.$version.nupkg"
done
