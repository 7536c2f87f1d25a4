/**
 * All-pairs correlation of a universe with top-N selection by |ρ|, without the k×k matrix: the
 * WASM fallback of the GPU statistics (native/cuda/corr.cu) and twin of the addon's C++ baseline
 * (native/src/gpu.cc). Each kernel has a SIMD and a scalar twin (the `simd` flag), in FP64
 * (f64x2) and FP32 (f32x4).
 *
 * Layout: the universe is k series of n f64 at `data + j·n·8`; `statsZStd` standardises them IN
 * PLACE, z = (x − m)/‖x − m‖ (m the corrected two-pass mean, computed in f64), as f64 (stride n·8)
 * or f32 (stride n·4, packed from the start of the same buffer; re-centred by the mean of x − m,
 * as statsCorrMatrix, so a 1e9 level loses nothing), and writes ok[j] = 1 (u8) unless
 * the series is constant (every value equal: ρ undefined, reported as NaN and never selected).
 * The heap of the selection: a f64[N] (|ρ|) · v f64[N] (ρ) · i i32[N] · j i32[N], consecutive at
 * `heap`; `statsTopPairs*` return how many entries it holds (unordered: the caller sorts them by
 * |ρ| desc, i asc, j asc).
 * Invariants: every pair i < j of valid series is offered exactly once; each dot product keeps
 * four partial sums by t mod 4, combined (s0 + s2) + (s1 + s3), then the tail — the same order in
 * both twins and in the C++ baseline (so all three agree bit for bit where the compiler does not
 * contract to FMA); ρ is clamped to [−1, 1]; a row from `statsCorrRow` has exactly the values the
 * pairs had.
 * Complexity: O(k²·n) flops, 2×2 register blocks (four pairs per pass over four rows), rows in
 * cache blocks of 32 series; O(log N) per heap insertion, most pairs rejected by one comparison.
 * Allocation: none (the caller owns data, ok and heap).
 * Known limitations: single-threaded; the standardisation is scalar (O(k·n), negligible).
 */

// ── standardisation ────────────────────────────────────────────────────────────────────────
export function statsZStd(data: usize, n: i32, k: i32, ok: usize, f32out: i32): void {
  const nb = <usize>n << 3;
  for (let j = 0; j < k; j++) {
    const s = data + <usize>j * nb;
    const x0 = load<f64>(s);
    let a: f64 = 0;
    let differ = false;
    for (let t = 0; t < n; t++) { const v = load<f64>(s + (<usize>t << 3)); a += v; if (v != x0) differ = true; }
    const m0 = a / <f64>n;
    let d: f64 = 0;
    for (let t = 0; t < n; t++) d += load<f64>(s + (<usize>t << 3)) - m0;
    const m = m0 + d / <f64>n;
    // what the rounded centre misses (second centring): at a 1e9 level m is good to half an ulp
    let e: f64 = 0;
    for (let t = 0; t < n; t++) e += load<f64>(s + (<usize>t << 3)) - m;
    e /= <f64>n;
    let ss: f64 = 0;
    for (let t = 0; t < n; t++) { const c = (load<f64>(s + (<usize>t << 3)) - m) - e; ss += c * c; }
    const good = differ && ss > 0;
    const inv: f64 = good ? 1.0 / Math.sqrt(ss) : 0.0;
    store<u8>(ok + <usize>j, good ? 1 : 0);
    if (f32out) {
      const dst = data + <usize>j * (<usize>n << 2);
      // dst ≤ s and dst + 4t ≤ s + 8t: each write lands on values already read
      for (let t = 0; t < n; t++) store<f32>(dst + (<usize>t << 2), <f32>(good ? ((load<f64>(s + (<usize>t << 3)) - m) - e) * inv : 0.0));
    } else {
      for (let t = 0; t < n; t++) store<f64>(s + (<usize>t << 3), good ? ((load<f64>(s + (<usize>t << 3)) - m) - e) * inv : 0.0);
    }
  }
}

// ── dot products ───────────────────────────────────────────────────────────────────────────
@inline function comb(a: f64, b: f64, c: f64, d: f64): f64 { return (a + c) + (b + d); }
@inline function combf(a: f32, b: f32, c: f32, d: f32): f32 { return (a + c) + (b + d); }

