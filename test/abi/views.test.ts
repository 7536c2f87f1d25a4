/**
 * src/abi/views.ts agrees with the record definitions: random EVT and RING_EVT records written
 * field by field from `EVT` / `RING_EVT` (records.ts) read back the same through the views; the
 * journal → RING_EVT conversion writes every byte; and no module outside src/abi and src/engine
 * names an EVT or RING_EVT offset (a source scan: dependency-cruiser checks imports between
 * modules, not which names of a module are used, so it cannot state this rule).
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import {
  CMD_SIZE, EVT, EVT_SIZE, FILE_ENUMS, JOURNAL_REC, JOURNAL_REC_V1, RING_CMD, RING_CMD_SIZE, RING_EVT, RING_EVT_SIZE, type FieldType, type RecordDef,
} from '../../src/abi/records.js';
import * as V from '../../src/abi/views.js';
import { decodeEvent } from '../../src/engine/engine.js';
import { decodeEvt, decodeRingEvent } from '../../src/cqrs/events.js';

/** A small seeded PRNG (xorshift32), so a failure names its seed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
}

function randomValue(t: FieldType, r: () => number): bigint {
  switch (t) {
    case 'u8': return BigInt(r() & 0xff);
    case 'u16': return BigInt(r() & 0xffff);
    case 'u32': case 'i32': return BigInt(r());
    default: {
      // mostly below 2^53 (what the number readers promise), sometimes the full 64 bits
      const hi = r() % 8 === 0 ? r() : r() & 0x1fffff;
      const v = (BigInt(hi) << 32n) | BigInt(r());
      return t === 'i64' && r() % 2 === 0 ? -v : v;
    }
  }
}

/** Writes `values` into `dv` at `p` from the record definition (the encoder the views must agree with). */
function write(def: RecordDef, dv: DataView, p: number, values: Map<string, bigint>): void {
  for (const f of def.fields) {
    const v = values.get(f.name)!;
    const o = p + f.offset;
    switch (f.type) {
      case 'u8': dv.setUint8(o, Number(v)); break;
      case 'u16': dv.setUint16(o, Number(v), true); break;
      case 'u32': dv.setUint32(o, Number(v), true); break;
      case 'i32': dv.setInt32(o, Number(v), true); break;
      case 'u64': dv.setBigUint64(o, BigInt.asUintN(64, v), true); break;
      case 'i64': dv.setBigInt64(o, BigInt.asIntN(64, v), true); break;
      case 'f64': dv.setFloat64(o, Number(v), true); break;
    }
  }
}

function randomRecord(def: RecordDef, r: () => number): Map<string, bigint> {
  const m = new Map<string, bigint>();
  for (const f of def.fields) {
    let v = randomValue(f.type, r);
    if (f.type === 'u64') v = BigInt.asUintN(64, v);
    if (f.type === 'i64') v = BigInt.asIntN(64, v);
    m.set(f.name, v);
  }
  return m;
}

