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
 * and Chan's merge. Batch paths (one block, many values): RunningStats as chunk summaries from
 * the SIMD shifted two-pass kernel merged by Chan's formula; rolling blocks as batch sums plus
 * evictions (only the last `window` values of a longer batch are read), with an exact recompute
 * when the ring wraps; pair monitors as a regression batch plus window + 1 single steps.
 * Complexity: O(1) amortised per update; O(batch) or O(window) per batch. Allocation: none.
 * Known limitations: blocks do not check their kind on the single-value paths (the TS wrappers
 * own the pointers); the batch path dispatches on the kind slot.
 */

import { pairShiftSums, shiftDev, shiftSum, statsShiftMeanVar } from './kernels';

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

/** Batch summary scratch (static data, 16-byte aligned): kernel outputs of the batch paths. */
const batchTmp: usize = memory.data(48, 16);

/**
 * Batch path of RunningStats, in three calls so that a batch is applied whole or not at all:
 * `statsRunBatchBegin(acc, p, x0)` starts a summary at `acc` (a RUNNING block) in the frame of
 * block p (its shift K, or the batch's first value x0 for an empty block, as the per-value path
 * takes it); `statsRunBatchAdd(acc, xs, n)` reduces a chunk with the SIMD shifted two-pass kernel
 * (mean − K and M2 in the block's frame) and Chan-merges it into the summary; `statsRunBatchEnd(p,
 * acc)` merges the summary into the block. Chunks sized for L1 keep both passes in cache.
 */
export function statsRunBatchBegin(acc: usize, p: usize, x0: f64): void {
  statsRunInit(acc);
  set(acc, 4, f(p, 1) == 0 ? x0 : f(p, 4));
}

/** Returns 1, or 0 (the summary unchanged) when the chunk's sums are not finite: a NaN or ±Inf
 * among its values, or finite values so large that their squares overflow. */
export function statsRunBatchAdd(acc: usize, xs: usize, n: i32): i32 {
  if (n <= 0) return 1;
  const k = f(acc, 4);
  statsShiftMeanVar(xs, n, k, batchTmp);
  const mb = load<f64>(batchTmp);
  const m2b = load<f64>(batchTmp, 8);
  if (!isFinite(mb) || !isFinite(m2b)) return 0;
  runMergeSummary(acc, <f64>n, k, mb, m2b);
  return 1;
}

export function statsRunBatchEnd(p: usize, acc: usize): void { statsRunMerge(p, acc); }

