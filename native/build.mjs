// Builds the optional native addon at `npm run build` (so at `npm ci`): never fails the install.
//
// Steps: find a C++ compiler and Node's headers on this machine (nothing is downloaded: node-gyp
// is pointed at the local headers with --nodedir), run node-gyp with every optional feature the
// probes found (probe.mjs), and on failure retry with the optional libraries switched off one at a
// time, then give up. The outcome, with the reason for every feature left out, goes to
// build/native/status.json, which `tradsys doctor` and the serve banner read beside their own
// run-time probes; the compiler's output goes to build/native/build.log.
//
// Environment: TRADSYS_NATIVE=0 skips the build (status says so); TRADSYS_NATIVE_NO_<FEATURE>=1
// leaves one feature out (probe.mjs); TRADSYS_CUDA=0 skips the CUDA library; NVCC / CUDA_HOME say
// where nvcc is; TRADSYS_NATIVE_OUT builds into another folder. Exit code is always 0.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, writeFileSync, appendFileSync, rmSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
// TRADSYS_NATIVE_OUT: another output folder (tests build into a temporary one)
const out = process.env.TRADSYS_NATIVE_OUT ? resolve(process.env.TRADSYS_NATIVE_OUT) : join(root, 'build', 'native');
const log = join(out, 'build.log');
mkdirSync(out, { recursive: true });
writeFileSync(log, `native build ${new Date().toISOString()}\n`);
const require = createRequire(import.meta.url);

const status = {
  built: false,
  addon: null,
  reason: '',
  compiler: null,
  nodedir: null,
  features: {},
  attempts: [],
  builtAt: new Date().toISOString(),
  node: process.version,
};

function say(msg) { process.stdout.write(`native: ${msg}\n`); }
function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}
function probe(name) {
  const r = spawnSync(process.execPath, [join(here, 'probe.mjs'), name], { encoding: 'utf8', env: process.env });
  return r.stdout.trim() === '1';
}
function finish() {
  buildCuda(); // the GPU feature's CUDA library (end of this file); never throws
  for (const f of Object.values(status.features)) if (!status.built && f.compiled) { f.compiled = false; f.reason ||= status.reason; }
  writeFileSync(join(out, 'status.json'), JSON.stringify(status, null, 2) + '\n');
  say(status.built ? `built ${status.addon} (${Object.entries(status.features).map(([k, v]) => `${k}: ${v.compiled ? 'yes' : 'no'}`).join(', ')})`
    : `not built: ${status.reason}; every feature uses its fallback`);
  process.exit(0);
}

function main() {
  if (process.env.TRADSYS_NATIVE === '0') { status.reason = 'TRADSYS_NATIVE=0 at build'; return finish(); }
  const cxx = process.env.CXX || which('c++') || which('g++') || which('clang++');
  if (!cxx) { status.reason = 'no C++ compiler found (install g++)'; return finish(); }
  status.compiler = cxx;
  const candidates = [process.env.npm_config_nodedir, resolve(dirname(process.execPath), '..')].filter(Boolean);
  const nodedir = candidates.find((d) => existsSync(join(d, 'include', 'node', 'node_api.h')));
  if (!nodedir) { status.reason = `Node's headers not found (looked in ${candidates.join(', ')}/include/node)`; return finish(); }
  status.nodedir = nodedir;
  let gyp;
  try { gyp = require.resolve('node-gyp/bin/node-gyp.js'); } catch {
    status.reason = 'node-gyp is not installed (npm ci installs it as a dev dependency)'; return finish();
  }

  // optional libraries: on when probed; switched off one at a time when a build fails
  const optional = { numa: probe('numa'), xdp: probe('xdp') };
  for (const [k, v] of Object.entries(optional)) {
    status.features[k] = { compiled: v, reason: v ? '' : `headers or libraries missing at build (${k === 'numa' ? 'libnuma-dev' : 'libxdp-dev, libbpf-dev, libelf-dev, zlib1g-dev'})` };
  }
  const order = ['xdp', 'numa'];
  for (let attempt = 0; attempt <= order.length; attempt++) {
    const vars = Object.entries(optional).map(([k, v]) => `--tradsys_${k}=${v ? 1 : 0}`);
    const args = [gyp, 'rebuild', `--nodedir=${nodedir}`, '--directory', here, ...vars];
    appendFileSync(log, `\n$ node ${args.join(' ')}\n`);
    const t0 = Date.now();
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', env: { ...process.env, npm_config_nodedir: nodedir }, maxBuffer: 64 << 20 });
    appendFileSync(log, (r.stdout || '') + (r.stderr || ''));
    const ok = r.status === 0 && existsSync(join(here, 'build', 'Release', 'tradsys_native.node'));
    status.attempts.push({ features: { ...optional }, ok, ms: Date.now() - t0 });
    if (ok) {
      copyFileSync(join(here, 'build', 'Release', 'tradsys_native.node'), join(out, 'tradsys_native.node'));
      status.built = true;
      status.addon = process.env.TRADSYS_NATIVE_OUT ? join(out, 'tradsys_native.node') : 'build/native/tradsys_native.node';
      // feature files report what they compiled; check the addon loads in this Node
      try {
        const addon = require(join(out, 'tradsys_native.node'));
        for (const [k, v] of Object.entries(addon.features ?? {})) status.features[k] = { ...(status.features[k] ?? {}), compiled: !!v.compiled, detail: v.detail ?? '', reason: v.compiled ? '' : (status.features[k]?.reason || v.detail || '') };
      } catch (e) {
        status.built = false; status.reason = `built but does not load: ${e.message}`;
        rmSync(join(out, 'tradsys_native.node'), { force: true });
        // AF_XDP links libxdp.so.1/libbpf.so.1 dynamically (Debian's static archives are not PIC):
        // when they do not load, build again without it so the other features stay
        if (optional.xdp) {
          optional.xdp = false;
          status.features.xdp = { compiled: false, reason: `the addon built with AF_XDP does not load (${e.message}); built without it` };
          say('the addon with AF_XDP does not load; rebuilding without it');
          continue;
        }
      }
      return finish();
    }
    const next = order.find((k) => optional[k]);
    if (!next) break;
    optional[next] = false;
    status.features[next] = { compiled: false, reason: `the build failed with ${next} on (see build/native/build.log); built without it` };
    say(`build with ${next} failed; retrying without it`);
  }
  status.reason = 'the C++ build failed (see build/native/build.log)';
  return finish();
}

