// Prints 1 when an optional native feature's headers and static libraries are present on this
// machine, else 0: node-gyp calls it from binding.gyp to set the feature's gyp variable. Only
// files are checked here; native/build.mjs retries without the feature if the build still fails.
import { existsSync } from 'node:fs';

const LIBDIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib'];
const hasLib = (name) => LIBDIRS.some((d) => existsSync(`${d}/lib${name}.a`));
const hasHeader = (path) => existsSync(`/usr/include/${path}`) || existsSync(`/usr/local/include/${path}`);

const FEATURES = {
  // numa.h only: sys.cc opens libnuma.so.1 at run time (libnuma.a is not PIC, see binding.gyp)
  numa: () => hasHeader('numa.h'),
  xdp: () => hasHeader('xdp/xsk.h') && hasHeader('bpf/libbpf.h') && hasLib('xdp') && hasLib('bpf') && hasLib('elf') && hasLib('z'),
};

const name = process.argv[2];
const probe = FEATURES[name];
if (!probe) { process.stderr.write(`probe.mjs: unknown feature ${name}\n`); process.exit(2); }
const off = process.env[`TRADSYS_NATIVE_NO_${name.toUpperCase()}`] === '1';
process.stdout.write(!off && probe() ? '1' : '0');
