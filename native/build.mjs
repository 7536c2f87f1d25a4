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
// leaves one feature out (probe.mjs); TRADSYS_NATIVE_OUT=DIR writes the outcome there instead of
// build/native (tests). Exit code is always 0.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, writeFileSync, appendFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
// TRADSYS_NATIVE_OUT: where status.json, build.log and the addon go (tests build into a temp dir)
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
    status.features[k] = { compiled: v, reason: v ? '' : `headers or static library missing at build (${k === 'numa' ? 'libnuma-dev' : 'libxdp-dev, libbpf-dev, libelf-dev, zlib1g-dev'})` };
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
