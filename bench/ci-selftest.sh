#!/usr/bin/env bash
# bench:ci self-test (npm run bench:ci:selftest): a deliberately slowed kernel must make
# `tradsys bench compare` fail. BENCH_CI_SLOW=runningPushMany (read only by bench/ci.bench.ts) makes the
# RunningStats.pushMany timed loop busy-wait twice as long as it ran (3× slower); the stats suite alone is
# compared against bench/baseline.json with CI's thresholds (package.json bench:compare). Succeeds
# (exit 0) only if the comparison exits 1 naming stats.runningPushMany.wasm_over_js.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p build
out=build/bench-ci-selftest.json
BENCH_CI_SLOW=runningPushMany node --import tsx bench/ci.bench.ts --only stats --no-store --out "$out" >/dev/null || { echo "bench:ci:selftest: the stats suite failed to run"; exit 1; }
report=$(npm run --silent bench:compare -- --candidate "$out" 2>&1); rc=$?
echo "$report"
if [ "$rc" -eq 1 ] && grep -q 'REGRESSION in .*stats\.runningPushMany\.wasm_over_js' <<<"$report"; then
  echo "bench:ci:selftest: OK: the slowed RunningStats.pushMany kernel failed the comparison (exit 1, named)"
  exit 0
fi
echo "bench:ci:selftest: FAILED: the slowed kernel did not fail the comparison (exit $rc)"
exit 1
