/**
 * Circuit-breaker benchmark: `node --import tsx bench/kernels/breakers.bench.ts [--rounds N]
 * [--reps R] [--json] [--out FILE]`.
 *
 * Workload (seed 16, mulberry32): `rounds` rounds of what a strategy runner asks of its breaker
 * for one order and of its symbol-velocity logic for one trade — checkNew (8 symbols, both sides,
 * prices 10,000 + 0..49 ticks, qty 1..3), onMessage, onAccepted (1 in 10 onRejected), onFill with
 * the order id, onPnl, onHookOk, takeTrip, SymbolVelocity.onTrade and paused — on a simulated
 * clock advancing 5 ms a round (200 orders/s; default limits except 250 orders/s and 500
 * messages/s, so nothing trips: the steady state). The clock reads a Float64Array (a `Date.now`
 * clock allocates per call; docs/strategies.md).
 * Reported: ns per round (median of `reps` timed runs after a warm-up run; CPU time too, since
 * other processes share the machine), rounds/s, and the distribution of ns/round over batches of
 * 10,000 rounds (p50/p99/p99.9 of the batch means: a timer cannot resolve one round); the ratio
 * to the plain reference (test/reference/breakers-ref.ts, every event kept and every window
 * scanned; timed on the first 20,000 rounds only, and quadratic, so the ratio grows with length).
 * Checked before reporting: the same 20,000 rounds through the breakers and the reference give
 * the same answers, states and trips; a second run with tight limits trips, and agrees too.
 */
import { cpus, loadavg } from 'node:os';
import { writeFileSync } from 'node:fs';
import { StrategyBreaker, SymbolVelocity, parseLimits, type BreakerLimits } from '../../src/strategies/breakers.js';
import { prng } from '../../src/workload/prng.js';
import { RefBreaker, RefVelocity } from '../../test/reference/breakers-ref.js';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: number): number => { const i = argv.indexOf(`--${name}`); return i >= 0 ? Number(argv[i + 1]) : dflt; };
const rounds = opt('rounds', 1_000_000);
const reps = opt('reps', 5);
const json = argv.includes('--json');
const outIdx = argv.indexOf('--out');
const outFile = outIdx >= 0 ? argv[outIdx + 1]! : null;
const SEED = 16;
const log = (s: string): void => { process.stderr.write(s + '\n'); };
const fail = (what: string): never => { log(`bench breakers: result check failed: ${what}`); process.exit(1); };

/** The seeded workload, drawn once: symbol, side, price offset, qty, rejected, pnl per round. */
function workload(n: number): { sym: Uint8Array; side: Uint8Array; px: Int32Array; qty: Uint8Array; rej: Uint8Array; pnl: Int32Array } {
  const r = prng(SEED);
  const w = { sym: new Uint8Array(n), side: new Uint8Array(n), px: new Int32Array(n), qty: new Uint8Array(n), rej: new Uint8Array(n), pnl: new Int32Array(n) };
  let pnl = 0;
  for (let i = 0; i < n; i++) {
    w.sym[i] = Math.floor(r() * 8); w.side[i] = r() < 0.5 ? 0 : 1; w.px[i] = 10_000 + Math.floor(r() * 50);
    w.qty[i] = 1 + Math.floor(r() * 3); w.rej[i] = r() < 0.1 ? 1 : 0;
    pnl += Math.floor(r() * 21) - 10; w.pnl[i] = pnl;
  }
  return w;
}

const LIMITS = parseLimits({ maxOrdersPerSec: 250, maxMessagesPerSec: 500 });
const VEL = { movePct: 3, windowMs: 5_000, pauseMs: 10_000 };
const clock = new Float64Array([1_700_000_000_000]);
const now = (): number => clock[0]!;

