/**
 * The history a backtest replays, as a stream of engine commands with simulated times: an order
 * stream file (.tso/.csv), a journal folder, or ClickHouse trades and quotes turned into commands
 * (docs/strategies.md "Backtests", inputs).
 *
 * Owns: `History` (chunked CMD records + their times in ns) and its three sources.
 * - Order stream (`--in`): the file's commands in order; it has no times, so command i is at
 *   `startNs + i × 10^9 / rate` (`--rate N` commands per second, default 100,000; `--start T`,
 *   default 2025-01-01T00:00:00Z).
 * - Journal (`--journal DIR`): every record's command at its tsInit (when the live engine thread
 *   took its batch). Records of the strategy's account are the live strategy's own commands: they
 *   are not replayed as history (the backtested strategy sends its own) but listed in `live`, with
 *   the number of historical commands sequenced before each — the positions the `recorded`
 *   latency model injects at. Every record with a gateway stamp (tsIn > 0) gives one stage-latency
 *   sample, tsInit − tsIn, for the `sampled` model. Two passes over the segments: a scan, then the
 *   stream.
 * - ClickHouse (`--from T --to T`): quotes and trades of [from, to), ordered by (ts, seq): each quote
 *   replaces a synthetic liquidity account's resting bid and ask (cancel, then new orders at the
 *   quoted best prices and sizes); each trade is an IOC of the aggressor's side at the trade price
 *   and quantity from a synthetic taker account. The book is therefore one level deep per side,
 *   and a strategy's better-priced resting order trades with those takers first. Loaded whole
 *   into memory before the run.
 * Layout: a chunk is `n` CMD records (32 B each, src/abi/records.ts) and `n` times (Float64Array, ns).
 * Invariants: times never decrease within a source (a journal's tsInit is monotone per engine
 * thread; a decrease is clamped to the previous time); `next` yields only records whose enum
 * fields are in range (the order-file readers check them).
 * Complexity: O(commands). Allocation: one chunk buffer per reader; the ClickHouse source holds
 * 32 B + 8 B per command.
 * Known limitations: the ClickHouse form is an approximation (top of book only, no queue
 * positions of the real participants); a journal's live-strategy commands are recognised by
 * account only.
 */
import { CMD_OFF, CMD_SIZE, ENUMS, RING_CMD_OFF } from '../../abi/records.js';
import { openOrderFile, type RecordSource } from '../../codec/tso.js';
import { TradsysError } from '../../domain/errors.js';
import { readRecords, listSegments } from '../../journal/recovery.js';
import type { Storage } from '../../storage/storage.js';

export interface LiveCommand {
  /** Historical commands sequenced before it (its injection point). */
  position: number;
  /** Its seq and tsInit in the live journal. */
  seq: number;
  tsNs: number;
  /** The CMD record (32 B). */
  cmd: Uint8Array;
}

export interface History {
  readonly description: string;
  /** Commands up front when known, else null. */
  readonly total: number | null;
  /** Up to `max` commands: CMD records to `cmds` (32 B each from 0), their times (ns) to `ts`. 0 at the end. */
  next(cmds: Uint8Array, ts: Float64Array, max: number): number;
  /** Fraction read, 0..1. */
  progress(): number;
  close(): void;
  /** The live strategy's own commands (journal input), in sequence order. */
  readonly live: readonly LiveCommand[];
  /** tsInit − tsIn of every journal record with a gateway stamp, ns (journal input), else null. */
  readonly latencySamples: Float64Array | null;
  /** The operation (ENUMS.Op) of each latency sample. */
  readonly latencyOps: Uint8Array | null;
}

export const DEFAULT_RATE = 100_000;
export const DEFAULT_START_MS = Date.UTC(2025, 0, 1);

export function orderFileHistory(path: string, rate = DEFAULT_RATE, startMs = DEFAULT_START_MS): History {
  if (!(rate > 0) || !Number.isFinite(rate)) throw new TradsysError('ERR_BACKTEST_CONFIG', `--rate must be a positive number of commands per second, got ${String(rate)}`);
  const src: RecordSource = openOrderFile(path);
  const stepNs = 1e9 / rate;
  const t0 = startMs * 1e6;
  let i = 0;
  return {
    description: `${path} (${src.total ?? '?'} commands, synthetic times: ${rate} commands/s from ${new Date(startMs).toISOString()})`,
    total: src.total,
    next(cmds, ts, max) {
      const n = src.next(cmds, max);
      for (let k = 0; k < n; k++) ts[k] = t0 + (i + k) * stepNs;
      i += n;
      return n;
    },
    progress: () => (src.total ? i / Math.max(1, src.total) : src.bytesRead / Math.max(1, src.bytesTotal)),
    close: () => src.close(),
    live: [],
    latencySamples: null,
    latencyOps: null,
  };
}

