#!/usr/bin/env bash
# The steps of the LayerDive GitHub Action (action.yml), kept here so they run (and are tested) in any
# shell: `run.sh install` puts a release archive's executable under $RUNNER_TEMP, `run.sh gate` judges
# an image with it. Inputs come as LAYERDIVE_* variables (action.yml maps its inputs onto them);
# results go where GitHub reads them: $GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY, $GITHUB_PATH.
set -euo pipefail

# GitHub shows ::error:: lines as annotations on the run
fail() {
  echo "::error title=layerdive::$*" >&2
  exit 2
}

need() {
  [ -n "${!1:-}" ] || fail "$1 is not set (run.sh runs as a step of action.yml, where GitHub sets it)"
}

# The version of this checkout of the action: GitHub checks the action out at the ref the workflow
# names (uses: layerdive/layerdive@v0.1.0), so the version its project file carries is the action's own.
own_version() {
  local f v
  for f in "$GITHUB_ACTION_PATH/Directory.Build.props" "$GITHUB_ACTION_PATH/src/LayerDive/LayerDive.csproj"; do
    [ -f "$f" ] || continue
    v=$(sed -n 's:.*<Version>\([^<]*\)</Version>.*:\1:p' "$f" | head -n 1)
    if [ -n "$v" ]; then
      echo "$v"
      return
    fi
  done
  fail "no <Version> in the action's project files under $GITHUB_ACTION_PATH; set the input version or archive"
}

download() {
  if command -v curl >/dev/null 2>&1; then
    curl --fail --silent --show-error --location --retry 3 --output "$2" "$1"
  elif command -v wget >/dev/null 2>&1; then
    wget --quiet --tries=3 --output-document="$2" "$1"
  else
    fail "neither curl nor wget is installed to download $1"
  fi
}

install() {
  need RUNNER_TEMP
  need GITHUB_OUTPUT
  local archive="${LAYERDIVE_ARCHIVE:-}" sums_required=0
  if [ -z "$archive" ]; then
    need GITHUB_ACTION_PATH
    local version="${LAYERDIVE_VERSION:-}"
    [ -n "$version" ] || version=$(own_version)
    version="${version#v}"
    archive="https://github.com/layerdive/layerdive/releases/download/v$version/layerdive-$version-linux-x64.tar.gz"
    # a published release always has its SHA256SUMS
    sums_required=1
  fi

  local dest name file sums
  dest=$(mktemp -d "$RUNNER_TEMP/layerdive.XXXXXX")
  name="${archive%%\?*}"
  name="${name##*/}"
  file="$dest/$name"
  sums="$dest/SHA256SUMS"
  case "$archive" in
    http://* | https://*)
      echo "layerdive: downloading $archive"
      download "$archive" "$file" || fail "could not download $archive"
      if ! download "${archive%/*}/SHA256SUMS" "$sums" 2>/dev/null; then
        rm -f "$sums"
      fi
      ;;
    *)
      [ -f "$archive" ] || fail "the archive $archive does not exist"
      cp -- "$archive" "$file"
      if [ -f "$(dirname -- "$archive")/SHA256SUMS" ]; then
        cp -- "$(dirname -- "$archive")/SHA256SUMS" "$sums"
      fi
      ;;
  esac

  if [ -f "$sums" ]; then
    local expected actual
    # "HASH  NAME" (text mode) or "HASH *NAME" (binary mode), as sha256sum writes them
    expected=$(awk -v n="$name" '$2 == n || $2 == "*" n { print $1; exit }' "$sums")
    [ -n "$expected" ] || fail "SHA256SUMS beside $archive does not list $name"
    actual=$(sha256sum -- "$file" | cut -d ' ' -f 1)
    [ "$expected" = "$actual" ] || fail "$name does not match SHA256SUMS (sha256 $actual, listed $expected)"
    echo "layerdive: $name matches SHA256SUMS ($actual)"
  elif [ "$sums_required" = 1 ]; then
    fail "no SHA256SUMS beside $archive"
  else
    echo "::warning title=layerdive::no SHA256SUMS beside $archive: the archive is not verified"
  fi

  mkdir "$dest/unpacked"
  tar -xzf "$file" -C "$dest/unpacked" --no-same-owner || fail "could not unpack $archive"
  # the executable at the archive's top, or in its one top folder (layerdive-VERSION-linux-x64/)
  local exe found=()
  for exe in "$dest/unpacked/layerdive" "$dest"/unpacked/*/layerdive; do
    [ -f "$exe" ] && found+=("$exe")
  done
  [ "${#found[@]}" = 1 ] || fail "$archive holds ${#found[@]} layerdive executables at its top or in one folder below; expected 1"
  exe="${found[0]}"
  [ -x "$exe" ] || fail "$exe in $archive is not executable"
  "$exe" --version || fail "$exe from $archive does not run here"

  echo "executable=$exe" >>"$GITHUB_OUTPUT"
  # later steps of the job can call layerdive by name
  if [ -n "${GITHUB_PATH:-}" ]; then dirname -- "$exe" >>"$GITHUB_PATH"; fi
}

# A figure of dive's text report ("  efficiency: 98.4421 %", "  wastedBytes: 32025 bytes (32 kB)").
figure() {
  sed -n "s/^  $1: \\([^ ]*\\) .*/\\1/p" "$2" | head -n 1
}