// Further build steps (the CUDA library, built by nvcc when present) are added below main's
// addon build by the features that need them.
main();

// ── GPU feature: build/native/libtradsys_cuda.so from native/cuda/*.cu (owner: GPU statistics) ──
// A fat binary (SASS for every wanted architecture this nvcc supports, plus PTX of the newest)
// linked with the static CUDA runtime, so it needs only the driver (libcuda.so.1) at run time;
// native/src/gpu.cc dlopen()s it only when a CUDA device is present. No nvcc (or TRADSYS_CUDA=0):
// status.cuda says why and the statistics run on WASM SIMD. Rebuilt only when a source is newer
// than the library or the architecture list changed. Never throws, never fails the install.
function buildCuda() {
  const lib = join(out, 'libtradsys_cuda.so');
  const srcDir = join(here, 'cuda');
  const cuda = { built: false, lib: null, arch: [], reason: '', nvcc: null, ms: 0, log: 'build/native/cuda-build.log' };
  status.cuda = cuda;
  try {
    if (process.env.TRADSYS_NATIVE === '0' || process.env.TRADSYS_CUDA === '0') {
      cuda.reason = 'not built: disabled by ' + (process.env.TRADSYS_CUDA === '0' ? 'TRADSYS_CUDA=0' : 'TRADSYS_NATIVE=0') + ' at build';
      rmSync(lib, { force: true });
      return;
    }
    // nvcc: $NVCC, else on PATH, else $CUDA_HOME/bin (default /usr/local/cuda, where the toolkit installs)
    const home = process.env.CUDA_HOME || process.env.CUDA_PATH || '/usr/local/cuda';
    const nvcc = process.env.NVCC || which('nvcc') || (existsSync(join(home, 'bin', 'nvcc')) ? join(home, 'bin', 'nvcc') : null);
    if (!nvcc) { cuda.reason = 'not built: nvcc missing at build'; rmSync(lib, { force: true }); return; }
    cuda.nvcc = nvcc;
    const listed = spawnSync(nvcc, ['--list-gpu-arch'], { encoding: 'utf8' });
    const supported = new Set((listed.stdout || '').split(/\s+/).filter(Boolean).map((a) => a.replace('compute_', '')));
    const wanted = ['75', '80', '86', '89', '90', '100', '120'].filter((a) => supported.has(a));
    if (wanted.length === 0) { cuda.reason = `not built: ${nvcc} supports none of sm_75…sm_120 (${listed.stderr || listed.stdout || 'no --list-gpu-arch output'})`; return; }
    const newest = wanted[wanted.length - 1];
    cuda.arch = [...wanted.map((a) => `sm_${a}`), `compute_${newest}`];
    const archList = cuda.arch.join(' ');
    const sources = readdirSync(srcDir).filter((f) => f.endsWith('.cu')).map((f) => join(srcDir, f));
    const deps = readdirSync(srcDir).map((f) => join(srcDir, f));
    const stamp = join(out, 'libtradsys_cuda.arch');
    const fresh = existsSync(lib) && existsSync(stamp) && readFileSync(stamp, 'utf8') === archList
      && deps.every((f) => statSync(f).mtimeMs <= statSync(lib).mtimeMs);
    if (fresh) { cuda.built = true; cuda.lib = 'build/native/libtradsys_cuda.so'; cuda.reason = 'up to date'; return; }
    const args = ['-O3', '-std=c++17', '-shared', '-Xcompiler', '-fPIC', '-cudart', 'static',
      ...wanted.flatMap((a) => ['-gencode', `arch=compute_${a},code=sm_${a}`]),
      '-gencode', `arch=compute_${newest},code=compute_${newest}`,
      '-o', lib, ...sources];
    const t0 = Date.now();
    say(`building the CUDA library for ${archList} (nvcc; a few minutes)`);
    writeFileSync(join(out, 'cuda-build.log'), `$ ${nvcc} ${args.join(' ')}\n`);
    const r = spawnSync(nvcc, args, { encoding: 'utf8', timeout: 20 * 60_000, maxBuffer: 64 << 20 });
    appendFileSync(join(out, 'cuda-build.log'), (r.stdout || '') + (r.stderr || '') + (r.error ? String(r.error) : ''));
    cuda.ms = Date.now() - t0;
    if (r.status !== 0 || !existsSync(lib)) {
      rmSync(lib, { force: true });
      cuda.reason = `not built: nvcc failed (see ${cuda.log})`;
      return;
    }
    writeFileSync(stamp, archList);
    cuda.built = true;
    cuda.lib = 'build/native/libtradsys_cuda.so';
    say(`built ${cuda.lib} (${archList}) in ${(cuda.ms / 1000).toFixed(0)} s`);
  } catch (e) {
    cuda.reason = `not built: ${e.message}`;
  }
}