function cmdAccount(b: Uint8Array, off: number): number {
  return (b[off + CMD_OFF.account]! | (b[off + CMD_OFF.account + 1]! << 8) | (b[off + CMD_OFF.account + 2]! << 16) | (b[off + CMD_OFF.account + 3]! << 24)) >>> 0;
}

/** A journal folder; commands of `strategyAccount` are the live strategy's (see the header). */
export function journalHistory(dir: string, strategyAccount: number): History {
  if (listSegments(dir).length === 0) throw new TradsysError('ERR_BACKTEST_INPUT', `no journal segments in ${dir} (a serve --data DIR keeps them in DIR/journal)`);
  // pass 1: the live strategy's commands and the stage latencies
  const live: LiveCommand[] = [];
  const lat: number[] = [];
  const latOps: number[] = [];
  let hist = 0;
  let records = 0;
  for (const r of readRecords(dir, 1n, undefined, false, true)) {
    records++;
    const dv = new DataView(r.cmd.buffer, r.cmd.byteOffset, r.cmd.byteLength);
    const tsIn = dv.getBigInt64(RING_CMD_OFF.tsIn, true);
    const tsInit = Number(r.tsInit);
    if (tsIn > 0n && r.tsInit >= tsIn) { lat.push(Number(r.tsInit - tsIn)); latOps.push(r.cmd[CMD_OFF.op]!); } // exact: the difference before the conversion
    const op = r.cmd[CMD_OFF.op]!;
    if (op !== ENUMS.Op.ADMIN && cmdAccount(r.cmd, 0) === strategyAccount) {
      live.push({ position: hist, seq: Number(r.seq), tsNs: tsInit, cmd: r.cmd.slice(0, CMD_SIZE) });
    } else {
      hist++;
    }
  }
  if (records === 0) throw new TradsysError('ERR_BACKTEST_INPUT', `journal ${dir} has no records`);
  // pass 2: the stream
  let it: Iterator<{ cmd: Uint8Array; tsInit: bigint }> | null = null;
  let done = 0;
  let last = Number.NEGATIVE_INFINITY;
  return {
    description: `journal ${dir} (${records} records: ${hist} historical commands, ${live.length} of the strategy's account ${strategyAccount})`,
    total: hist,
    next(cmds, ts, max) {
      it ??= readRecords(dir, 1n, undefined, false, true)[Symbol.iterator]();
      let n = 0;
      while (n < max) {
        const x = it.next();
        if (x.done) break;
        const r = x.value;
        if (r.cmd[CMD_OFF.op] !== ENUMS.Op.ADMIN && cmdAccount(r.cmd, 0) === strategyAccount) continue;
        cmds.set(r.cmd.subarray(0, CMD_SIZE), n * CMD_SIZE);
        let t = Number(r.tsInit);
        if (t < last) t = last;
        last = t;
        ts[n++] = t;
      }
      done += n;
      return n;
    },
    progress: () => done / Math.max(1, hist),
    close: () => { it?.return?.(undefined); },
    live,
    latencySamples: Float64Array.from(lat),
    latencyOps: Uint8Array.from(latOps),
  };
}

/** Commands already in memory (the ClickHouse source; tests). */
export function arrayHistory(cmds: Uint8Array, ts: Float64Array, description: string): History {
  const total = ts.length;
  if (cmds.length !== total * CMD_SIZE) throw new TradsysError('ERR_BACKTEST_INPUT', `${description}: ${cmds.length} command bytes for ${total} times`);
  let i = 0;
  return {
    description, total,
    next(out, t, max) {
      const n = Math.min(max, total - i);
      out.set(cmds.subarray(i * CMD_SIZE, (i + n) * CMD_SIZE), 0);
      t.set(ts.subarray(i, i + n), 0);
      i += n;
      return n;
    },
    progress: () => i / Math.max(1, total),
    close: () => undefined,
    live: [],
    latencySamples: null,
    latencyOps: null,
  };
}

/** Synthetic accounts of the ClickHouse source (far above any real account a test or the demo uses). */
export const LIQUIDITY_ACCOUNT = 0xfffffff0;
export const TAKER_ACCOUNT = 0xfffffff1;

function writeCmd(dv: DataView, p: number, op: number, side: number, type: number, tif: number, symbol: number, id: number, price: number, qty: number, account: number): void {
  dv.setUint8(p + CMD_OFF.op, op);
  dv.setUint8(p + CMD_OFF.side, side);
  dv.setUint8(p + CMD_OFF.type, type);
  dv.setUint8(p + CMD_OFF.tif, tif);
  dv.setUint32(p + CMD_OFF.symbol, symbol, true);
  dv.setBigUint64(p + CMD_OFF.id, BigInt(id), true);
  dv.setBigInt64(p + CMD_OFF.price, BigInt(price), true);
  dv.setUint32(p + CMD_OFF.qty, qty, true);
  dv.setUint32(p + CMD_OFF.account, account, true);
}