@inline function dot1(pa: usize, pb: usize, n: i32, simd: bool): f64 {
  let t = 0;
  let s: f64;
  if (simd) {
    let u = f64x2.splat(0), w = f64x2.splat(0);
    for (; t + 4 <= n; t += 4) {
      const o = <usize>t << 3;
      u = f64x2.add(u, f64x2.mul(v128.load(pa + o), v128.load(pb + o)));
      w = f64x2.add(w, f64x2.mul(v128.load(pa + o, 16), v128.load(pb + o, 16)));
    }
    s = comb(f64x2.extract_lane(u, 0), f64x2.extract_lane(u, 1), f64x2.extract_lane(w, 0), f64x2.extract_lane(w, 1));
  } else {
    let s0: f64 = 0, s1: f64 = 0, s2: f64 = 0, s3: f64 = 0;
    for (; t + 4 <= n; t += 4) {
      const o = <usize>t << 3;
      s0 += load<f64>(pa + o) * load<f64>(pb + o); s1 += load<f64>(pa + o, 8) * load<f64>(pb + o, 8);
      s2 += load<f64>(pa + o, 16) * load<f64>(pb + o, 16); s3 += load<f64>(pa + o, 24) * load<f64>(pb + o, 24);
    }
    s = comb(s0, s1, s2, s3);
  }
  for (; t < n; t++) s += load<f64>(pa + (<usize>t << 3)) * load<f64>(pb + (<usize>t << 3));
  return s;
}

@inline function dot1f(pa: usize, pb: usize, n: i32, simd: bool): f32 {
  let t = 0;
  let s: f32;
  if (simd) {
    let u = f32x4.splat(0);
    for (; t + 4 <= n; t += 4) { const o = <usize>t << 2; u = f32x4.add(u, f32x4.mul(v128.load(pa + o), v128.load(pb + o))); }
    s = combf(f32x4.extract_lane(u, 0), f32x4.extract_lane(u, 1), f32x4.extract_lane(u, 2), f32x4.extract_lane(u, 3));
  } else {
    let s0: f32 = 0, s1: f32 = 0, s2: f32 = 0, s3: f32 = 0;
    for (; t + 4 <= n; t += 4) {
      const o = <usize>t << 2;
      s0 += load<f32>(pa + o) * load<f32>(pb + o); s1 += load<f32>(pa + o, 4) * load<f32>(pb + o, 4);
      s2 += load<f32>(pa + o, 8) * load<f32>(pb + o, 8); s3 += load<f32>(pa + o, 12) * load<f32>(pb + o, 12);
    }
    s = combf(s0, s1, s2, s3);
  }
  for (; t < n; t++) s += load<f32>(pa + (<usize>t << 2)) * load<f32>(pb + (<usize>t << 2));
  return s;
}

/** Results of dot22/dot22f (static data): a0·b0, a0·b1, a1·b0, a1·b1. */
const d22: usize = memory.data(32, 16);