/** The per-value path over n values (for batches whose sums overflow: same numbers as push). */
export function statsRunPushEach(p: usize, xs: usize, n: i32): void {
  for (let i = 0; i < n; i++) statsRunPush(p, load<f64>(xs + (<usize>i << 3)));
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

/**
 * Exact sums of a rolling block's window (slots 0..count−1 of the ring, in any order): K = pivot +
 * Σ(x − pivot)/n (the pivot is a value of the window, so K lands near the window mean), then
 * S1 = Σ(x − K) and S2 = Σ(x − K)² in one SIMD pass.
 */
function rollExact(p: usize, pivot: f64): void {
  const cnt = load<i32>(p, H_CNT);
  const ring = p + RING;
  const k = pivot + shiftSum(ring, cnt, pivot) / <f64>cnt;
  shiftDev(ring, cnt, k, batchTmp);
  set(p, 5, k);
  set(p, 6, load<f64>(batchTmp));
  set(p, 7, load<f64>(batchTmp, 8));
}

/**
 * Pushes a batch of m values, of which the host passes only the last k = min(m, window) at xs
 * (older ones would be evicted within the batch). m ≥ window: the window is those k values, laid
 * into the ring where the per-value path would have put them, summed exactly. m < window: the
 * batch's shifted sums (SIMD) are added, the evicted oldest values' sums subtracted, the values
 * copied into the ring; if the ring wrapped, an exact recompute follows (as the per-value path
 * does at each wrap). Same ring, count and head as m pushes; sums equal to rounding.
 */
export function statsRollPushMany(p: usize, xs: usize, k: i32, m: i32): void {
  if (m <= 0) return;
  const w = load<i32>(p, H_W);
  const cnt = load<i32>(p, H_CNT);
  const head = load<i32>(p, H_HEAD);
  const ring = p + RING;
  if (m >= w) {
    // xs[0] is batch value m − w, which the per-value path puts at slot (head + m − w) mod w
    const s0 = (head + (m - w) % w) % w;
    memory.copy(ring + (<usize>s0 << 3), xs, <usize>(w - s0) << 3);
    memory.copy(ring, xs + (<usize>(w - s0) << 3), <usize>s0 << 3);
    store<i32>(p, w, H_CNT);
    store<i32>(p, s0, H_HEAD);
    rollExact(p, load<f64>(xs + (<usize>(w - 1) << 3)));
    return;
  }
  if (cnt == 0) set(p, 5, load<f64>(xs));
  const kk = f(p, 5);
  shiftDev(xs, m, kk, batchTmp);
  let s1 = f(p, 6) + load<f64>(batchTmp);
  let s2 = f(p, 7) + load<f64>(batchTmp, 8);
  const e = cnt + m - w; // evictions: the e oldest values, from slot (head − cnt) mod w
  if (e > 0) {
    const start = (head - cnt + w) % w;
    const first = min(e, w - start);
    shiftDev(ring + (<usize>start << 3), first, kk, batchTmp);
    s1 -= load<f64>(batchTmp); s2 -= load<f64>(batchTmp, 8);
    if (first < e) {
      shiftDev(ring, e - first, kk, batchTmp);
      s1 -= load<f64>(batchTmp); s2 -= load<f64>(batchTmp, 8);
    }
  }
  const first = min(m, w - head);
  memory.copy(ring + (<usize>head << 3), xs, <usize>first << 3);
  if (first < m) memory.copy(ring, xs + (<usize>first << 3), <usize>(m - first) << 3);
  store<i32>(p, min(w, cnt + m), H_CNT);
  store<i32>(p, (head + m) % w, H_HEAD);
  set(p, 6, s1);
  set(p, 7, s2);
  if (head + m >= w) rollExact(p, load<f64>(xs + (<usize>(m - 1) << 3)));
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

/** Σdx, Σdy, Σdx², Σdy², Σdxdy about (kx, ky) over ring slots [from, to) → batchTmp[0..4]. */
function pairRingSums(ring: usize, from: i32, to: i32, kx: f64, ky: f64): void {
  let a: f64 = 0, b: f64 = 0, xx: f64 = 0, yy: f64 = 0, xy: f64 = 0;
  for (let i = from; i < to; i++) {
    const dx = load<f64>(ring + (<usize>i << 4)) - kx;
    const dy = load<f64>(ring + (<usize>i << 4), 8) - ky;
    a += dx; b += dy; xx += dx * dx; yy += dy * dy; xy += dx * dy;
  }
  store<f64>(batchTmp, a); store<f64>(batchTmp, b, 8); store<f64>(batchTmp, xx, 16);
  store<f64>(batchTmp, yy, 24); store<f64>(batchTmp, xy, 32);
}

/** As rollExact for a pair block: shifts near the means from a pivot pair, then the five sums. */
function pairExact(p: usize, px: f64, py: f64): void {
  const cnt = load<i32>(p, H_CNT);
  const ring = p + RING;
  pairRingSums(ring, 0, cnt, px, py);
  const kx = px + load<f64>(batchTmp) / <f64>cnt;
  const ky = py + load<f64>(batchTmp, 8) / <f64>cnt;
  pairRingSums(ring, 0, cnt, kx, ky);
  set(p, 5, kx); set(p, 6, ky);
  for (let j: u32 = 0; j < 5; j++) set(p, 7 + j, load<f64>(batchTmp + (<usize>j << 3)));
}

/** As statsRollPushMany for pairs: the last k = min(m, window) values of x at xs and of y at ys. */
export function statsPairPushMany(p: usize, xs: usize, ys: usize, k: i32, m: i32): void {
  if (m <= 0) return;
  const w = load<i32>(p, H_W);
  const cnt = load<i32>(p, H_CNT);
  const head = load<i32>(p, H_HEAD);
  const ring = p + RING;
  if (m >= w) {
    const s0 = (head + (m - w) % w) % w;
    for (let j = 0; j < w; j++) {
      const slot = ring + (<usize>((s0 + j) % w) << 4);
      store<f64>(slot, load<f64>(xs + (<usize>j << 3)));
      store<f64>(slot, load<f64>(ys + (<usize>j << 3)), 8);
    }
    store<i32>(p, w, H_CNT);
    store<i32>(p, s0, H_HEAD);
    pairExact(p, load<f64>(xs + (<usize>(w - 1) << 3)), load<f64>(ys + (<usize>(w - 1) << 3)));
    return;
  }
  if (cnt == 0) { set(p, 5, load<f64>(xs)); set(p, 6, load<f64>(ys)); }
  const kx = f(p, 5);
  const ky = f(p, 6);
  pairShiftSums(xs, ys, m, kx, ky, batchTmp);
  let sx = f(p, 7) + load<f64>(batchTmp), sy = f(p, 8) + load<f64>(batchTmp, 8);
  let sxx = f(p, 9) + load<f64>(batchTmp, 16), syy = f(p, 10) + load<f64>(batchTmp, 24), sxy = f(p, 11) + load<f64>(batchTmp, 32);
  const e = cnt + m - w;
  if (e > 0) {
    const start = (head - cnt + w) % w;
    const first = min(e, w - start);
    pairRingSums(ring, start, start + first, kx, ky);
    sx -= load<f64>(batchTmp); sy -= load<f64>(batchTmp, 8);
    sxx -= load<f64>(batchTmp, 16); syy -= load<f64>(batchTmp, 24); sxy -= load<f64>(batchTmp, 32);
    if (first < e) {
      pairRingSums(ring, 0, e - first, kx, ky);
      sx -= load<f64>(batchTmp); sy -= load<f64>(batchTmp, 8);
      sxx -= load<f64>(batchTmp, 16); syy -= load<f64>(batchTmp, 24); sxy -= load<f64>(batchTmp, 32);
    }
  }
  for (let j = 0; j < m; j++) {
    const slot = ring + (<usize>((head + j) % w) << 4);
    store<f64>(slot, load<f64>(xs + (<usize>j << 3)));
    store<f64>(slot, load<f64>(ys + (<usize>j << 3)), 8);
  }
  store<i32>(p, min(w, cnt + m), H_CNT);
  store<i32>(p, (head + m) % w, H_HEAD);
  set(p, 7, sx); set(p, 8, sy); set(p, 9, sxx); set(p, 10, syy); set(p, 11, sxy);
  if (head + m >= w) pairExact(p, load<f64>(xs + (<usize>(m - 1) << 3)), load<f64>(ys + (<usize>(m - 1) << 3)));
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

/**
 * Pushes a batch of m pairs to a pair monitor. The host passes the last k values of x and y.
 * k == m: every pair goes through statsPmPush. k < m (then k = 2·window + 1, m ≥ 2·window + 2, and
 * the host has checked that no window in the batch's last 2·window x values is constant, so that
 * every one of the last window + 1 steps yields a spread): the regression block takes the first
 * m − window − 1 pairs as a batch (statsPairPushMany; only their last window pairs reach it), the
 * spread and half-life blocks start afresh, and the last window + 1 pairs go through statsPmPush —
 * the spread window and the half-life regression then hold exactly what m single pushes leave there.
 */
export function statsPmPushMany(p: usize, xs: usize, ys: usize, k: i32, m: i32): void {
  let from = 0;
  if (k < m) {
    const pair = <usize>f(p, 1);
    const w = load<i32>(pair, H_W);
    const j0 = m - w - 1;
    // staged values start at batch index m − k; the regression needs batch values [j0 − w, j0)
    statsPairPushMany(pair, xs, ys, w, j0);
    statsRollInit(<usize>f(p, 2), w);
    statsPairInit(<usize>f(p, 3), w);
    set(p, 5, 0);
    set(p, 7, f(p, 7) + <f64>j0);
    from = k - w - 1;
  }
  for (let i = from; i < k; i++) statsPmPush(p, load<f64>(xs + (<usize>i << 3)), load<f64>(ys + (<usize>i << 3)));
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