gate() {
  need LAYERDIVE
  need LAYERDIVE_IMAGE
  need RUNNER_TEMP
  need GITHUB_OUTPUT
  local args=("$LAYERDIVE_IMAGE" --ci)
  [ -z "${LAYERDIVE_CI_CONFIG:-}" ] || args+=(--ci-config "$LAYERDIVE_CI_CONFIG")
  [ -z "${LAYERDIVE_LOWEST_EFFICIENCY:-}" ] || args+=(--lowestEfficiency "$LAYERDIVE_LOWEST_EFFICIENCY")
  [ -z "${LAYERDIVE_HIGHEST_WASTED_BYTES:-}" ] || args+=(--highestWastedBytes "$LAYERDIVE_HIGHEST_WASTED_BYTES")
  [ -z "${LAYERDIVE_HIGHEST_USER_WASTED_PERCENT:-}" ] || args+=(--highestUserWastedPercent "$LAYERDIVE_HIGHEST_USER_WASTED_PERCENT")

  local work report log junit code=0
  work=$(mktemp -d "$RUNNER_TEMP/layerdive-gate.XXXXXX")
  report="$work/report.md"
  log="$work/report.txt"
  junit="${LAYERDIVE_JUNIT:-layerdive-junit.xml}"
  case "$junit" in /*) ;; *) junit="$PWD/$junit" ;; esac

  # dive's text report goes to the log as the job runs; the markdown one to a file for the summary
  "$LAYERDIVE" "${args[@]}" --ci-format markdown --ci-output "$report" | tee "$log" || code=$?
  if [ "$code" = 0 ] || [ "$code" = 1 ]; then
    # one report form a run: the JUnit file takes a second one, whose verdict must be the first's
    local again=0
    "$LAYERDIVE" "${args[@]}" --quiet --ci-format junit --ci-output "$junit" >/dev/null || again=$?
    [ "$again" = "$code" ] || fail "the JUnit run of $LAYERDIVE_IMAGE exited $again where the gate exited $code"
  fi

  {
    echo "report=$report"
    if [ "$code" = 0 ] || [ "$code" = 1 ]; then
      echo "junit=$junit"
      echo "efficiency=$(figure efficiency "$log")"
      echo "wasted-bytes=$(figure wastedBytes "$log")"
      echo "user-wasted-percent=$(figure userWastedPercent "$log")"
      echo "removable-bytes=$(figure removableBytes "$log")"
    fi
    case "$code" in 0) echo "verdict=pass" ;; 1) echo "verdict=fail" ;; *) echo "verdict=error" ;; esac
  } >>"$GITHUB_OUTPUT"

  if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ "${LAYERDIVE_SUMMARY:-true}" = true ]; then
    if [ -f "$report" ]; then
      cat -- "$report" >>"$GITHUB_STEP_SUMMARY"
    else
      printf '### LayerDive: %s could not be gated (exit %s); the step log says why\n' "$LAYERDIVE_IMAGE" "$code" >>"$GITHUB_STEP_SUMMARY"
    fi
  fi
  case "$code" in
    0) ;;
    1) echo "::error title=layerdive::$LAYERDIVE_IMAGE fails the efficiency rules (see the step summary)" >&2 ;;
    *) echo "::error title=layerdive::$LAYERDIVE_IMAGE could not be gated (exit $code)" >&2 ;;
  esac
  return "$code"
}

case "${1:-}" in
  install) install ;;
  gate) gate ;;
  *)
    echo "usage: run.sh install|gate (the steps of action.yml)" >&2
    exit 2
    ;;
esac