interface QuoteRow { symbol: string; ts: string | number; seq: string | number; bid_price: string | number; bid_qty: string | number; ask_price: string | number; ask_qty: string | number }
interface TradeRow { symbol: string; ts: string | number; seq: string | number; price: string | number; qty: string | number; taker_side: string | number }

/**
 * Trades and quotes of [fromNs, toNs) from ClickHouse as commands (see the header). `symbols`
 * maps the stored symbol names to engine symbol ids; rows of other symbols are skipped.
 */
export async function clickHouseHistory(storage: Storage, symbols: readonly string[], fromNs: bigint, toNs: bigint): Promise<History> {
  if (toNs <= fromNs) throw new TradsysError('ERR_BACKTEST_CONFIG', '--to must be after --from');
  const params = { from: fromNs.toString(), to: toNs.toString() };
  const q = await storage.query<QuoteRow>(
    'SELECT symbol, ts, seq, bid_price, bid_qty, ask_price, ask_qty FROM quotes WHERE ts >= {from:Int64} AND ts < {to:Int64} ORDER BY ts, seq', { params });
  const t = await storage.query<TradeRow>(
    'SELECT symbol, ts, seq, price, qty, taker_side FROM trades WHERE ts >= {from:Int64} AND ts < {to:Int64} ORDER BY ts, seq, trade_id', { params });
  const sym = new Map(symbols.map((s, i) => [s, i] as const));
  type Ev = { ts: number; seq: number; k: 0 | 1; i: number };
  const evs: Ev[] = [];
  q.rows.forEach((r, i) => { if (sym.has(r.symbol)) evs.push({ ts: Number(r.ts), seq: Number(r.seq), k: 0, i }); });
  t.rows.forEach((r, i) => { if (sym.has(r.symbol)) evs.push({ ts: Number(r.ts), seq: Number(r.seq), k: 1, i }); });
  // by time, then engine seq, quotes of a seq after its trades (a quote row is the book after the command)
  evs.sort((a, b) => a.ts - b.ts || a.seq - b.seq || b.k - a.k || a.i - b.i);
  if (evs.length === 0) throw new TradsysError('ERR_BACKTEST_INPUT', `ClickHouse has no trades or quotes of ${symbols.join(', ')} in [${fromNs}, ${toNs})`);
  // at most 4 commands per quote (2 cancels, 2 new), 1 per trade
  const cap = q.rows.length * 4 + t.rows.length;
  const cmds = new Uint8Array(cap * CMD_SIZE);
  const ts = new Float64Array(cap);
  const dv = new DataView(cmds.buffer);
  const bidId = new Float64Array(symbols.length);
  const askId = new Float64Array(symbols.length);
  let id = 1;
  let n = 0;
  const push = (time: number, op: number, side: number, type: number, tif: number, s: number, oid: number, px: number, qty: number, acct: number): void => {
    writeCmd(dv, n * CMD_SIZE, op, side, type, tif, s, oid, px, qty, acct);
    ts[n++] = time;
  };
  for (const e of evs) {
    if (e.k === 0) {
      const r = q.rows[e.i]!;
      const s = sym.get(r.symbol)!;
      if (bidId[s]) push(e.ts, ENUMS.Op.CANCEL, 0, 0, 0, s, bidId[s]!, 0, 0, LIQUIDITY_ACCOUNT);
      if (askId[s]) push(e.ts, ENUMS.Op.CANCEL, 1, 0, 0, s, askId[s]!, 0, 0, LIQUIDITY_ACCOUNT);
      bidId[s] = 0; askId[s] = 0;
      const bq = Math.min(Number(r.bid_qty), 0xffffffff);
      const aq = Math.min(Number(r.ask_qty), 0xffffffff);
      if (Number(r.bid_price) > 0 && bq > 0) { bidId[s] = id; push(e.ts, ENUMS.Op.NEW, 0, 0, ENUMS.Tif.GTC, s, id++, Number(r.bid_price), bq, LIQUIDITY_ACCOUNT); }
      if (Number(r.ask_price) > 0 && aq > 0) { askId[s] = id; push(e.ts, ENUMS.Op.NEW, 1, 0, ENUMS.Tif.GTC, s, id++, Number(r.ask_price), aq, LIQUIDITY_ACCOUNT); }
    } else {
      const r = t.rows[e.i]!;
      const side = r.taker_side === 'sell' || r.taker_side === 1 || r.taker_side === '1' ? 1 : 0;
      push(e.ts, ENUMS.Op.NEW, side, 0, ENUMS.Tif.IOC, sym.get(r.symbol)!, id++, Number(r.price), Math.min(Number(r.qty), 0xffffffff), TAKER_ACCOUNT);
    }
  }
  return arrayHistory(cmds.slice(0, n * CMD_SIZE), ts.slice(0, n), `ClickHouse trades and quotes of [${fromNs}, ${toNs}) (${t.rows.length} trades, ${q.rows.length} quotes → ${n} commands)`);
}
