#!/usr/bin/env bash
# GPU device check (issue 19, GPU statistics): on a machine with a CUDA device, builds what is
# missing (WASM, the addon, the CUDA library when nvcc is there), prints what the probe found,
# runs the CUDA tests (test/kernels/gpu.test.ts: GPU vs WASM SIMD vs C vs coint) and
# `bench:gpu --quick` with the GPU at k = 500, 2,000, 10,000 (n = 2,500; the CPU backends up to
# 2,000), then a short summary. Meant to finish in under 4 minutes; exit status 0 only when the
# GPU was used and the tests passed. Results: build/bench/gpu-device-check.json and .log.
set -u
cd "$(dirname "$0")/.."
t0=$(date +%s)
mkdir -p build/bench
log=build/bench/gpu-device-check.log
: > "$log"
say() { echo "gpu-check: $*" | tee -a "$log"; }

if [ ! -f build/wasm/engine.release.wasm ]; then say "building WASM"; npm run build:wasm >> "$log" 2>&1 || say "WASM build failed (see $log)"; fi
if [ ! -f build/native/tradsys_native.node ] || [ ! -f build/native/libtradsys_cuda.so ]; then
  say "building the native addon and the CUDA library"; npm run build:native >> "$log" 2>&1 || true
fi
command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name,compute_cap,memory.total,driver_version --format=csv,noheader 2>&1 | tee -a "$log"
node --import tsx test/support/gpu-status-child.ts > build/bench/gpu-status.json 2>> "$log"
node -e '
  const s = JSON.parse(require("fs").readFileSync("build/bench/gpu-status.json", "utf8"));
  console.log("gpu-check: doctor row:", s.probe.path, "—", s.probe.detail);
  console.log("gpu-check: auto backend:", s.autoBackend);
  process.exit(s.status.available ? 0 : 3);' | tee -a "$log"
avail=${PIPESTATUS[0]}

timeout 170 npx vitest run test/kernels/gpu.test.ts > build/bench/gpu-test.log 2>&1
trc=$?
grep -E "Tests |✓|×|skipped|gpu fp32|gpu k=" build/bench/gpu-test.log | sed 's/\x1b\[[0-9;]*m//g' | tee -a "$log"

timeout 120 node --import tsx bench/kernels/gpu.bench.ts --quick --k 500,2000,10000 --n 2500 --cpu-max-k 2000 --no-scalar \
  --out build/bench/gpu-device-check.json >> "$log" 2>&1
brc=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync("build/bench/gpu-device-check.json", "utf8"));
  console.log("gpu-check: bench:gpu (ok " + r.ok + ")", r.gpu.available ? r.gpu.devices[0].name : "no GPU: " + r.gpu.reason);
  for (const x of r.rows) {
    if (x.kind === "corr") console.log(`  corr ${x.mode} k=${x.k} n=${x.n} ${x.backend.padEnd(5)} p50 ${x.p50Ms.toFixed(2)} ms  ${x.gflops.toFixed(1)} GFLOP/s  ×wasm ${x.ratioToWasm === null ? "-" : x.ratioToWasm.toFixed(4)}  maxΔ ${x.maxRelDiffVsWasm ?? "-"}`);
    else console.log(`  eg n=${x.n} ${x.backend.padEnd(5)} ${x.testsPerSec.toFixed(0)} tests/s (${x.pairs} tests)`);
  }' 2>&1 | tee -a "$log"
say "test rc=$trc bench rc=$brc gpu available=$([ "$avail" = 0 ] && echo yes || echo no) in $(( $(date +%s) - t0 )) s"
[ "$avail" = 0 ] && [ "$trc" = 0 ] && [ "$brc" = 0 ]