describe('abi/views', () => {
  it('EVT readers return what the definition wrote, for random records at random offsets', () => {
    for (let seed = 1; seed <= 500; seed++) {
      const r = rng(seed);
      const p = (r() % 16) * 8;
      const dv = new DataView(new ArrayBuffer(p + EVT_SIZE + 8));
      const v = randomRecord(EVT, r);
      write(EVT, dv, p, v);
      const at = `seed ${seed}`;
      expect(V.evtType(dv, p), at).toBe(Number(v.get('type')));
      expect(V.evtReason(dv, p), at).toBe(Number(v.get('reason')));
      expect(V.evtFlags(dv, p), at).toBe(Number(v.get('flags')));
      expect(V.evtLast(dv, p), at).toBe((Number(v.get('flags')) & 1) === 1);
      expect(V.evtSide(dv, p), at).toBe(Number(v.get('side')));
      expect(V.evtSymbol(dv, p), at).toBe(Number(v.get('symbol')));
      expect(V.evtIdBig(dv, p), at).toBe(v.get('id'));
      expect(V.evtId(dv, p), at).toBe(Number(v.get('id')));
      expect(V.evtMakerBig(dv, p), at).toBe(v.get('maker'));
      expect(V.evtMaker(dv, p), at).toBe(Number(v.get('maker')));
      expect(V.evtPriceBig(dv, p), at).toBe(v.get('price'));
      expect(V.evtPrice(dv, p), at).toBe(Number(v.get('price')));
      expect(V.evtQty(dv, p), at).toBe(Number(v.get('qty')));
      expect(V.evtLeaves(dv, p), at).toBe(Number(v.get('leaves')));
      expect(V.evtMakerLeaves(dv, p), at).toBe(Number(v.get('makerLeaves')));
      expect(V.evtCmd(dv, p), at).toBe(Number(v.get('cmd')));
      expect(V.evtAccount(dv, p), at).toBe(Number(v.get('account')));
      expect(V.evtMakerAccount(dv, p), at).toBe(Number(v.get('makerAccount')));
      expect(V.evtTradeIdBig(dv, p), at).toBe(v.get('tradeId'));
      expect(V.evtTradeId(dv, p), at).toBe(Number(v.get('tradeId')));
      V.evtClearCmd(dv, p);
      expect(V.evtCmd(dv, p), at).toBe(0);
      expect(V.evtAccount(dv, p), at).toBe(Number(v.get('account'))); // only cmd was cleared
    }
  });

  it('slotQueueNs is tsInit − tsIn exactly (lo-word borrows included), -1 for an unstamped tsIn', () => {
    const dv = new DataView(new ArrayBuffer(RING_EVT_SIZE));
    const tsInOff = RING_EVT.fields.find((f) => f.name === 'tsIn')!.offset;
    const tsInitOff = RING_EVT.fields.find((f) => f.name === 'tsInit')!.offset;
    for (let seed = 1; seed <= 2000; seed++) {
      const r = rng(seed * 104729);
      const tsIn = 1_700_000_000_000_000_000n + BigInt(r() % 0x10000000) * 4_294_967_296n + BigInt(r()); // epoch ns (2023 … 2060), random low word
      const delta = seed % 4 === 0 ? BigInt(r() % 1000) : BigInt(r()) * BigInt(r() % 65536) + BigInt(r() % 4096); // up to ~2^48 ns
      dv.setBigInt64(tsInOff, tsIn, true);
      dv.setBigInt64(tsInitOff, tsIn + delta, true);
      expect(V.slotQueueNs(dv, 0), `seed ${seed}`).toBe(Number(delta));
    }
    dv.setBigInt64(tsInOff, 0n, true);
    expect(V.slotQueueNs(dv, 0)).toBe(-1);
  });

  it('RING_EVT readers return what the definition wrote, and slotEvt finds the EVT fields', () => {
    for (let seed = 1; seed <= 500; seed++) {
      const r = rng(seed * 7919);
      const p = (r() % 8) * RING_EVT_SIZE;
      const dv = new DataView(new ArrayBuffer(p + RING_EVT_SIZE));
      const v = randomRecord(RING_EVT, r);
      write(RING_EVT, dv, p, v);
      const at = `seed ${seed}`;
      expect(V.slotSeqBig(dv, p), at).toBe(v.get('seq'));
      expect(V.slotSeq(dv, p), at).toBe(Number(v.get('seq')));
      expect(V.slotTsInit(dv, p), at).toBe(v.get('tsInit'));
      expect(V.slotTsIn(dv, p), at).toBe(v.get('tsIn'));
      expect(V.slotOrigin(dv, p), at).toBe(Number(v.get('origin')));
      expect(V.slotToken(dv, p), at).toBe(Number(v.get('token')));
      const e = V.slotEvt(p);
      for (const f of EVT.fields) {
        const name = 'evt' + f.name[0]!.toUpperCase() + f.name.slice(1);
        const big = (V as unknown as Record<string, (dv: DataView, p: number) => number | bigint>)[`${name}Big`];
        const read = big ?? (V as unknown as Record<string, (dv: DataView, p: number) => number | bigint>)[name]!;
        const want = v.get(name)!;
        expect(read(dv, e), `${at} ${name}`).toBe(big ? want : Number(want));
      }
    }
  });

  it('the object decoders (engine, cqrs) agree with the views', () => {
    const r = rng(42);
    for (let k = 0; k < 200; k++) {
      const dv = new DataView(new ArrayBuffer(RING_EVT_SIZE));
      const v = randomRecord(RING_EVT, r);
      v.set('evtType', BigInt([65, 82, 84, 88, 77, 75][r() % 6]!));
      v.set('evtReason', BigInt(r() % 21));
      write(RING_EVT, dv, 0, v);
      const e = V.slotEvt(0);
      const a = decodeEvent(dv, e);
      const b = decodeEvt(dv, e);
      const s = decodeRingEvent(dv, 0);
      expect(s.seq).toBe(V.slotSeqBig(dv, 0));
      expect(s.tsInit).toBe(V.slotTsInit(dv, 0));
      expect(s.event).toEqual(b);
      for (const o of [a, b]) {
        expect(o.type.charCodeAt(0)).toBe(V.evtType(dv, e));
        expect(o.id).toBe(V.evtIdBig(dv, e));
        expect(o.maker).toBe(V.evtMakerBig(dv, e));
        expect(o.price).toBe(V.evtPriceBig(dv, e));
        expect(o.tradeId).toBe(V.evtTradeIdBig(dv, e));
        expect([o.symbol, o.side, o.qty, o.leaves, o.makerLeaves, o.account, o.makerAccount, o.last]).toEqual([
          V.evtSymbol(dv, e), V.evtSide(dv, e), V.evtQty(dv, e), V.evtLeaves(dv, e), V.evtMakerLeaves(dv, e),
          V.evtAccount(dv, e), V.evtMakerAccount(dv, e), V.evtLast(dv, e),
        ]);
      }
      expect(a.cmd).toBe(V.evtCmd(dv, e));
      expect(b.reason).toBe(V.evtReason(dv, e));
    }
  });

  it('journalEventToSlot writes the whole slot: seq, tsInit, routing (or zeros) and the EVT record', () => {
    const r = rng(7);
    for (let k = 0; k < 100; k++) {
      const n = 1 + (r() % 4);
      const cmd = new Uint8Array(RING_CMD_SIZE);
      const cdv = new DataView(cmd.buffer);
      const c = randomRecord(RING_CMD, r);
      write(RING_CMD, cdv, 0, c);
      const events = new Uint8Array(n * EVT_SIZE);
      for (let i = 0; i < events.length; i++) events[i] = r() & 0xff;
      const rec = { seq: BigInt(r()) + 1n, tsInit: BigInt(r()) << 20n, cmd, events, nEvents: n };
      const u8 = new Uint8Array(RING_EVT_SIZE * 3).fill(0xee);
      const dv = new DataView(u8.buffer);
      for (const routing of [true, false]) {
        const e = r() % n;
        const p = (r() % 3) * RING_EVT_SIZE;
        V.journalEventToSlot(rec, e, u8, dv, p, routing);
        expect(V.slotSeqBig(dv, p)).toBe(rec.seq);
        expect(V.slotTsInit(dv, p)).toBe(rec.tsInit);
        expect(V.slotOrigin(dv, p)).toBe(routing ? Number(c.get('origin')) : 0);
        expect(V.slotToken(dv, p)).toBe(routing ? Number(c.get('token')) : 0);
        expect(V.slotTsIn(dv, p)).toBe(routing ? c.get('tsIn') : 0n);
        expect(u8.subarray(V.slotEvt(p), p + RING_EVT_SIZE)).toEqual(events.subarray(e * EVT_SIZE, (e + 1) * EVT_SIZE));
      }
      expect(() => V.journalEventToSlot(rec, n, u8, dv, 0, true)).toThrow(RangeError);
      expect(() => V.journalEventToSlot(rec, 0, u8, dv, u8.length - RING_EVT_SIZE + 8, true)).toThrow(RangeError);
    }
  });

  it('journal record readers return what JOURNAL_REC / JOURNAL_REC_V1 wrote; the writers write what the definitions say', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(seed * 104729);
      const n = r() % 4;
      const v1 = seed % 3 === 0;
      const def = v1 ? JOURNAL_REC_V1 : JOURNAL_REC;
      const p = (r() % 8) * 8;
      const b = new Uint8Array(p + def.size + n * EVT_SIZE + 8);
      const dv = new DataView(b.buffer);
      const v = randomRecord(def, r);
      v.set('version', BigInt(v1 ? FILE_ENUMS.JournalVersion.V1 : FILE_ENUMS.JournalVersion.V2));
      v.set('nEvents', BigInt(n));
      write(def, dv, p, v);
      for (let i = p + def.size; i < b.length; i++) b[i] = r() & 0xff;
      const at = `seed ${seed}`;
      expect(V.jrecLen(dv, p), at).toBe(Number(v.get('len')));
      expect(V.jrecCrc(dv, p), at).toBe(Number(v.get('crc')));
      expect(V.jrecSeq(dv, p), at).toBe(v.get('seq'));
      expect(V.jrecVersion(dv, p), at).toBe(Number(v.get('version')));
      expect(V.jrecKind(dv, p), at).toBe(Number(v.get('kind')));
      expect(V.jrecNEvents(dv, p), at).toBe(n);
      expect(V.jrecCrcStart(p), at).toBe(p + def.fields.find((f) => f.name === 'seq')!.offset);
      const rec = V.readJournalRecord(b, dv, p);
      const cmdAt = p + def.fields.find((f) => f.name === 'cmdOp')!.offset;
      expect(rec.seq, at).toBe(v.get('seq'));
      expect(rec.nEvents, at).toBe(n);
      expect(rec.events, at).toEqual(b.subarray(p + def.size, p + def.size + n * EVT_SIZE));
      if (v1) {
        expect(rec.tsInit, at).toBe(0n);
        expect(rec.cmd.subarray(0, CMD_SIZE), at).toEqual(b.subarray(cmdAt, cmdAt + CMD_SIZE));
        expect(rec.cmd.subarray(CMD_SIZE).every((x) => x === 0), at).toBe(true);
      } else {
        expect(V.jrecTsInit(dv, p), at).toBe(v.get('tsInit'));
        expect(rec.tsInit, at).toBe(v.get('tsInit'));
        expect(V.jrecCmd(p), at).toBe(cmdAt);
        expect(V.jrecEvents(p), at).toBe(p + JOURNAL_REC.size);
        expect(rec.cmd, at).toEqual(b.subarray(cmdAt, cmdAt + RING_CMD_SIZE));
        expect(Number(v.get('cmdOrigin')), at).toBe(new DataView(rec.cmd.buffer, rec.cmd.byteOffset).getUint32(RING_CMD.fields.find((f) => f.name === 'origin')!.offset, true));
      }
      // the writers: header fields land where the definition puts them
      const out = new DataView(new ArrayBuffer(p + JOURNAL_REC.size));
      V.writeJournalHeader(out, p, v.get('seq')!, n, v.get('tsInit') ?? 0n, Number(v.get('kind')));
      V.sealJournalRecord(out, p, V.jrecSize(n), Number(v.get('crc')));
      const got = new Map(JOURNAL_REC.fields.filter((f) => !f.name.startsWith('cmd') && !f.name.startsWith('_')).map((f) => [f.name, f.offset]));
      expect(out.getUint32(p + got.get('len')!, true), at).toBe(JOURNAL_REC.size + n * EVT_SIZE);
      expect(out.getUint32(p + got.get('crc')!, true), at).toBe(Number(v.get('crc')));
      expect(out.getBigUint64(p + got.get('seq')!, true), at).toBe(v.get('seq'));
      expect(out.getUint16(p + got.get('version')!, true), at).toBe(FILE_ENUMS.JournalVersion.V2);
      expect(out.getUint16(p + got.get('kind')!, true), at).toBe(Number(v.get('kind')));
      expect(out.getUint32(p + got.get('nEvents')!, true), at).toBe(n);
      expect(out.getBigInt64(p + got.get('tsInit')!, true), at).toBe(v.get('tsInit') ?? 0n);
    }
    const w = V.writeJournalV1(9n, new Uint8Array(CMD_SIZE).fill(3), new Uint8Array(EVT_SIZE).fill(5), FILE_ENUMS.JournalKind.COMMAND);
    const wdv = new DataView(w.buffer);
    expect(w.length).toBe(V.jrecV1Size(1));
    expect(w.length % 8).toBe(0);
    expect([V.jrecSeq(wdv, 0), V.jrecVersion(wdv, 0), V.jrecNEvents(wdv, 0)]).toEqual([9n, FILE_ENUMS.JournalVersion.V1, 1]);
    expect(w.subarray(JOURNAL_REC_V1.fields.find((f) => f.name === 'cmdOp')!.offset, JOURNAL_REC_V1.size).every((x) => x === 3)).toBe(true);
    expect(w.subarray(JOURNAL_REC_V1.size, JOURNAL_REC_V1.size + EVT_SIZE).every((x) => x === 5)).toBe(true);
  });

  it('no module outside src/abi and src/engine names an EVT or RING_EVT offset', () => {
    const root = join(__dirname, '../../src');
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        const rel = relative(root, path).split('\\').join('/');
        if (statSync(path).isDirectory()) { if (rel !== 'abi' && rel !== 'engine') walk(path); continue; }
        if (!name.endsWith('.ts')) continue;
        const text = readFileSync(path, 'utf8');
        if (/\b(RING_)?EVT_OFF\b/.test(text)) offenders.push(rel);
      }
    };
    walk(root);
    expect(offenders, 'read EVT/RING_EVT fields through src/abi/views.ts').toEqual([]);
  });
});
