/**
 * Streaming statistics blocks in linear memory: running (Welford), rolling (shifted sums over a
 * ring), rolling pairs, EWMA and pair monitors, updated one value at a time or from a batch of
 * ticks with one call.
 *
 * Layout: a block is an array of f64 slots at a 16-byte aligned address (the TS side allocates
 * them from the stats arena and reads results straight from these slots):
 * ```
 * RUNNING  [0] kind=1 · [1] n · [2] mean − K · [3] M2 · [4] K (the first value)
 * ROLLING  [0] kind=2 · bytes 8..19: window i32 · count i32 · head i32 · [5] K (shift) · [6] S1 = Σ(x-K) ·
 *          [7] S2 = Σ(x-K)² · ring[window] from slot 16 (newest at head − 1)
 * PAIR     [0] kind=3 · bytes 8..19: window i32 · count i32 · head i32 · [5] Kx · [6] Ky · [7] Sx · [8] Sy ·
 *          [9] Sxx · [10] Syy · [11] Sxy · ring of (x, y) pairs [window] from slot 16
 * EWMA     [0] kind=4 · [1] alpha · [2] n · [3] mean · [4] variance
 * PAIRMON  [0] kind=5 · [1] pair block · [2] spread ROLLING block · [3] half-life PAIR block ·
 *          [4] previous spread · [5] has previous · [6] newest spread · [7] updates
 * TICKS    three parallel arrays (batch input): ids u32[n] · xs f64[n] · ys f64[n]
 * ```
 * Invariants: rolling sums are kept about a shift K and recomputed exactly (two-pass, K = the
 * window mean) every time the ring wraps, i.e. every `window` pushes, so add/remove drift is bounded by one window of updates
 * and prices around 1e9 with tiny moves keep full precision; every deviation (z-scores, the pair
 * monitor's spread) is taken in the shifted frame, (x − K) − S1/n, never as x − mean with an
 * absolute mean (which loses the digits of a tiny move at 1e9). Running stats use Welford's update
 * and Chan's merge. Complexity: O(1) amortised per update. Allocation: none.
 * Known limitations: blocks do not check their kind on the single-value paths (the TS wrappers
 * own the pointers); the batch path dispatches on the kind slot.
 */

import { statsMeanVar } from './kernels';

@inline const K_RUNNING: f64 = 1;
@inline const K_ROLLING: f64 = 2;
@inline const K_PAIR: f64 = 3;
@inline const K_EWMA: f64 = 4;
@inline const K_PAIRMON: f64 = 5;
@inline const RING: usize = 16 << 3;
// rolling and pair headers keep their integers as i32 in slots 1–2
@inline const H_W: u32 = 8;
@inline const H_CNT: u32 = 12;
@inline const H_HEAD: u32 = 16;

@inline function f(p: usize, slot: u32): f64 { return load<f64>(p + (<usize>slot << 3)); }
@inline function set(p: usize, slot: u32, v: f64): void { store<f64>(p + (<usize>slot << 3), v); }

// ── running ────────────────────────────────────────────────────────────────────────────────
// Welford's update in a shifted frame: values are taken relative to K (the first value), so the
// running mean stays small and x − mean keeps full precision even at a 1e9 level (textbook
// Welford on raw prices loses digits in the mean).
export function statsRunInit(p: usize): void { set(p, 0, K_RUNNING); set(p, 1, 0); set(p, 2, 0); set(p, 3, 0); set(p, 4, 0); }

export function statsRunPush(p: usize, x: f64): void {
  let n = f(p, 1);
  if (n == 0) set(p, 4, x);
  const y = x - f(p, 4);
  n += 1;
  const mean = f(p, 2);
  const d = y - mean;
  const m = mean + d / n;
  set(p, 1, n);
  set(p, 2, m);
  set(p, 3, f(p, 3) + d * (y - m));
}

/**
 * Merges a summary (n, mean, M2) into the block (Chan et al.). The summary's mean is given in a
 * frame shifted by `kb` (mean = kb + mb, mb small), and it is moved into the block's frame as
 * (kb − K) + mb, never through an absolute mean (which keeps only half an ulp of 1e9).
 */
@inline function runMergeSummary(p: usize, nb: f64, kb: f64, mb: f64, m2b: f64): void {
  if (nb == 0) return;
  const na = f(p, 1);
  if (na == 0) { set(p, 1, nb); set(p, 4, kb); set(p, 2, mb); set(p, 3, m2b); return; }
  const n = na + nb;
  const d = ((kb - f(p, 4)) + mb) - f(p, 2);
  set(p, 2, f(p, 2) + d * nb / n);
  set(p, 3, f(p, 3) + m2b + d * d * na * nb / n);
  set(p, 1, n);
}

export function statsRunMerge(p: usize, q: usize): void { runMergeSummary(p, f(q, 1), f(q, 4), f(q, 2), f(q, 3)); }

/**
 * Pushes n values: M2 of the batch from the SIMD two-pass kernel (kernels.ts), its mean as
 * Σ(x − K)/n in the block's frame (K = the block's shift, or the batch's first value), then merged.
 */
