#!/usr/bin/env bash
# The .NET tool packages, into the folder given as $1 (default release/out/):
#   layerdive.VERSION.nupkg            the pointer package `dotnet tool install layerdive` reads first:
#                                      it names the packages below, and the CLI picks the machine's
#   layerdive.linux-x64.VERSION.nupkg  the native executable (ahead-of-time compiled, no JIT)
#   layerdive.any.VERSION.nupkg        framework-dependent, for a machine with no native package
#                                      (it needs the .NET 10 runtime there)
# linux-arm64 is not packed: a native arm64 build needs the arm64 ILCompiler package and a cross
# linker and sysroot, which this script does not set up.
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
# no symbols in the packages: the native build's layerdive.dbg alone is 30 MB that no user runs
pack() { dotnet pack "$project" -c Release --artifacts-path "$scratch" -o "$out" -nologo -v q \
  -p:DebugType=none -p:CopyOutputSymbolsToPublishDirectory=false "$@"; }
pack
pack -r linux-x64
pack -r any -p:PublishAot=false
for id in layerdive layerdive.linux-x64 layerdive.any; do
  [[ -f $out/$id.$version.nupkg ]] || { echo "release/tool.sh: $id.$version.nupkg was not made" >&2; exit 1; }
  echo "$out/$id.$version.nupkg"
done