@inline function dot22(a0: usize, a1: usize, b0: usize, b1: usize, n: i32, simd: bool): void {
  let t = 0;
  let r0: f64, r1: f64, r2: f64, r3: f64;
  if (simd) {
    let p0 = f64x2.splat(0), q0 = f64x2.splat(0), p1 = f64x2.splat(0), q1 = f64x2.splat(0);
    let p2 = f64x2.splat(0), q2 = f64x2.splat(0), p3 = f64x2.splat(0), q3 = f64x2.splat(0);
    for (; t + 4 <= n; t += 4) {
      const o = <usize>t << 3;
      const x0 = v128.load(a0 + o), x0h = v128.load(a0 + o, 16);
      const x1 = v128.load(a1 + o), x1h = v128.load(a1 + o, 16);
      const y0 = v128.load(b0 + o), y0h = v128.load(b0 + o, 16);
      const y1 = v128.load(b1 + o), y1h = v128.load(b1 + o, 16);
      p0 = f64x2.add(p0, f64x2.mul(x0, y0)); q0 = f64x2.add(q0, f64x2.mul(x0h, y0h));
      p1 = f64x2.add(p1, f64x2.mul(x0, y1)); q1 = f64x2.add(q1, f64x2.mul(x0h, y1h));
      p2 = f64x2.add(p2, f64x2.mul(x1, y0)); q2 = f64x2.add(q2, f64x2.mul(x1h, y0h));
      p3 = f64x2.add(p3, f64x2.mul(x1, y1)); q3 = f64x2.add(q3, f64x2.mul(x1h, y1h));
    }
    r0 = comb(f64x2.extract_lane(p0, 0), f64x2.extract_lane(p0, 1), f64x2.extract_lane(q0, 0), f64x2.extract_lane(q0, 1));
    r1 = comb(f64x2.extract_lane(p1, 0), f64x2.extract_lane(p1, 1), f64x2.extract_lane(q1, 0), f64x2.extract_lane(q1, 1));
    r2 = comb(f64x2.extract_lane(p2, 0), f64x2.extract_lane(p2, 1), f64x2.extract_lane(q2, 0), f64x2.extract_lane(q2, 1));
    r3 = comb(f64x2.extract_lane(p3, 0), f64x2.extract_lane(p3, 1), f64x2.extract_lane(q3, 0), f64x2.extract_lane(q3, 1));
  } else {
    let s00: f64 = 0, s01: f64 = 0, s02: f64 = 0, s03: f64 = 0, s10: f64 = 0, s11: f64 = 0, s12: f64 = 0, s13: f64 = 0;
    let s20: f64 = 0, s21: f64 = 0, s22: f64 = 0, s23: f64 = 0, s30: f64 = 0, s31: f64 = 0, s32: f64 = 0, s33: f64 = 0;
    for (; t + 4 <= n; t += 4) {
      const o = <usize>t << 3;
      let x0 = load<f64>(a0 + o), x1 = load<f64>(a1 + o), y0 = load<f64>(b0 + o), y1 = load<f64>(b1 + o);
      s00 += x0 * y0; s10 += x0 * y1; s20 += x1 * y0; s30 += x1 * y1;
      x0 = load<f64>(a0 + o, 8); x1 = load<f64>(a1 + o, 8); y0 = load<f64>(b0 + o, 8); y1 = load<f64>(b1 + o, 8);
      s01 += x0 * y0; s11 += x0 * y1; s21 += x1 * y0; s31 += x1 * y1;
      x0 = load<f64>(a0 + o, 16); x1 = load<f64>(a1 + o, 16); y0 = load<f64>(b0 + o, 16); y1 = load<f64>(b1 + o, 16);
      s02 += x0 * y0; s12 += x0 * y1; s22 += x1 * y0; s32 += x1 * y1;
      x0 = load<f64>(a0 + o, 24); x1 = load<f64>(a1 + o, 24); y0 = load<f64>(b0 + o, 24); y1 = load<f64>(b1 + o, 24);
      s03 += x0 * y0; s13 += x0 * y1; s23 += x1 * y0; s33 += x1 * y1;
    }
    r0 = comb(s00, s01, s02, s03); r1 = comb(s10, s11, s12, s13); r2 = comb(s20, s21, s22, s23); r3 = comb(s30, s31, s32, s33);
  }
  for (; t < n; t++) {
    const o = <usize>t << 3;
    const x0 = load<f64>(a0 + o), x1 = load<f64>(a1 + o), y0 = load<f64>(b0 + o), y1 = load<f64>(b1 + o);
    r0 += x0 * y0; r1 += x0 * y1; r2 += x1 * y0; r3 += x1 * y1;
  }
  store<f64>(d22, r0); store<f64>(d22, r1, 8); store<f64>(d22, r2, 16); store<f64>(d22, r3, 24);
}

@inline function dot22f(a0: usize, a1: usize, b0: usize, b1: usize, n: i32, simd: bool): void {
  let t = 0;
  let r0: f32, r1: f32, r2: f32, r3: f32;
  if (simd) {
    let p0 = f32x4.splat(0), p1 = f32x4.splat(0), p2 = f32x4.splat(0), p3 = f32x4.splat(0);
    for (; t + 4 <= n; t += 4) {
      const o = <usize>t << 2;
      const x0 = v128.load(a0 + o), x1 = v128.load(a1 + o), y0 = v128.load(b0 + o), y1 = v128.load(b1 + o);
      p0 = f32x4.add(p0, f32x4.mul(x0, y0)); p1 = f32x4.add(p1, f32x4.mul(x0, y1));
      p2 = f32x4.add(p2, f32x4.mul(x1, y0)); p3 = f32x4.add(p3, f32x4.mul(x1, y1));
    }
    r0 = combf(f32x4.extract_lane(p0, 0), f32x4.extract_lane(p0, 1), f32x4.extract_lane(p0, 2), f32x4.extract_lane(p0, 3));
    r1 = combf(f32x4.extract_lane(p1, 0), f32x4.extract_lane(p1, 1), f32x4.extract_lane(p1, 2), f32x4.extract_lane(p1, 3));
    r2 = combf(f32x4.extract_lane(p2, 0), f32x4.extract_lane(p2, 1), f32x4.extract_lane(p2, 2), f32x4.extract_lane(p2, 3));
    r3 = combf(f32x4.extract_lane(p3, 0), f32x4.extract_lane(p3, 1), f32x4.extract_lane(p3, 2), f32x4.extract_lane(p3, 3));
  } else {
    r0 = dot1f(a0, b0, n & ~3, false); r1 = dot1f(a0, b1, n & ~3, false);
    r2 = dot1f(a1, b0, n & ~3, false); r3 = dot1f(a1, b1, n & ~3, false);
    t = n & ~3;
  }
  for (; t < n; t++) {
    const o = <usize>t << 2;
    const x0 = load<f32>(a0 + o), x1 = load<f32>(a1 + o), y0 = load<f32>(b0 + o), y1 = load<f32>(b1 + o);
    r0 += x0 * y0; r1 += x0 * y1; r2 += x1 * y0; r3 += x1 * y1;
  }
  store<f64>(d22, <f64>r0); store<f64>(d22, <f64>r1, 8); store<f64>(d22, <f64>r2, 16); store<f64>(d22, <f64>r3, 24);
}