export function statsRunPushMany(p: usize, xs: usize, n: i32, tmp: usize): void {
  if (n <= 0) return;
  statsMeanVar(xs, n, tmp);
  const k = f(p, 1) == 0 ? load<f64>(xs) : f(p, 4);
  let s: f64 = 0;
  for (let i = 0; i < n; i++) s += load<f64>(xs + (<usize>i << 3)) - k;
  runMergeSummary(p, <f64>n, k, s / <f64>n, load<f64>(tmp, 8));
}

// ── rolling ────────────────────────────────────────────────────────────────────────────────
export function statsRollInit(p: usize, window: i32): void {
  memory.fill(p, 0, RING + (<usize>window << 3));
  set(p, 0, K_ROLLING);
  store<i32>(p, window, H_W);
}

/**
 * Exact recompute of the rolling sums from the ring, in one pass about the current shift K (which
 * is close to the window mean, so the pass is accurate); then K moves to about the new mean,
 * K' = K + S1/n, with Δ = K' − K (exact) carried into the sums: S1' = S1 − nΔ,
 * S2' = S2 − 2ΔS1 + nΔ².
 */
function rollRecompute(p: usize): void {
  const cnt = load<i32>(p, H_CNT);
  const ring = p + RING;
  const k = f(p, 5);
  let s1: f64 = 0;
  let s2: f64 = 0;
  for (let i = 0; i < cnt; i++) {
    const d = load<f64>(ring + (<usize>i << 3)) - k;
    s1 += d;
    s2 += d * d;
  }
  const n = <f64>cnt;
  // move K to (about) the mean; Δ = K' − K is exact, and the sums follow it exactly
  const k2 = k + s1 / n;
  const dk = k2 - k;
  set(p, 5, k2);
  set(p, 6, s1 - n * dk);
  set(p, 7, s2 - 2 * dk * s1 + n * dk * dk);
}

export function statsRollPush(p: usize, x: f64): void {
  const w = load<i32>(p, H_W);
  let cnt = load<i32>(p, H_CNT);
  let head = load<i32>(p, H_HEAD);
  const ring = p + RING;
  const k = cnt == 0 ? x : f(p, 5);
  if (cnt == 0) set(p, 5, x);
  let s1 = f(p, 6);
  let s2 = f(p, 7);
  if (cnt == w) {
    const old = load<f64>(ring + (<usize>head << 3)) - k;
    s1 -= old;
    s2 -= old * old;
  } else {
    cnt++;
  }
  const d = x - k;
  s1 += d;
  s2 += d * d;
  store<f64>(ring + (<usize>head << 3), x);
  head++;
  if (head == w) head = 0;
  store<i32>(p, cnt, H_CNT);
  store<i32>(p, head, H_HEAD);
  set(p, 6, s1);
  set(p, 7, s2);
  // exact recompute each time the ring wraps (every `window` pushes): drift stays bounded
  if (head == 0) rollRecompute(p);
}

export function statsRollPushMany(p: usize, xs: usize, n: i32): void {
  for (let i = 0; i < n; i++) statsRollPush(p, load<f64>(xs + (<usize>i << 3)));
}

// ── rolling pair ───────────────────────────────────────────────────────────────────────────
export function statsPairInit(p: usize, window: i32): void {
  memory.fill(p, 0, RING + (<usize>window << 4));
  set(p, 0, K_PAIR);
  store<i32>(p, window, H_W);
}

/** As rollRecompute, for the five pair sums. */
function pairRecompute(p: usize): void {
  const cnt = load<i32>(p, H_CNT);
  const ring = p + RING;
  const kx = f(p, 5);
  const ky = f(p, 6);
  let a: f64 = 0, b: f64 = 0, xx: f64 = 0, yy: f64 = 0, xy: f64 = 0;
  for (let i = 0; i < cnt; i++) {
    const dx = load<f64>(ring + (<usize>i << 4)) - kx;
    const dy = load<f64>(ring + (<usize>i << 4), 8) - ky;
    a += dx; b += dy; xx += dx * dx; yy += dy * dy; xy += dx * dy;
  }
  const n = <f64>cnt;
  const kx2 = kx + a / n;
  const ky2 = ky + b / n;
  const ex = kx2 - kx;
  const ey = ky2 - ky;
  set(p, 5, kx2); set(p, 6, ky2);
  set(p, 7, a - n * ex); set(p, 8, b - n * ey);
  set(p, 9, xx - 2 * ex * a + n * ex * ex);
  set(p, 10, yy - 2 * ey * b + n * ey * ey);
  set(p, 11, xy - ex * b - ey * a + n * ex * ey);
}

