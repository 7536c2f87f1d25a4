/**
 * The AS↔TS boundary, checked three ways: generated files are fresh, the WASM ABI hash equals
 * the TS one, and `offsetof` of every generated `@unmanaged` class matches the definition.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { ABI_HASH, ABI_VERSION, FEED_MSG, FEED_RECORDS, FEED_RING_HDR, FILE_RECORDS, RECORDS, RING_CMD, CMD, abiCanonical, checkLayout, fnv1a32 } from '../../src/abi/records.js';
import { generate, ROOT } from '../../src/abi/gen.js';
import { instantiate } from '../../src/engine/wasm.js';

describe('ABI', () => {
  it('generated files are up to date (npm run gen:abi)', () => {
    for (const [rel, text] of Object.entries(generate())) {
      expect(readFileSync(join(ROOT, rel), 'utf8'), `${rel} is stale: run npm run gen:abi`).toBe(text);
    }
  });

  it('every record follows the layout rules', () => {
    for (const r of RECORDS) expect(() => checkLayout(r)).not.toThrow();
    expect(() => checkLayout({ name: 'Bad', size: 16, fields: [{ name: 'a', type: 'u8', offset: 0 }, { name: 'b', type: 'u64', offset: 1 }] })).toThrow(/offset 1, expected 1|not aligned/);
    expect(() => checkLayout({ name: 'Gap', size: 16, fields: [{ name: 'a', type: 'u32', offset: 0 }, { name: 'b', type: 'u64', offset: 8 }] })).toThrow(/declare padding/);
  });

  it('the hash covers the canonical description', () => {
    expect(ABI_HASH).toBe(fnv1a32(abiCanonical()));
    expect(abiCanonical()).toContain('Cmd:32:op/u8@0');
  });

  for (const build of ['release', 'debug'] as const) {
    it(`the ${build} WASM module reports the same version, hash and offsets`, () => {
      const ex = instantiate(build);
      expect(ex.abiVersion()).toBe(ABI_VERSION);
      expect(ex.abiHash() >>> 0).toBe(ABI_HASH);
      RECORDS.forEach((r, ri) => {
        r.fields.forEach((f, fi) => expect(ex.abiOffsetOf(ri, fi), `${r.name}.${f.name}`).toBe(f.offset));
        expect(ex.abiOffsetOf(ri, -1), `${r.name} size`).toBe(r.size);
      });
      expect(ex.engineSimd()).toBe(1);
    });
  }

  it('the journal file records follow the layout rules, embed RING_CMD / CMD, and stay out of the ABI hash', () => {
    for (const r of FILE_RECORDS) expect(() => checkLayout(r)).not.toThrow();
    const [v2, v1] = FILE_RECORDS;
    const cmdAt = (r: typeof v2) => r!.fields.find((f) => f.name === 'cmdOp')!.offset;
    expect(v2!.size - cmdAt(v2)).toBe(RING_CMD.size);
    expect(v1!.size - cmdAt(v1)).toBe(CMD.size);
    expect(v2!.fields.filter((f) => f.name.startsWith('cmd')).map((f) => f.offset - cmdAt(v2))).toEqual(RING_CMD.fields.filter((f) => !f.name.startsWith('_')).map((f) => f.offset));
    for (const r of FILE_RECORDS) expect(abiCanonical()).not.toContain(`${r.name}:`);
  });

  for (const build of ['release', 'debug'] as const) {
    it(`the ${build} WASM module's journal record offsets (file records, probed after RECORDS) match`, () => {
      const ex = instantiate(build);
      FILE_RECORDS.forEach((r, j) => {
        const ri = RECORDS.length + j;
        r.fields.forEach((f, fi) => expect(ex.abiOffsetOf(ri, fi), `${r.name}.${f.name}`).toBe(f.offset));
        expect(ex.abiOffsetOf(ri, -1), `${r.name} size`).toBe(r.size);
      });
    });
  }

  it('the feed ring records follow the layout rules, stay out of the ABI hash, and match the WASM probe (after FILE_RECORDS)', () => {
    for (const r of FEED_RECORDS) {
      expect(() => checkLayout(r)).not.toThrow();
      expect(abiCanonical()).not.toContain(`${r.name}:`);
    }
    expect(FEED_RING_HDR.size).toBe(256);
    expect(FEED_MSG.size).toBe(72);
    const ex = instantiate('release');
    FEED_RECORDS.forEach((r, j) => {
      const ri = RECORDS.length + FILE_RECORDS.length + j;
      r.fields.forEach((f, fi) => expect(ex.abiOffsetOf(ri, fi), `${r.name}.${f.name}`).toBe(f.offset));
      expect(ex.abiOffsetOf(ri, -1), `${r.name} size`).toBe(r.size);
    });
  });

  it('every WASM export is camelCase with a subsystem prefix (STYLE §2)', () => {
    for (const build of ['release', 'debug'] as const) {
      const names = Object.keys(instantiate(build) as object).filter((n) => n !== 'memory');
      expect(names.length).toBeGreaterThan(50);
      const bad = names.filter((n) => !/^(abi|engine|book|risk|pool|stats|journal)[A-Z][A-Za-z0-9]*$/.test(n));
      expect(bad, `${build}: exports without a subsystem prefix`).toEqual([]);
    }
  });

  it('the C header compiles and its static asserts hold', () => {
    let cc = '';
    for (const c of ['cc', 'gcc', 'clang']) {
      try { execFileSync(c, ['--version'], { stdio: 'ignore' }); cc = c; break; } catch { /* try the next */ }
    }
    expect(cc, 'a C compiler (cc, gcc or clang) is needed to check native/include/records.h').not.toBe('');
    const dir = mkdtempSync(join(tmpdir(), 'abi-'));
    writeFileSync(join(dir, 'probe.c'), `#include "${join(ROOT, 'native/include/records.h')}"\nint main(void) { return TS_ABI_VERSION == ${ABI_VERSION} && TS_ABI_HASH == ${ABI_HASH}u ? 0 : 1; }\n`);
    execFileSync(cc, ['-std=c11', '-Wall', '-Werror', '-o', join(dir, 'probe'), join(dir, 'probe.c')], { cwd: dir });
    execFileSync(join(dir, 'probe'));
    // and from C++ (the native addon includes it)
    writeFileSync(join(dir, 'probe.cc'), `#include "${join(ROOT, 'native/include/records.h')}"\nint main() { return sizeof(ts_feedmsg_t) == ${FEED_MSG.size} ? 0 : 1; }\n`);
    execFileSync(cc === 'clang' ? 'clang++' : 'g++', ['-std=c++17', '-Wall', '-Werror', '-o', join(dir, 'probe-cc'), join(dir, 'probe.cc')], { cwd: dir });
    execFileSync(join(dir, 'probe-cc'));
  });
});