// ── bounded heap of the best N (root: the worst kept) ──────────────────────────────────────
let hA: usize = 0, hV: usize = 0, hI: usize = 0, hJ: usize = 0;
let hCap: i32 = 0, hLen: i32 = 0;

@inline function better(a: f64, i: i32, j: i32, b: f64, bi: i32, bj: i32): bool {
  if (a != b) return a > b;
  if (i != bi) return i < bi;
  return j < bj;
}
@inline function betterAt(x: i32, y: i32): bool {
  return better(load<f64>(hA + (<usize>x << 3)), load<i32>(hI + (<usize>x << 2)), load<i32>(hJ + (<usize>x << 2)),
    load<f64>(hA + (<usize>y << 3)), load<i32>(hI + (<usize>y << 2)), load<i32>(hJ + (<usize>y << 2)));
}
function swap(x: i32, y: i32): void {
  const xa = hA + (<usize>x << 3), ya = hA + (<usize>y << 3);
  let f = load<f64>(xa); store<f64>(xa, load<f64>(ya)); store<f64>(ya, f);
  const xv = hV + (<usize>x << 3), yv = hV + (<usize>y << 3);
  f = load<f64>(xv); store<f64>(xv, load<f64>(yv)); store<f64>(yv, f);
  const xi = hI + (<usize>x << 2), yi = hI + (<usize>y << 2);
  let g = load<i32>(xi); store<i32>(xi, load<i32>(yi)); store<i32>(yi, g);
  const xj = hJ + (<usize>x << 2), yj = hJ + (<usize>y << 2);
  g = load<i32>(xj); store<i32>(xj, load<i32>(yj)); store<i32>(yj, g);
}
function put(at: i32, a: f64, v: f64, i: i32, j: i32): void {
  store<f64>(hA + (<usize>at << 3), a); store<f64>(hV + (<usize>at << 3), v);
  store<i32>(hI + (<usize>at << 2), i); store<i32>(hJ + (<usize>at << 2), j);
}
function offerSlow(v: f64, i: i32, j: i32): void {
  const a = Math.abs(v);
  if (hLen < hCap) {
    let c = hLen++;
    put(c, a, v, i, j);
    while (c > 0) { const p = (c - 1) >> 1; if (!betterAt(p, c)) break; swap(p, c); c = p; }
    return;
  }
  if (!better(a, i, j, load<f64>(hA), load<i32>(hI), load<i32>(hJ))) return;
  put(0, a, v, i, j);
  let c = 0;
  for (;;) {
    const l = 2 * c + 1;
    if (l >= hLen) break;
    let w = l;
    if (l + 1 < hLen && betterAt(w, l + 1)) w = l + 1; // the worse child
    if (!betterAt(c, w)) break;
    swap(c, w);
    c = w;
  }
}
@inline function offer(v: f64, i: i32, j: i32): void {
  if (hLen == hCap && (hCap == 0 || Math.abs(v) < load<f64>(hA))) return;
  offerSlow(v, i, j);
}
@inline function clamp1(v: f64): f64 { return v > 1 ? 1 : (v < -1 ? -1 : v); }