function runImpl(b: StrategyBreaker, v: SymbolVelocity, w: ReturnType<typeof workload>, from: number, to: number): number {
  let refused = 0;
  for (let i = from; i < to; i++) {
    clock[0]! += 5;
    const sym = w.sym[i]!, side = w.side[i]! as 0 | 1, px = w.px[i]!;
    if (b.checkNew(sym, side, px, w.qty[i]!, w.qty[i]!) !== null) refused++;
    b.onMessage();
    if (w.rej[i] === 1) b.onRejected(); else b.onAccepted();
    b.onFill(sym, side, px, w.qty[i]!, i);
    b.onPnl(w.pnl[i]!);
    b.onHookOk();
    if (b.takeTrip() !== null) refused++;
    if (v.onTrade(sym, px)) refused++;
    if (v.paused(sym)) refused++;
  }
  return refused;
}

/** Both implementations over the same rounds; every answer compared. Returns the trips seen. */
function verify(L: BreakerLimits, w: ReturnType<typeof workload>, n: number): number {
  clock[0] = 1_700_000_000_000;
  const b = new StrategyBreaker(L, now), r = new RefBreaker(L, now);
  const v = new SymbolVelocity(VEL, now), rv = new RefVelocity(VEL.movePct, VEL.windowMs, VEL.pauseMs, now);
  for (let i = 0; i < n; i++) {
    clock[0]! += 5;
    const sym = w.sym[i]!, side = w.side[i]! as 0 | 1, px = w.px[i]!;
    const a = b.checkNew(sym, side, px, w.qty[i]!, w.qty[i]!), c = r.checkNew(px, w.qty[i]!, w.qty[i]!, sym, side);
    if (a !== c) fail(`round ${i}: checkNew ${a} vs reference ${c}`);
    b.onMessage(); r.onMessage();
    if (w.rej[i] === 1) { b.onRejected(); r.outcome(true); } else { b.onAccepted(); r.outcome(false); }
    b.onHookOk(); r.onHookOk();
    b.onFill(sym, side, px, w.qty[i]!, i); r.onFill(sym, side, px, i);
    b.onPnl(w.pnl[i]!); r.onPnl(w.pnl[i]!);
    const ta = b.takeTrip(), tc = r.takeTrip();
    if ((ta?.reason ?? null) !== (tc?.reason ?? null)) fail(`round ${i}: trip ${ta?.reason} vs reference ${tc?.reason}`);
    if (v.onTrade(sym, px) !== rv.onTrade(sym, px) || v.paused(sym) !== rv.paused(sym)) fail(`round ${i}: velocity differs`);
    if (b.state !== r.getState()) fail(`round ${i}: state ${b.state} vs reference ${r.getState()}`);
    if (b.state === 'open' && i % 1000 === 999) {
      clock[0]! += L.cooldownMs;
      b.reset(); if (r.reset() !== 'ok') fail(`round ${i}: reference reset refused`);
    }
  }
  return b.snapshot().trips;
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };
const pct = (xs: number[], p: number): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!; };

const w = workload(rounds);
const VN = Math.min(20_000, rounds);
// the steady state (no trip) and a tight run (trips: reject ratio, repeats, duplicates, rates) agree with the reference
const steadyTrips = verify(LIMITS, w, VN);
if (steadyTrips !== 0) fail(`the steady workload tripped ${steadyTrips} times`);
const tightTrips = verify(parseLimits({ maxOrdersPerSec: 150, maxMessagesPerSec: 180, maxRepeatedExecutions: 3, maxDuplicateOrders: 2, maxDrawdown: 300, maxRejectRatio: 0.12, minOrdersForRejectRatio: 50, cooldownMs: 1_000, halfOpenMs: 2_000 }), w, VN);
if (tightTrips === 0) fail('the tight limits never tripped');

