/**
 * `resultHash`: SHA-256 over a canonical serialization of a backtest's result — the strategy's
 * sequenced commands, its fills and the summary figures (docs/strategies.md "Backtests",
 * determinism).
 *
 * Layout (UTF-8 text, hashed in this order):
 *   `tradsys-backtest-v1\n`
 *   one line per command: `O,seq,op,side,type,tif,symbol,id,price,qty\n`
 *   one line per fill: `F,seq,tradeId,orderId,symbol,side,price,qty,m|t,fee\n`
 *   `S,` + the canonical JSON of the summary (object keys sorted, numbers as JavaScript prints
 *   them: the shortest text that reads back as the same double) + `\n`.
 * Simulated times are left out: they follow from the input and the sequence, and a change of
 * synthetic rate that changes nothing the strategy did should not change the hash (the fills'
 * seq does change when the interleaving does).
 * Invariants: the same rows and summary give the same hash on every machine (no wall clock,
 * no Map order: only arrays and sorted keys). Complexity: O(rows). Allocation: one line string per row.
 * Known limitations: none.
 */
import { createHash, type Hash } from 'node:crypto';
import type { FillRow, OrderRow } from './report.js';

/** JSON with object keys sorted at every level (arrays keep their order); NaN/±∞ become null. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') {
    if (typeof v === 'number' && !Number.isFinite(v)) return 'null';
    return JSON.stringify(v) ?? 'null';
  }
  if (Array.isArray(v)) return '[' + v.map(canonicalJson).join(',') + ']';
  const o = v as Record<string, unknown>;
  return '{' + Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => JSON.stringify(k) + ':' + canonicalJson(o[k])).join(',') + '}';
}

/** SHA-256 of the header and the O and F lines alone (no summary): comparable with a live run's rows. */
export function ordersFillsHash(orders: readonly OrderRow[], fills: readonly FillRow[]): string {
  const h = createHash('sha256');
  h.update('tradsys-backtest-v1\n');
  rows(h, orders, fills);
  return h.digest('hex');
}

export function resultHash(orders: readonly OrderRow[], fills: readonly FillRow[], summary: unknown): string {
  const h = createHash('sha256');
  h.update('tradsys-backtest-v1\n');
  rows(h, orders, fills);
  h.update('S,' + canonicalJson(summary) + '\n');
  return h.digest('hex');
}

function rows(h: Hash, orders: readonly OrderRow[], fills: readonly FillRow[]): void {
  const CHUNK = 4096;
  let buf: string[] = [];
  for (const o of orders) {
    buf.push(`O,${o.seq},${o.op},${o.side},${o.type},${o.tif},${o.symbol},${o.id},${o.price},${o.qty}\n`);
    if (buf.length >= CHUNK) { h.update(buf.join('')); buf = []; }
  }
  for (const f of fills) {
    buf.push(`F,${f.seq},${f.tradeId},${f.orderId},${f.symbol},${f.side},${f.price},${f.qty},${f.liquidity === 'maker' ? 'm' : 't'},${f.fee}\n`);
    if (buf.length >= CHUNK) { h.update(buf.join('')); buf = []; }
  }
  h.update(buf.join(''));
}