// ── the all-pairs pass ─────────────────────────────────────────────────────────────────────
@inline function topImpl(z: usize, n: i32, k: i32, ok: usize, topN: i32, heap: usize, f32: bool, simd: bool): i32 {
  hCap = topN; hLen = 0;
  hA = heap; hV = heap + (<usize>topN << 3); hI = heap + (<usize>topN << 4); hJ = hI + (<usize>topN << 2);
  const stride: usize = f32 ? <usize>n << 2 : <usize>n << 3;
  const P = k >> 1;
  const BLOCK = 16;
  for (let pa0 = 0; pa0 < P; pa0 += BLOCK) {
    const pa1 = min(P, pa0 + BLOCK);
    for (let pb = pa0; pb < P; pb++) {
      const j0 = pb << 1;
      const okb0 = load<u8>(ok + <usize>j0) != 0, okb1 = load<u8>(ok + <usize>j0 + 1) != 0;
      for (let pa = pa0; pa < pa1 && pa <= pb; pa++) {
        const i0 = pa << 1;
        const oka0 = load<u8>(ok + <usize>i0) != 0, oka1 = load<u8>(ok + <usize>i0 + 1) != 0;
        const ra0 = z + <usize>i0 * stride, ra1 = ra0 + stride;
        if (pa == pb) {
          if (oka0 && oka1) offer(clamp1(f32 ? <f64>dot1f(ra0, ra1, n, simd) : dot1(ra0, ra1, n, simd)), i0, i0 + 1);
          continue;
        }
        if (!(oka0 || oka1) || !(okb0 || okb1)) continue;
        const rb0 = z + <usize>j0 * stride, rb1 = rb0 + stride;
        if (f32) dot22f(ra0, ra1, rb0, rb1, n, simd); else dot22(ra0, ra1, rb0, rb1, n, simd);
        if (oka0 && okb0) offer(clamp1(load<f64>(d22)), i0, j0);
        if (oka0 && okb1) offer(clamp1(load<f64>(d22, 8)), i0, j0 + 1);
        if (oka1 && okb0) offer(clamp1(load<f64>(d22, 16)), i0 + 1, j0);
        if (oka1 && okb1) offer(clamp1(load<f64>(d22, 24)), i0 + 1, j0 + 1);
      }
    }
  }
  if (k & 1) {
    const last = k - 1;
    if (load<u8>(ok + <usize>last) != 0) {
      const rl = z + <usize>last * stride;
      for (let i = 0; i < last; i++) {
        if (load<u8>(ok + <usize>i) == 0) continue;
        const ri = z + <usize>i * stride;
        offer(clamp1(f32 ? <f64>dot1f(ri, rl, n, simd) : dot1(ri, rl, n, simd)), i, last);
      }
    }
  }
  return hLen;
}

export function statsTopPairsF64(z: usize, n: i32, k: i32, ok: usize, topN: i32, heap: usize): i32 { return topImpl(z, n, k, ok, topN, heap, false, true); }
export function statsTopPairsF64Scalar(z: usize, n: i32, k: i32, ok: usize, topN: i32, heap: usize): i32 { return topImpl(z, n, k, ok, topN, heap, false, false); }
export function statsTopPairsF32(z: usize, n: i32, k: i32, ok: usize, topN: i32, heap: usize): i32 { return topImpl(z, n, k, ok, topN, heap, true, true); }
export function statsTopPairsF32Scalar(z: usize, n: i32, k: i32, ok: usize, topN: i32, heap: usize): i32 { return topImpl(z, n, k, ok, topN, heap, true, false); }

/** Row i of the correlation matrix into out (k f64): 1 on the diagonal, NaN where a series is constant. */
@inline function rowImpl(z: usize, n: i32, k: i32, ok: usize, i: i32, out: usize, f32: bool, simd: bool): void {
  const stride: usize = f32 ? <usize>n << 2 : <usize>n << 3;
  const oki = load<u8>(ok + <usize>i) != 0;
  for (let j = 0; j < k; j++) {
    let v: f64;
    if (!oki || load<u8>(ok + <usize>j) == 0) v = NaN;
    else if (j == i) v = 1;
    else {
      const a = z + <usize>min(i, j) * stride, b = z + <usize>max(i, j) * stride;
      v = clamp1(f32 ? <f64>dot1f(a, b, n, simd) : dot1(a, b, n, simd));
    }
    store<f64>(out + (<usize>j << 3), v);
  }
}
export function statsCorrRow(z: usize, n: i32, k: i32, ok: usize, i: i32, out: usize, f32: i32): void { rowImpl(z, n, k, ok, i, out, f32 != 0, true); }
export function statsCorrRowScalar(z: usize, n: i32, k: i32, ok: usize, i: i32, out: usize, f32: i32): void { rowImpl(z, n, k, ok, i, out, f32 != 0, false); }