// timing
const BATCH = 10_000;
const nsPerRound: number[] = [], cpuPerRound: number[] = [], batchNs: number[] = [];
for (let rep = -1; rep < reps; rep++) {
  clock[0] = 1_700_000_000_000;
  const b = new StrategyBreaker(LIMITS, now), v = new SymbolVelocity(VEL, now);
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  let refused = 0;
  for (let i = 0; i < rounds; i += BATCH) {
    const tb = process.hrtime.bigint();
    refused += runImpl(b, v, w, i, Math.min(rounds, i + BATCH));
    if (rep >= 0) batchNs.push(Number(process.hrtime.bigint() - tb) / Math.min(BATCH, rounds - i));
  }
  const ns = Number(process.hrtime.bigint() - t0);
  const cu = process.cpuUsage(c0);
  if (refused !== 0) fail(`${refused} refusals or trips in the steady workload`);
  if (rep >= 0) { nsPerRound.push(ns / rounds); cpuPerRound.push(((cu.user + cu.system) * 1000) / rounds); }
}
// the reference on the first VN rounds
clock[0] = 1_700_000_000_000;
const rb = new RefBreaker(LIMITS, now), rv = new RefVelocity(VEL.movePct, VEL.windowMs, VEL.pauseMs, now);
const tr0 = process.hrtime.bigint();
for (let i = 0; i < VN; i++) {
  clock[0]! += 5;
  const sym = w.sym[i]!, side = w.side[i]!, px = w.px[i]!;
  rb.checkNew(px, w.qty[i]!, w.qty[i]!, sym, side); rb.onMessage(); rb.outcome(w.rej[i] === 1); rb.onFill(sym, side, px, i); rb.onPnl(w.pnl[i]!); rb.onHookOk(); rb.takeTrip();
  rv.onTrade(sym, px); rv.paused(sym);
}
const refNs = Number(process.hrtime.bigint() - tr0) / VN;
clock[0] = 1_700_000_000_000;
const ib = new StrategyBreaker(LIMITS, now), iv = new SymbolVelocity(VEL, now);
runImpl(ib, iv, w, 0, VN); // warm
clock[0] = 1_700_000_000_000;
const ib2 = new StrategyBreaker(LIMITS, now), iv2 = new SymbolVelocity(VEL, now);
const ti0 = process.hrtime.bigint();
runImpl(ib2, iv2, w, 0, VN);
const implPrefixNs = Number(process.hrtime.bigint() - ti0) / VN;

const result = {
  bench: 'breakers', date: new Date().toISOString(), node: process.version, cpu: cpus()[0]?.model ?? '?', cores: cpus().length, loadavg: loadavg(),
  seed: SEED, rounds, reps, workload: 'per round: checkNew, onMessage, onAccepted|onRejected (10 %), onFill, onPnl, onHookOk, takeTrip, SymbolVelocity.onTrade, paused; clock +5 ms',
  nsPerRound: median(nsPerRound), cpuNsPerRound: median(cpuPerRound), roundsPerSec: Math.round(1e9 / median(nsPerRound)),
  batchNsPerRound: { p50: pct(batchNs, 50), p99: pct(batchNs, 99), p999: pct(batchNs, 99.9), batch: BATCH },
  reference: { rounds: VN, nsPerRound: refNs, implNsPerRound: implPrefixNs, ratio: refNs / implPrefixNs },
  checked: { rounds: VN, steadyTrips, tightTrips },
};
log(`breakers: ${rounds.toLocaleString('en-US')} rounds × ${reps} reps (seed ${SEED}, ${result.cpu}, ${result.cores} cores, load ${loadavg().map((x) => x.toFixed(1)).join(' ')})`);
log(`  ns/round      median ${result.nsPerRound.toFixed(1)} (CPU ${result.cpuNsPerRound.toFixed(1)}) · ${result.roundsPerSec.toLocaleString('en-US')} rounds/s`);
log(`  batches of ${BATCH}: p50 ${result.batchNsPerRound.p50.toFixed(1)} · p99 ${result.batchNsPerRound.p99.toFixed(1)} · p99.9 ${result.batchNsPerRound.p999.toFixed(1)} ns/round`);
log(`  reference (first ${VN} rounds): ${refNs.toFixed(0)} ns/round vs ${implPrefixNs.toFixed(1)} → ${result.reference.ratio.toFixed(0)}×`);
log(`  checked against the reference: ${VN} rounds steady (0 trips) and tight (${tightTrips} trips)`);
if (json) process.stdout.write(JSON.stringify(result) + '\n');
if (outFile) writeFileSync(outFile, JSON.stringify(result, null, 2) + '\n');
