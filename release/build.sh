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
for artefact in tool archive image; do
  # TEMPORARY (issue 31, removed at the merge): archive.sh and image.sh are written on other
  # branches, so a script that is not here yet is skipped, saying so.
  if [[ ! -f $here/$artefact.sh ]]; then echo "release/$artefact.sh is not on this branch: skipped"; continue; fi
  echo "== release/$artefact.sh"
  bash "$here/$artefact.sh" "$out"
done
ls -l "$out"
