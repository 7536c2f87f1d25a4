/**
 * `tradsys replay`: runs an order stream (.tso or .csv) through the WASM engine and writes
 * DESIGN's event and book CSV files.
 *
 * Owns: the replay loop, its summary and progress reporting.
 * Invariants: events are written in engine order, one line each, no header; the book file lists
 * the final resting orders in canonical order. Complexity: O(commands + events).
 * Allocation: one output string per outbox fill (records are read into the engine's inbox).
 * Start-up: the engine's start is O(1) in its capacity (docs/engine.md), so a whole `tradsys
 * replay` process costs little more than its loop (bench/README.md, "Engine start").
 * Known limitations: progress goes to stderr at most once a second.
 */
import { closeSync, openSync } from 'node:fs';
import { EVT_SIZE } from '../abi/records.js';
import { evtType } from '../abi/views.js';
import { TradsysError } from '../domain/errors.js';
import { bookLine } from '../domain/types.js';
import { Engine, eventLineAt, type StpMode } from '../engine/engine.js';
import { openOrderFile } from '../codec/tso.js';
import { writeAll } from './io.js';

export interface ReplayOptions {
  symbols: number;
  input: string;
  events?: string | null; // path or '-' for stdout
  book?: string | null;
  capacity?: number | null;
  stp?: StpMode;
  /** Called with a progress line at most once a second (stderr in the CLI). */
  progress?: (line: string) => void;
}

export interface ReplaySummary {
  commands: number;
  events: number;
  byType: Record<'A' | 'R' | 'T' | 'X' | 'M', number>;
  resting: number;
  seconds: number;
  commandsPerSecond: number;
  stateHash: bigint;
}

const CHUNK = 8192;

function openOut(path: string): number {
  if (path === '-') return 1;
  try {
    return openSync(path, 'w');
  } catch (e) {
    throw new TradsysError('ERR_IO', `cannot write ${path}: ${(e as Error).message}`, { cause: e });
  }
}

export function replay(o: ReplayOptions): ReplaySummary {
  if (!Number.isInteger(o.symbols) || o.symbols < 1 || o.symbols > 1 << 20) {
    throw new TradsysError('ERR_CLI_USAGE', `--symbols must be an integer in [1, 1048576], got ${String(o.symbols)}`);
  }
  const src = openOrderFile(o.input);
  let evFd = -1;
  let bookFd = -1;
  try {
    // capacity: enough for every order of the file to rest, so `capacity` never changes the outcome
    const capacity = o.capacity ?? Math.max(1024, Math.min(src.total ?? Math.ceil(src.bytesTotal / 16), 1 << 24));
    const engine = new Engine({ symbols: o.symbols, capacity, inboxCapacity: CHUNK });
    if (o.stp && o.stp !== 'none') for (let s = 0; s < o.symbols; s++) engine.setSelfTradePrevention(s, o.stp);
    evFd = o.events ? openOut(o.events) : -1;
    const byType = { A: 0, R: 0, T: 0, X: 0, M: 0 };
    const counts = new Uint32Array(256);
    const t0 = process.hrtime.bigint();
    let last = Date.now();
    let commands = 0;
    let events = 0;
    const sink = evFd >= 0
      ? (v: DataView, _b: Uint8Array, k: number): void => {
        const lines = new Array<string>(k);
        for (let i = 0; i < k; i++) {
          counts[evtType(v, i * EVT_SIZE)]!++;
          lines[i] = eventLineAt(v, i * EVT_SIZE);
        }
        writeAll(evFd, lines.join('\n') + '\n');
      }
      : (v: DataView, _b: Uint8Array, k: number): void => {
        for (let i = 0; i < k; i++) counts[evtType(v, i * EVT_SIZE)]!++;
      };
    for (;;) {
      // records are read (and checked) straight into the engine's inbox: no copy
      const n = src.next(engine.inbox, CHUNK);
      if (n === 0) break;
      events += engine.runInbox(n, sink);
      commands += n;
      if (o.progress && Date.now() - last >= 1000) {
        last = Date.now();
        const pct = src.total ? (100 * commands) / src.total : (100 * src.bytesRead) / Math.max(1, src.bytesTotal);
        o.progress(`replay: ${pct.toFixed(1)}% (${commands.toLocaleString('en-US')} commands, ${events.toLocaleString('en-US')} events)`);
      }
    }
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (o.book) {
      bookFd = openOut(o.book);
      const lines: string[] = [];
      for (const r of engine.orders()) {
        lines.push(bookLine(r));
        if (lines.length >= 65536) { writeAll(bookFd, lines.join('\n') + '\n'); lines.length = 0; }
      }
      if (lines.length > 0) writeAll(bookFd, lines.join('\n') + '\n');
    }
    byType.A = counts[65]!; byType.R = counts[82]!; byType.T = counts[84]!; byType.X = counts[88]!; byType.M = counts[77]!;
    return {
      commands, events, byType, resting: engine.memoryStats().orders.inUse, seconds,
      commandsPerSecond: commands / Math.max(seconds, 1e-9), stateHash: engine.stateHash(),
    };
  } finally {
    src.close();
    if (evFd > 2) closeSync(evFd);
    if (bookFd > 2) closeSync(bookFd);
  }
}

export function formatSummary(s: ReplaySummary, input: string): string {
  const f = (n: number): string => n.toLocaleString('en-US');
  return [
    `replay: ${f(s.commands)} commands from ${input} in ${s.seconds.toFixed(3)} s (${(s.commandsPerSecond / 1e6).toFixed(2)} M commands/s)`,
    `events: ${f(s.events)} (A ${f(s.byType.A)} · R ${f(s.byType.R)} · T ${f(s.byType.T)} · X ${f(s.byType.X)} · M ${f(s.byType.M)})`,
    `resting orders: ${f(s.resting)} · state hash 0x${s.stateHash.toString(16).padStart(16, '0')}`,
  ].join('\n');
}
