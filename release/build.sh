#!/usr/bin/env bash
# Makes every artefact a release publishes, into release/out/ or the folder given as $1: one script
# per artefact, each taking the output folder as its first argument. The version they all carry is
# the one `dotnet msbuild src/LayerDive -getProperty:Version` prints (Directory.Build.props).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/out}
mkdir -p "$out"
out=$(cd "$out" && pwd)
echo "LayerDive $(dotnet msbuild "$here/../src/LayerDive" -getProperty:Version) -> $out"
# LAYERDIVE_SYSROOT=$(sudo release/check-glibc.sh sysroot) links the executables against Debian
# bullseye's glibc, so that they run on glibc 2.29 and later instead of 2.34 (see the README).
for artefact in tool archive image; do
  echo "== release/$artefact.sh"
  bash "$here/$artefact.sh" "$out"
done
ls -l "$out"