export function statsPairPush(p: usize, x: f64, y: f64): void {
  const w = load<i32>(p, H_W);
  let cnt = load<i32>(p, H_CNT);
  let head = load<i32>(p, H_HEAD);
  const slot = p + RING + (<usize>head << 4); // (x, y) pairs interleaved: one cache line per push
  if (cnt == 0) { set(p, 5, x); set(p, 6, y); }
  const kx = f(p, 5);
  const ky = f(p, 6);
  let sx = f(p, 7), sy = f(p, 8), sxx = f(p, 9), syy = f(p, 10), sxy = f(p, 11);
  if (cnt == w) {
    const ox = load<f64>(slot) - kx;
    const oy = load<f64>(slot, 8) - ky;
    sx -= ox; sy -= oy; sxx -= ox * ox; syy -= oy * oy; sxy -= ox * oy;
  } else {
    cnt++;
  }
  const dx = x - kx;
  const dy = y - ky;
  sx += dx; sy += dy; sxx += dx * dx; syy += dy * dy; sxy += dx * dy;
  store<f64>(slot, x);
  store<f64>(slot, y, 8);
  head++;
  if (head == w) head = 0;
  store<i32>(p, cnt, H_CNT);
  store<i32>(p, head, H_HEAD);
  set(p, 7, sx); set(p, 8, sy); set(p, 9, sxx); set(p, 10, syy); set(p, 11, sxy);
  if (head == 0) pairRecompute(p);
}

// ── EWMA ───────────────────────────────────────────────────────────────────────────────────
export function statsEwmaInit(p: usize, alpha: f64): void {
  set(p, 0, K_EWMA); set(p, 1, alpha); set(p, 2, 0); set(p, 3, NaN); set(p, 4, NaN);
}

/** pandas ewm(alpha, adjust=False): mean, and the bias=True variance (West's recursion). */
export function statsEwmaPush(p: usize, x: f64): void {
  const n = f(p, 2);
  if (n == 0) { set(p, 2, 1); set(p, 3, x); set(p, 4, 0); return; }
  const a = f(p, 1);
  const m = f(p, 3);
  const d = x - m;
  const inc = a * d;
  set(p, 3, m + inc);
  set(p, 4, (1 - a) * (f(p, 4) + d * inc));
  set(p, 2, n + 1);
}

// ── pair monitor ───────────────────────────────────────────────────────────────────────────
export function statsPmInit(p: usize, pair: usize, spread: usize, half: usize): void {
  set(p, 0, K_PAIRMON); set(p, 1, <f64>pair); set(p, 2, <f64>spread); set(p, 3, <f64>half);
  set(p, 4, 0); set(p, 5, 0); set(p, 6, NaN); set(p, 7, 0);
}

/** Hedge ratio from the rolling pair, spread = y − (α + βx) (computed about the pair's shift) fed
 * to the spread window and, as (s[t-1], s[t] − s[t-1]), to the half-life regression. O(1). */
export function statsPmPush(p: usize, x: f64, y: f64): void {
  const pair = <usize>f(p, 1);
  statsPairPush(pair, x, y);
  set(p, 7, f(p, 7) + 1);
  const n = <f64>load<i32>(pair, H_CNT);
  const sxx = f(pair, 9) - f(pair, 7) * f(pair, 7) / n;
  if (n < 2 || !(sxx > 0)) { set(p, 6, NaN); return; }
  const sxy = f(pair, 11) - f(pair, 7) * f(pair, 8) / n;
  const beta = sxy / sxx;
  // spread y − (α + βx) = (y − ȳ) − β(x − x̄), taken in the shifted frame: (y − Ky) − Sy/n etc.
  // (x − Kx is exact near Kx; the absolute means and α would lose a tiny spread's digits at 1e9)
  const s = ((y - f(pair, 6)) - f(pair, 8) / n) - beta * ((x - f(pair, 5)) - f(pair, 7) / n);
  set(p, 6, s);
  statsRollPush(<usize>f(p, 2), s);
  if (f(p, 5) != 0) statsPairPush(<usize>f(p, 3), f(p, 4), s - f(p, 4));
  set(p, 4, s);
  set(p, 5, 1);
}

// ── batches ────────────────────────────────────────────────────────────────────────────────
/**
 * Applies `n` ticks to the blocks whose addresses are in the u32 table `table` (`count` entries):
 * tick i is (ids[i] u32, xs[i] f64, ys[i] f64), three parallel arrays the host fills in place.
 * Returns the number of ticks applied, or -(i+1) for the first tick whose id is out of range —
 * nothing from it on is applied.
 */
export function statsBatch(table: usize, count: u32, ids: usize, xs: usize, ys: usize, n: i32): i32 {
  for (let i = 0; i < n; i++) {
    const id = load<u32>(ids + (<usize>i << 2));
    if (id >= count) return -(i + 1);
    const p = <usize>load<u32>(table + (<usize>id << 2));
    const x = load<f64>(xs + (<usize>i << 3));
    const kind = f(p, 0);
    if (kind == K_RUNNING) statsRunPush(p, x);
    else if (kind == K_ROLLING) statsRollPush(p, x);
    else if (kind == K_PAIR) statsPairPush(p, x, load<f64>(ys + (<usize>i << 3)));
    else if (kind == K_EWMA) statsEwmaPush(p, x);
    else if (kind == K_PAIRMON) statsPmPush(p, x, load<f64>(ys + (<usize>i << 3)));
  }
  return n;
}
