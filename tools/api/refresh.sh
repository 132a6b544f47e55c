#!/usr/bin/env bash
# Rewrites src/LayerDive.Core/PublicAPI.Shipped.txt from the code, for a change to Core's public
# surface that is meant. The build fails for a public symbol the file lacks (RS0016) and for one it
# lists that is gone (RS0017); this makes the file say what the code declares, so review the diff.
#
# It starts both files empty, lets the analyzer's own code fix (dotnet format) write every public
# symbol into PublicAPI.Unshipped.txt, moves those lines into PublicAPI.Shipped.txt in one fixed order
# and leaves Unshipped empty, then builds Core to show the build is clean. Nothing is kept from the
# old file, so a removed or renamed symbol leaves no *REMOVED* line and the result does not depend
# on the order of earlier edits.
#
#   tools/api/refresh.sh        (from anywhere in the repository; exits non-zero if the build fails)
set -euo pipefail
cd "$(dirname "$0")/../.."
project=src/LayerDive.Core/LayerDive.Core.csproj
dir=$(dirname "$project")
shipped=$dir/PublicAPI.Shipped.txt
unshipped=$dir/PublicAPI.Unshipped.txt
header='#nullable enable'   # the files record nullable annotations: string! and string? differ

printf '%s\n' "$header" >"$shipped"
printf '%s\n' "$header" >"$unshipped"

# the code fix is asked for RS0016/RS0017 only, so no source file may change; this checks that it did not
sources() { find "$dir" -name '*.cs' -not -path '*/obj/*' -not -path '*/bin/*' -print0 | sort -z | xargs -0 sha256sum; }
before=$(sources)

# dotnet format may leave a few symbols out of one batch; a second pass adds what the first missed.
for pass in 1 2 3; do
  if ! fmt=$(dotnet format analyzers "$project" --diagnostics RS0016 RS0017 --severity warn 2>&1); then
    echo "$fmt"
    exit 1
  fi
  out=$(dotnet build "$project" -v q -nologo 2>&1) || true
  if grep -qE 'RS00(16|17)' <<<"$out"; then
    echo "pass $pass left symbols unpinned; running the code fix again"
    continue
  fi
  break
done

if [[ $(sources) != "$before" ]]; then
  echo "refresh.sh: dotnet format changed a source file of $dir; see git diff" >&2
  exit 1
fi

# Unshipped -> Shipped: the header, then every symbol once, in ordinal order (locale-independent).
{
  printf '%s\n' "$header"
  { grep -hv -e "^$header\$" -e '^[[:space:]]*$' "$shipped" "$unshipped" || true; } | LC_ALL=C sort -u
} >"$shipped.new"
mv "$shipped.new" "$shipped"
printf '%s\n' "$header" >"$unshipped"

if ! out=$(dotnet build "$project" -v q -nologo 2>&1); then
  grep -E 'error' <<<"$out" | sort -u | head -20
  echo "refresh.sh: $project does not build clean with the refreshed files" >&2
  exit 1
fi
types=$(grep -cvE '\(|->|^#' "$shipped" || true)   # a type's line is its bare name
echo "$shipped: $(($(wc -l <"$shipped") - 1)) public symbols, $types public types"
