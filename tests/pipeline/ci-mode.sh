#!/usr/bin/env bash
# Runs the built layerdive as a CI pipeline would: `layerdive IMAGE --ci` on an image that passes
# dive's default rules and on one that fails them, checking exit codes and the report text.
#   ci-mode.sh "dotnet path/to/layerdive.dll" CORPUS_DIR
set -u
layerdive=$1
corpus=$(cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
check() { # check DESCRIPTION COMMAND...
  if "${@:2}"; then echo "ok   $1"; else echo "FAIL $1"; failures=$((failures + 1)); fi
}

passing=$corpus/jib__jib-core_src_integration-test_resources_core_busybox-jib.tar
failing=$corpus/dive__.data_test-docker-image.tar

cd "$work"
env -u CI $layerdive "$passing" --ci >pass.out 2>pass.err; pass_rc=$?
check "a passing image exits 0" test "$pass_rc" -eq 0
check "its report says PASS as dive does" grep -qx 'Result:PASS \[Total:3\] \[Passed:2\] \[Failed:0\] \[Warn:0\] \[Skipped:1\]' pass.out
check "nothing on stderr" test ! -s pass.err

env -u CI $layerdive "$failing" --ci >fail.out 2>fail.err; fail_rc=$?
check "a failing image exits 1" test "$fail_rc" -eq 1
check "the failing rule is named" grep -q '^  FAIL: highestUserWastedPercent: ' fail.out
check "dive's figures are printed" grep -qx '  efficiency: 98.4421 %' fail.out

# CI=true in the environment is CI mode, as with dive
CI=true $layerdive "$failing" >env.out 2>&1; env_rc=$?
check "CI=true turns on CI mode" test "$env_rc" -eq 1
check "CI=true prints the CI report" grep -q '^Result:FAIL ' env.out

# a .dive-ci beside the pipeline, and a flag over it
printf 'rules:\n  highestUserWastedPercent: 0.5\n' > .dive-ci
env -u CI $layerdive "$failing" --ci >file.out 2>&1; file_rc=$?
check ".dive-ci relaxes the rule: exit 0" test "$file_rc" -eq 0
env -u CI $layerdive "$failing" --ci --highestUserWastedPercent 0.2 >flag.out 2>&1; flag_rc=$?
check "the flag overrides .dive-ci: exit 1" test "$flag_rc" -eq 1

# a bad rule value is exit 2 with one line naming the rule
env -u CI $layerdive "$failing" --ci --lowestEfficiency lots >bad.out 2>bad.err; bad_rc=$?
check "a bad rule value exits 2" test "$bad_rc" -eq 2
check "one line naming the rule" test "$(wc -l <bad.err)" -eq 1
check "the line names lowestEfficiency" grep -q 'lowestEfficiency' bad.err

# an unreadable image is exit 2, not 1
env -u CI $layerdive "$corpus/go-containerregistry__pkg_v1_tarball_testdata_null_manifest.tar" --ci >null.out 2>null.err; null_rc=$?
check "a broken image exits 2" test "$null_rc" -eq 2

# reports land where asked, and only there
env -u CI $layerdive "$failing" --ci --ci-format junit --ci-output report.xml --json dive.json >/dev/null 2>&1
check "the junit file is written" grep -q '<testcase classname="layerdive.rules" name="lowestEfficiency"' report.xml
check "the json file is written" grep -q '"efficiencyScore": 0.9844212134184309' dive.json
check "nothing else is written" test "$(ls -A | sort | tr '\n' ' ')" = ".dive-ci bad.err bad.out dive.json env.out fail.err fail.out file.out flag.out null.err null.out pass.err pass.out report.xml "

echo "ci-mode.sh: $failures failed"
exit $((failures > 0))
