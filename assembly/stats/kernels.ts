/**
 * Batch statistics kernels over f64 arrays in linear memory, each in two twins: SIMD (f64x2) and
 * scalar. Both twins keep four partial sums in the same lane order (lanes 0,1 of two v128
 * accumulators ≡ four scalar accumulators), so they return bit-identical results; the scalar twin
 * is the check of the SIMD one and the path for hosts without SIMD.
 *
 * Layout: arrays are contiguous little-endian f64; a matrix is column-major (column j of an
 * n-row matrix starts at `a + j·n·8`). Results go to `out` (f64 slots) or are returned.
 * Invariants: two-pass centred sums with the correction term Σd (the "corrected two-pass"
 * algorithm), so a 1e9 offset with tiny moves loses nothing; least squares by Householder QR,
 * never by normal equations.
 * Complexity: O(n) per pass; corrMatrix O(n·k²); QR O(n·k²). Allocation: none.
 * The helpers of the streaming batch paths at the end (shifted sums, pair sums, the finiteness
 * check) are SIMD only, apart from statsShiftMeanVar's scalar twin; they are held to the
 * per-value path in test/kernels/stats-batch.prop.test.ts.
 * Known limitations: callers own the memory (the TS side places arrays in the stats arena).
 */

// ── reductions ─────────────────────────────────────────────────────────────────────────────
@inline function sum4(a: f64, b: f64, c: f64, d: f64): f64 { return (a + c) + (b + d); }

/** Σ x[i] over n values. */
@inline function sumImpl(p: usize, n: i32, simd: bool): f64 {
  let i = 0;
  let s: f64;
  if (simd) {
    let a0 = f64x2.splat(0);
    let a1 = f64x2.splat(0);
    for (; i + 4 <= n; i += 4) {
      const q = p + (<usize>i << 3);
      a0 = f64x2.add(a0, v128.load(q));
      a1 = f64x2.add(a1, v128.load(q, 16));
    }
    s = sum4(f64x2.extract_lane(a0, 0), f64x2.extract_lane(a0, 1), f64x2.extract_lane(a1, 0), f64x2.extract_lane(a1, 1));
  } else {
    let s0: f64 = 0, s1: f64 = 0, s2: f64 = 0, s3: f64 = 0;
    for (; i + 4 <= n; i += 4) {
      const q = p + (<usize>i << 3);
      s0 += load<f64>(q); s1 += load<f64>(q, 8); s2 += load<f64>(q, 16); s3 += load<f64>(q, 24);
    }
    s = sum4(s0, s1, s2, s3);
  }
  for (; i < n; i++) s += load<f64>(p + (<usize>i << 3));
  return s;
}

/** Σ (x-m) and Σ (x-m)² → out[0], out[1]. */
@inline function devImpl(p: usize, n: i32, m: f64, out: usize, simd: bool): void {
  let i = 0;
  let d: f64, dd: f64;
  if (simd) {
    const mv = f64x2.splat(m);
    let a0 = f64x2.splat(0), a1 = f64x2.splat(0), b0 = f64x2.splat(0), b1 = f64x2.splat(0);
    for (; i + 4 <= n; i += 4) {
      const q = p + (<usize>i << 3);
      const x0 = f64x2.sub(v128.load(q), mv);
      const x1 = f64x2.sub(v128.load(q, 16), mv);
      a0 = f64x2.add(a0, x0); a1 = f64x2.add(a1, x1);
      b0 = f64x2.add(b0, f64x2.mul(x0, x0)); b1 = f64x2.add(b1, f64x2.mul(x1, x1));
    }
    d = sum4(f64x2.extract_lane(a0, 0), f64x2.extract_lane(a0, 1), f64x2.extract_lane(a1, 0), f64x2.extract_lane(a1, 1));
    dd = sum4(f64x2.extract_lane(b0, 0), f64x2.extract_lane(b0, 1), f64x2.extract_lane(b1, 0), f64x2.extract_lane(b1, 1));
  } else {
    let a0: f64 = 0, a1: f64 = 0, a2: f64 = 0, a3: f64 = 0, b0: f64 = 0, b1: f64 = 0, b2: f64 = 0, b3: f64 = 0;
    for (; i + 4 <= n; i += 4) {
      const q = p + (<usize>i << 3);
      const x0 = load<f64>(q) - m, x1 = load<f64>(q, 8) - m, x2 = load<f64>(q, 16) - m, x3 = load<f64>(q, 24) - m;
      a0 += x0; a1 += x1; a2 += x2; a3 += x3;
      b0 += x0 * x0; b1 += x1 * x1; b2 += x2 * x2; b3 += x3 * x3;
    }
    d = sum4(a0, a1, a2, a3);
    dd = sum4(b0, b1, b2, b3);
  }
  for (; i < n; i++) {
    const x = load<f64>(p + (<usize>i << 3)) - m;
    d += x;
    dd += x * x;
  }
  store<f64>(out, d);
  store<f64>(out, dd, 8);
}

/** Σ (x-mx)(y-my) with the Σdx, Σdy needed for the correction → returns the corrected cross sum. */
@inline function crossImpl(px: usize, py: usize, n: i32, mx: f64, my: f64, simd: bool): f64 {
  let i = 0;
  let s: f64;
  if (simd) {
    const mxv = f64x2.splat(mx), myv = f64x2.splat(my);
    let a0 = f64x2.splat(0), a1 = f64x2.splat(0);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 3;
      a0 = f64x2.add(a0, f64x2.mul(f64x2.sub(v128.load(px + o), mxv), f64x2.sub(v128.load(py + o), myv)));
      a1 = f64x2.add(a1, f64x2.mul(f64x2.sub(v128.load(px + o, 16), mxv), f64x2.sub(v128.load(py + o, 16), myv)));
    }
    s = sum4(f64x2.extract_lane(a0, 0), f64x2.extract_lane(a0, 1), f64x2.extract_lane(a1, 0), f64x2.extract_lane(a1, 1));
  } else {
    let s0: f64 = 0, s1: f64 = 0, s2: f64 = 0, s3: f64 = 0;
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 3;
      s0 += (load<f64>(px + o) - mx) * (load<f64>(py + o) - my);
      s1 += (load<f64>(px + o, 8) - mx) * (load<f64>(py + o, 8) - my);
      s2 += (load<f64>(px + o, 16) - mx) * (load<f64>(py + o, 16) - my);
      s3 += (load<f64>(px + o, 24) - mx) * (load<f64>(py + o, 24) - my);
    }
    s = sum4(s0, s1, s2, s3);
  }
  for (; i < n; i++) {
    const o = <usize>i << 3;
    s += (load<f64>(px + o) - mx) * (load<f64>(py + o) - my);
  }
  return s;
}

/** mean and M2 = Σ(x-mean)² (corrected two-pass) → out[0], out[1]. */
@inline function meanVarImpl(p: usize, n: i32, out: usize, simd: bool): void {
  if (n <= 0) { store<f64>(out, NaN); store<f64>(out, 0, 8); return; }
  const m0 = sumImpl(p, n, simd) / <f64>n;
  devImpl(p, n, m0, out, simd);
  const d = load<f64>(out);
  const dd = load<f64>(out, 8);
  store<f64>(out, m0 + d / <f64>n);
  store<f64>(out, dd - d * d / <f64>n, 8);
}

export function statsMeanVar(p: usize, n: i32, out: usize): void { meanVarImpl(p, n, out, true); }
export function statsMeanVarScalar(p: usize, n: i32, out: usize): void { meanVarImpl(p, n, out, false); }

/**
 * mx, my, Sxx, Syy, Sxy (centred, corrected) → out[0..4]; out[5], out[6]: ex, ey, what the
 * rounded means miss (true mean = mx + ex, to rounding of ex), for residuals about the exact
 * centre at a 1e9 level, where mx itself is only good to half an ulp of 1e9.
 */
@inline function covImpl(px: usize, py: usize, n: i32, out: usize, simd: bool): void {
  if (n <= 0) { for (let k = 0; k < 5; k++) store<f64>(out + (<usize>k << 3), NaN); return; }
  const fn = <f64>n;
  const mx0 = sumImpl(px, n, simd) / fn;
  const my0 = sumImpl(py, n, simd) / fn;
  devImpl(px, n, mx0, out, simd);
  const dx = load<f64>(out), sxx = load<f64>(out, 8);
  devImpl(py, n, my0, out, simd);
  const dy = load<f64>(out), syy = load<f64>(out, 8);
  const sxy = crossImpl(px, py, n, mx0, my0, simd);
  store<f64>(out, mx0 + dx / fn);
  store<f64>(out, my0 + dy / fn, 8);
  store<f64>(out, sxx - dx * dx / fn, 16);
  store<f64>(out, syy - dy * dy / fn, 24);
  store<f64>(out, sxy - dx * dy / fn, 32);
  store<f64>(out, (mx0 - load<f64>(out)) + dx / fn, 40);
  store<f64>(out, (my0 - load<f64>(out, 8)) + dy / fn, 48);
}

export function statsCov(px: usize, py: usize, n: i32, out: usize): void { covImpl(px, py, n, out, true); }
export function statsCovScalar(px: usize, py: usize, n: i32, out: usize): void { covImpl(px, py, n, out, false); }

/**
 * Residuals of y on x about the centre (mx + ex, my + ey) (statsCov's out[0], [1], [5], [6]):
 * r = ((y − my) − ey) − β·((x − mx) − ex) into `pr`; returns Σ r². Taken about the means, never
 * as y − (α + βx): at a 1e9 level α and βx are large and their difference would lose the digits
 * of a tiny residual (x − mx and y − my are exact there, ex and ey small).
 */
@inline function residImpl(px: usize, py: usize, n: i32, mx: f64, my: f64, ex: f64, ey: f64, beta: f64, pr: usize, simd: bool): f64 {
  let i = 0;
  let s: f64;
  if (simd) {
    const mxv = f64x2.splat(mx), myv = f64x2.splat(my), exv = f64x2.splat(ex), eyv = f64x2.splat(ey), bv = f64x2.splat(beta);
    let a0 = f64x2.splat(0), a1 = f64x2.splat(0);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 3;
      const r0 = f64x2.sub(f64x2.sub(f64x2.sub(v128.load(py + o), myv), eyv), f64x2.mul(bv, f64x2.sub(f64x2.sub(v128.load(px + o), mxv), exv)));
      const r1 = f64x2.sub(f64x2.sub(f64x2.sub(v128.load(py + o, 16), myv), eyv), f64x2.mul(bv, f64x2.sub(f64x2.sub(v128.load(px + o, 16), mxv), exv)));
      v128.store(pr + o, r0);
      v128.store(pr + o, r1, 16);
      a0 = f64x2.add(a0, f64x2.mul(r0, r0));
      a1 = f64x2.add(a1, f64x2.mul(r1, r1));
    }
    s = sum4(f64x2.extract_lane(a0, 0), f64x2.extract_lane(a0, 1), f64x2.extract_lane(a1, 0), f64x2.extract_lane(a1, 1));
  } else {
    let s0: f64 = 0, s1: f64 = 0, s2: f64 = 0, s3: f64 = 0;
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 3;
      const r0 = ((load<f64>(py + o) - my) - ey) - beta * ((load<f64>(px + o) - mx) - ex);
      const r1 = ((load<f64>(py + o, 8) - my) - ey) - beta * ((load<f64>(px + o, 8) - mx) - ex);
      const r2 = ((load<f64>(py + o, 16) - my) - ey) - beta * ((load<f64>(px + o, 16) - mx) - ex);
      const r3 = ((load<f64>(py + o, 24) - my) - ey) - beta * ((load<f64>(px + o, 24) - mx) - ex);
      store<f64>(pr + o, r0); store<f64>(pr + o, r1, 8); store<f64>(pr + o, r2, 16); store<f64>(pr + o, r3, 24);
      s0 += r0 * r0; s1 += r1 * r1; s2 += r2 * r2; s3 += r3 * r3;
    }
    s = sum4(s0, s1, s2, s3);
  }
  for (; i < n; i++) {
    const o = <usize>i << 3;
    const r = ((load<f64>(py + o) - my) - ey) - beta * ((load<f64>(px + o) - mx) - ex);
    store<f64>(pr + o, r);
    s += r * r;
  }
  return s;
}

export function statsResid(px: usize, py: usize, n: i32, mx: f64, my: f64, ex: f64, ey: f64, beta: f64, pr: usize): f64 { return residImpl(px, py, n, mx, my, ex, ey, beta, pr, true); }
export function statsResidScalar(px: usize, py: usize, n: i32, mx: f64, my: f64, ex: f64, ey: f64, beta: f64, pr: usize): f64 { return residImpl(px, py, n, mx, my, ex, ey, beta, pr, false); }

// ── correlation matrix ─────────────────────────────────────────────────────────────────────
/**
 * Correlation matrix of k series of n values (series j at `data + j·n·8`) into `out` (k×k,
 * row-major). `work` needs k·n·8 bytes (centred copies). A series with zero variance gives NaN
 * in its row and column (1 on the diagonal stays NaN too: its correlation is undefined).
 */
@inline function corrImpl(data: usize, n: i32, k: i32, out: usize, work: usize, simd: bool): void {
  const nb = <usize>n << 3;
  for (let j = 0; j < k; j++) {
    const src = data + <usize>j * nb;
    const dst = work + <usize>j * nb;
    const m = sumImpl(src, n, simd) / <f64>n;
    let i = 0;
    if (simd) {
      const mv = f64x2.splat(m);
      for (; i + 2 <= n; i += 2) v128.store(dst + (<usize>i << 3), f64x2.sub(v128.load(src + (<usize>i << 3)), mv));
    }
    for (; i < n; i++) store<f64>(dst + (<usize>i << 3), load<f64>(src + (<usize>i << 3)) - m);
    // remove the residual mean (second pass), so the centring is exact to rounding
    const r = sumImpl(dst, n, simd) / <f64>n;
    for (i = 0; i < n; i++) store<f64>(dst + (<usize>i << 3), load<f64>(dst + (<usize>i << 3)) - r);
  }
  for (let a = 0; a < k; a++) {
    const pa = work + <usize>a * nb;
    for (let b = a; b < k; b++) {
      const s = crossImpl(pa, work + <usize>b * nb, n, 0, 0, simd);
      store<f64>(out + ((<usize>a * k + b) << 3), s);
      store<f64>(out + ((<usize>b * k + a) << 3), s);
    }
  }
  for (let a = 0; a < k; a++) {
    const va = load<f64>(out + ((<usize>a * k + a) << 3));
    for (let b = 0; b < k; b++) {
      if (b == a) continue;
      const vb = load<f64>(out + ((<usize>b * k + b) << 3));
      if (b < a) continue;
      const c = va > 0 && vb > 0 ? load<f64>(out + ((<usize>a * k + b) << 3)) / Math.sqrt(va * vb) : NaN;
      store<f64>(out + ((<usize>a * k + b) << 3), c);
      store<f64>(out + ((<usize>b * k + a) << 3), c);
    }
  }
  for (let a = 0; a < k; a++) {
    const d = out + ((<usize>a * k + a) << 3);
    store<f64>(d, load<f64>(d) > 0 ? 1.0 : NaN);
  }
}

export function statsCorrMatrix(data: usize, n: i32, k: i32, out: usize, work: usize): void { corrImpl(data, n, k, out, work, true); }
export function statsCorrMatrixScalar(data: usize, n: i32, k: i32, out: usize, work: usize): void { corrImpl(data, n, k, out, work, false); }

// ── Householder QR least squares ───────────────────────────────────────────────────────────
/** Four f64 of scratch for dot2Impl/dot4Impl results (static data, 16-byte aligned). */
const qrTmp: usize = memory.data(32, 16);
/** x·y over n values (4 partial sums, same order in both twins). */
@inline function dotImpl(px: usize, py: usize, n: i32, simd: bool): f64 { return crossImpl(px, py, n, 0, 0, simd); }

/** Two dot products v·a and v·b in one pass (4 partial sums each, as dotImpl) → out[0], out[1]. */
@inline function dot2Impl(pv: usize, pa: usize, pb: usize, n: i32, out: usize, simd: bool): void {
  let i = 0;
  let sa: f64, sb: f64;
  if (simd) {
    let a0 = f64x2.splat(0), a1 = f64x2.splat(0), b0 = f64x2.splat(0), b1 = f64x2.splat(0);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 3;
      const v0 = v128.load(pv + o);
      const v1 = v128.load(pv + o, 16);
      a0 = f64x2.add(a0, f64x2.mul(v0, v128.load(pa + o)));
      a1 = f64x2.add(a1, f64x2.mul(v1, v128.load(pa + o, 16)));
      b0 = f64x2.add(b0, f64x2.mul(v0, v128.load(pb + o)));
      b1 = f64x2.add(b1, f64x2.mul(v1, v128.load(pb + o, 16)));
    }
    sa = sum4(f64x2.extract_lane(a0, 0), f64x2.extract_lane(a0, 1), f64x2.extract_lane(a1, 0), f64x2.extract_lane(a1, 1));
    sb = sum4(f64x2.extract_lane(b0, 0), f64x2.extract_lane(b0, 1), f64x2.extract_lane(b1, 0), f64x2.extract_lane(b1, 1));
  } else {
    let a0: f64 = 0, a1: f64 = 0, a2: f64 = 0, a3: f64 = 0, b0: f64 = 0, b1: f64 = 0, b2: f64 = 0, b3: f64 = 0;
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 3;
      const v0 = load<f64>(pv + o), v1 = load<f64>(pv + o, 8), v2 = load<f64>(pv + o, 16), v3 = load<f64>(pv + o, 24);
      a0 += v0 * load<f64>(pa + o); a1 += v1 * load<f64>(pa + o, 8); a2 += v2 * load<f64>(pa + o, 16); a3 += v3 * load<f64>(pa + o, 24);
      b0 += v0 * load<f64>(pb + o); b1 += v1 * load<f64>(pb + o, 8); b2 += v2 * load<f64>(pb + o, 16); b3 += v3 * load<f64>(pb + o, 24);
    }
    sa = sum4(a0, a1, a2, a3);
    sb = sum4(b0, b1, b2, b3);
  }
  for (; i < n; i++) {
    const o = <usize>i << 3;
    const v = load<f64>(pv + o);
    sa += v * load<f64>(pa + o);
    sb += v * load<f64>(pb + o);
  }
  store<f64>(out, sa);
  store<f64>(out, sb, 8);
}

/** Four dot products v·a, v·b, v·c, v·d in one pass (4 partial sums each) → out[0..3]. */
@inline function dot4Impl(pv: usize, pa: usize, pb: usize, pc: usize, pd: usize, n: i32, out: usize, simd: bool): void {
  let i = 0;
  let sa: f64, sb: f64, sc: f64, sd: f64;
  if (simd) {
    let a0 = f64x2.splat(0), a1 = f64x2.splat(0), b0 = f64x2.splat(0), b1 = f64x2.splat(0);
    let c0 = f64x2.splat(0), c1 = f64x2.splat(0), d0 = f64x2.splat(0), d1 = f64x2.splat(0);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 3;
      const v0 = v128.load(pv + o);
      const v1 = v128.load(pv + o, 16);
      a0 = f64x2.add(a0, f64x2.mul(v0, v128.load(pa + o))); a1 = f64x2.add(a1, f64x2.mul(v1, v128.load(pa + o, 16)));
      b0 = f64x2.add(b0, f64x2.mul(v0, v128.load(pb + o))); b1 = f64x2.add(b1, f64x2.mul(v1, v128.load(pb + o, 16)));
      c0 = f64x2.add(c0, f64x2.mul(v0, v128.load(pc + o))); c1 = f64x2.add(c1, f64x2.mul(v1, v128.load(pc + o, 16)));
      d0 = f64x2.add(d0, f64x2.mul(v0, v128.load(pd + o))); d1 = f64x2.add(d1, f64x2.mul(v1, v128.load(pd + o, 16)));
    }
    sa = sum4(f64x2.extract_lane(a0, 0), f64x2.extract_lane(a0, 1), f64x2.extract_lane(a1, 0), f64x2.extract_lane(a1, 1));
    sb = sum4(f64x2.extract_lane(b0, 0), f64x2.extract_lane(b0, 1), f64x2.extract_lane(b1, 0), f64x2.extract_lane(b1, 1));
    sc = sum4(f64x2.extract_lane(c0, 0), f64x2.extract_lane(c0, 1), f64x2.extract_lane(c1, 0), f64x2.extract_lane(c1, 1));
    sd = sum4(f64x2.extract_lane(d0, 0), f64x2.extract_lane(d0, 1), f64x2.extract_lane(d1, 0), f64x2.extract_lane(d1, 1));
  } else {
    let a0: f64 = 0, a1: f64 = 0, a2: f64 = 0, a3: f64 = 0, b0: f64 = 0, b1: f64 = 0, b2: f64 = 0, b3: f64 = 0;
    let c0: f64 = 0, c1: f64 = 0, c2: f64 = 0, c3: f64 = 0, d0: f64 = 0, d1: f64 = 0, d2: f64 = 0, d3: f64 = 0;
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 3;
      const v0 = load<f64>(pv + o), v1 = load<f64>(pv + o, 8), v2 = load<f64>(pv + o, 16), v3 = load<f64>(pv + o, 24);
      a0 += v0 * load<f64>(pa + o); a1 += v1 * load<f64>(pa + o, 8); a2 += v2 * load<f64>(pa + o, 16); a3 += v3 * load<f64>(pa + o, 24);
      b0 += v0 * load<f64>(pb + o); b1 += v1 * load<f64>(pb + o, 8); b2 += v2 * load<f64>(pb + o, 16); b3 += v3 * load<f64>(pb + o, 24);
      c0 += v0 * load<f64>(pc + o); c1 += v1 * load<f64>(pc + o, 8); c2 += v2 * load<f64>(pc + o, 16); c3 += v3 * load<f64>(pc + o, 24);
      d0 += v0 * load<f64>(pd + o); d1 += v1 * load<f64>(pd + o, 8); d2 += v2 * load<f64>(pd + o, 16); d3 += v3 * load<f64>(pd + o, 24);
    }
    sa = sum4(a0, a1, a2, a3); sb = sum4(b0, b1, b2, b3); sc = sum4(c0, c1, c2, c3); sd = sum4(d0, d1, d2, d3);
  }
  for (; i < n; i++) {
    const o = <usize>i << 3;
    const v = load<f64>(pv + o);
    sa += v * load<f64>(pa + o); sb += v * load<f64>(pb + o); sc += v * load<f64>(pc + o); sd += v * load<f64>(pd + o);
  }
  store<f64>(out, sa); store<f64>(out, sb, 8); store<f64>(out, sc, 16); store<f64>(out, sd, 24);
}

/** a..d -= t·v for four columns in one pass. */
@inline function axpy4Impl(pv: usize, pa: usize, ta: f64, pb: usize, tb: f64, pc: usize, tc: f64, pd: usize, td: f64, n: i32, simd: bool): void {
  let i = 0;
  if (simd) {
    const tav = f64x2.splat(ta), tbv = f64x2.splat(tb), tcv = f64x2.splat(tc), tdv = f64x2.splat(td);
    for (; i + 2 <= n; i += 2) {
      const o = <usize>i << 3;
      const v = v128.load(pv + o);
      v128.store(pa + o, f64x2.sub(v128.load(pa + o), f64x2.mul(tav, v)));
      v128.store(pb + o, f64x2.sub(v128.load(pb + o), f64x2.mul(tbv, v)));
      v128.store(pc + o, f64x2.sub(v128.load(pc + o), f64x2.mul(tcv, v)));
      v128.store(pd + o, f64x2.sub(v128.load(pd + o), f64x2.mul(tdv, v)));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 3;
    const v = load<f64>(pv + o);
    store<f64>(pa + o, load<f64>(pa + o) - ta * v);
    store<f64>(pb + o, load<f64>(pb + o) - tb * v);
    store<f64>(pc + o, load<f64>(pc + o) - tc * v);
    store<f64>(pd + o, load<f64>(pd + o) - td * v);
  }
}

/** a -= ta·v and b -= tb·v in one pass. */
@inline function axpy2Impl(pv: usize, pa: usize, ta: f64, pb: usize, tb: f64, n: i32, simd: bool): void {
  let i = 0;
  if (simd) {
    const tav = f64x2.splat(ta), tbv = f64x2.splat(tb);
    for (; i + 4 <= n; i += 4) {
      const o = <usize>i << 3;
      const v0 = v128.load(pv + o);
      const v1 = v128.load(pv + o, 16);
      v128.store(pa + o, f64x2.sub(v128.load(pa + o), f64x2.mul(tav, v0)));
      v128.store(pa + o, f64x2.sub(v128.load(pa + o, 16), f64x2.mul(tav, v1)), 16);
      v128.store(pb + o, f64x2.sub(v128.load(pb + o), f64x2.mul(tbv, v0)));
      v128.store(pb + o, f64x2.sub(v128.load(pb + o, 16), f64x2.mul(tbv, v1)), 16);
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 3;
    const v = load<f64>(pv + o);
    store<f64>(pa + o, load<f64>(pa + o) - ta * v);
    store<f64>(pb + o, load<f64>(pb + o) - tb * v);
  }
}

/** y -= t·x over n values. */
@inline function axpyImpl(px: usize, py: usize, n: i32, t: f64, simd: bool): void {
  let i = 0;
  if (simd) {
    const tv = f64x2.splat(t);
    for (; i + 2 <= n; i += 2) {
      const o = <usize>i << 3;
      v128.store(py + o, f64x2.sub(v128.load(py + o), f64x2.mul(tv, v128.load(px + o))));
    }
  }
  for (; i < n; i++) {
    const o = <usize>i << 3;
    store<f64>(py + o, load<f64>(py + o) - t * load<f64>(px + o));
  }
}

/**
 * Householder QR of the n×k column-major matrix `a` (k ≤ n), applied to the right-hand side `b`
 * as well: afterwards R's strict upper triangle is in `a` (R[j][c] at a[c·n + j]), R's diagonal
 * in `diag`, and `b` holds Qᵀb (its first k entries are z, Σ_{i≥m} b[i]² is the residual sum of
 * squares of the regression on the first m columns). Returns the numerical rank (columns whose
 * |R_jj| exceeds n·ε·max|R_jj|; a column below it gets diag 0 and is skipped).
 */
@inline function qrImpl(a: usize, n: i32, k: i32, b: usize, diag: usize, simd: bool): i32 {
  const nb = <usize>n << 3;
  let rank = 0;
  let maxd: f64 = 0;
  for (let j = 0; j < k; j++) {
    const col = a + <usize>j * nb + (<usize>j << 3);
    const len = n - j;
    const s = dotImpl(col, col, len, simd);
    const nrm = Math.sqrt(s);
    if (nrm == 0 || nrm <= maxd * <f64>n * 2.220446049250313e-16) {
      store<f64>(diag + (<usize>j << 3), 0);
      continue;
    }
    if (nrm > maxd) maxd = nrm;
    const x0 = load<f64>(col);
    const alpha = x0 > 0 ? -nrm : nrm;
    const v0 = x0 - alpha;
    store<f64>(col, v0);
    const vtv = s - x0 * x0 + v0 * v0;
    store<f64>(diag + (<usize>j << 3), alpha);
    rank++;
    let c = j + 1;
    for (; c + 3 < k; c += 4) {
      const ca = a + <usize>c * nb + (<usize>j << 3);
      dot4Impl(col, ca, ca + nb, ca + 2 * nb, ca + 3 * nb, len, qrTmp, simd);
      axpy4Impl(col, ca, 2 * load<f64>(qrTmp) / vtv, ca + nb, 2 * load<f64>(qrTmp, 8) / vtv,
        ca + 2 * nb, 2 * load<f64>(qrTmp, 16) / vtv, ca + 3 * nb, 2 * load<f64>(qrTmp, 24) / vtv, len, simd);
    }
    for (; c + 1 < k; c += 2) {
      const ca = a + <usize>c * nb + (<usize>j << 3);
      const cb = ca + nb;
      dot2Impl(col, ca, cb, len, qrTmp, simd);
      axpy2Impl(col, ca, 2 * load<f64>(qrTmp) / vtv, cb, 2 * load<f64>(qrTmp, 8) / vtv, len, simd);
    }
    if (c < k) {
      const cc = a + <usize>c * nb + (<usize>j << 3);
      const t = 2 * dotImpl(col, cc, len, simd) / vtv;
      axpyImpl(col, cc, len, t, simd);
    }
    const bb = b + (<usize>j << 3);
    const tb = 2 * dotImpl(col, bb, len, simd) / vtv;
    axpyImpl(col, bb, len, tb, simd);
  }
  return rank;
}

export function statsQr(a: usize, n: i32, k: i32, b: usize, diag: usize): i32 { return qrImpl(a, n, k, b, diag, true); }
export function statsQrScalar(a: usize, n: i32, k: i32, b: usize, diag: usize): i32 { return qrImpl(a, n, k, b, diag, false); }

/** Σ b[i]² for i in [from, n) (residual sums of squares of prefix regressions). */
export function statsTailSq(b: usize, from: i32, n: i32): f64 {
  return dotImpl(b + (<usize>from << 3), b + (<usize>from << 3), n - from, true);
}

// ── shifted sums for the streaming batch paths (assembly/stats/stream.ts) ──────────────────
// Eight partial sums (four f64x2 accumulators; lanes (0,1) (2,3) (4,5) (6,7)), reduced as
// ((s0+s4)+(s2+s6)) + ((s1+s5)+(s3+s7)), then the tail in order: the scalar twins give the same
// bits. Eight, not four: the chains are latency-bound, and a batch chunk sits in L1.
@inline function red8(a0: v128, a1: v128, a2: v128, a3: v128): f64 {
  const t = f64x2.add(f64x2.add(a0, a2), f64x2.add(a1, a3));
  return f64x2.extract_lane(t, 0) + f64x2.extract_lane(t, 1);
}
@inline function red8s(s0: f64, s1: f64, s2: f64, s3: f64, s4: f64, s5: f64, s6: f64, s7: f64): f64 {
  return ((s0 + s4) + (s2 + s6)) + ((s1 + s5) + (s3 + s7));
}

/** Σ (x − k) over n values. */
@inline function shiftSumImpl(p: usize, n: i32, k: f64, simd: bool): f64 {
  let i = 0;
  let s: f64;
  if (simd) {
    const kv = f64x2.splat(k);
    let a0 = f64x2.splat(0), a1 = f64x2.splat(0), a2 = f64x2.splat(0), a3 = f64x2.splat(0);
    for (; i + 8 <= n; i += 8) {
      const q = p + (<usize>i << 3);
      a0 = f64x2.add(a0, f64x2.sub(v128.load(q), kv));
      a1 = f64x2.add(a1, f64x2.sub(v128.load(q, 16), kv));
      a2 = f64x2.add(a2, f64x2.sub(v128.load(q, 32), kv));
      a3 = f64x2.add(a3, f64x2.sub(v128.load(q, 48), kv));
    }
    s = red8(a0, a1, a2, a3);
  } else {
    let s0: f64 = 0, s1: f64 = 0, s2: f64 = 0, s3: f64 = 0, s4: f64 = 0, s5: f64 = 0, s6: f64 = 0, s7: f64 = 0;
    for (; i + 8 <= n; i += 8) {
      const q = p + (<usize>i << 3);
      s0 += load<f64>(q) - k; s1 += load<f64>(q, 8) - k; s2 += load<f64>(q, 16) - k; s3 += load<f64>(q, 24) - k;
      s4 += load<f64>(q, 32) - k; s5 += load<f64>(q, 40) - k; s6 += load<f64>(q, 48) - k; s7 += load<f64>(q, 56) - k;
    }
    s = red8s(s0, s1, s2, s3, s4, s5, s6, s7);
  }
  for (; i < n; i++) s += load<f64>(p + (<usize>i << 3)) - k;
  return s;
}

/** Σ ((x − k) − m) and Σ ((x − k) − m)² → out[0], out[1] (k: a shift near the values, m: small). */
@inline function shiftDevImpl(p: usize, n: i32, k: f64, m: f64, out: usize, simd: bool): void {
  let i = 0;
  let d: f64, dd: f64;
  if (simd) {
    const kv = f64x2.splat(k), mv = f64x2.splat(m);
    let a0 = f64x2.splat(0), a1 = f64x2.splat(0), a2 = f64x2.splat(0), a3 = f64x2.splat(0);
    let b0 = f64x2.splat(0), b1 = f64x2.splat(0), b2 = f64x2.splat(0), b3 = f64x2.splat(0);
    for (; i + 8 <= n; i += 8) {
      const q = p + (<usize>i << 3);
      const x0 = f64x2.sub(f64x2.sub(v128.load(q), kv), mv);
      const x1 = f64x2.sub(f64x2.sub(v128.load(q, 16), kv), mv);
      const x2 = f64x2.sub(f64x2.sub(v128.load(q, 32), kv), mv);
      const x3 = f64x2.sub(f64x2.sub(v128.load(q, 48), kv), mv);
      a0 = f64x2.add(a0, x0); a1 = f64x2.add(a1, x1); a2 = f64x2.add(a2, x2); a3 = f64x2.add(a3, x3);
      b0 = f64x2.add(b0, f64x2.mul(x0, x0)); b1 = f64x2.add(b1, f64x2.mul(x1, x1));
      b2 = f64x2.add(b2, f64x2.mul(x2, x2)); b3 = f64x2.add(b3, f64x2.mul(x3, x3));
    }
    d = red8(a0, a1, a2, a3);
    dd = red8(b0, b1, b2, b3);
  } else {
    let a0: f64 = 0, a1: f64 = 0, a2: f64 = 0, a3: f64 = 0, a4: f64 = 0, a5: f64 = 0, a6: f64 = 0, a7: f64 = 0;
    let b0: f64 = 0, b1: f64 = 0, b2: f64 = 0, b3: f64 = 0, b4: f64 = 0, b5: f64 = 0, b6: f64 = 0, b7: f64 = 0;
    for (; i + 8 <= n; i += 8) {
      const q = p + (<usize>i << 3);
      const x0 = (load<f64>(q) - k) - m, x1 = (load<f64>(q, 8) - k) - m, x2 = (load<f64>(q, 16) - k) - m, x3 = (load<f64>(q, 24) - k) - m;
      const x4 = (load<f64>(q, 32) - k) - m, x5 = (load<f64>(q, 40) - k) - m, x6 = (load<f64>(q, 48) - k) - m, x7 = (load<f64>(q, 56) - k) - m;
      a0 += x0; a1 += x1; a2 += x2; a3 += x3; a4 += x4; a5 += x5; a6 += x6; a7 += x7;
      b0 += x0 * x0; b1 += x1 * x1; b2 += x2 * x2; b3 += x3 * x3; b4 += x4 * x4; b5 += x5 * x5; b6 += x6 * x6; b7 += x7 * x7;
    }
    d = red8s(a0, a1, a2, a3, a4, a5, a6, a7);
    dd = red8s(b0, b1, b2, b3, b4, b5, b6, b7);
  }
  for (; i < n; i++) {
    const x = (load<f64>(p + (<usize>i << 3)) - k) - m;
    d += x;
    dd += x * x;
  }
  store<f64>(out, d);
  store<f64>(out, dd, 8);
}

/**
 * Shifted two-pass summary of n values about a shift k → out[0] = mean − k, out[1] = M2
 * (corrected two-pass, in the shifted frame: a 1e9 level with tiny moves keeps its digits).
 */
@inline function shiftMeanVarImpl(p: usize, n: i32, k: f64, out: usize, simd: bool): void {
  const fn = <f64>n;
  const m0 = shiftSumImpl(p, n, k, simd) / fn;
  shiftDevImpl(p, n, k, m0, out, simd);
  const d = load<f64>(out);
  const dd = load<f64>(out, 8);
  store<f64>(out, m0 + d / fn);
  store<f64>(out, dd - d * d / fn, 8);
}
export function statsShiftMeanVar(p: usize, n: i32, k: f64, out: usize): void { shiftMeanVarImpl(p, n, k, out, true); }
export function statsShiftMeanVarScalar(p: usize, n: i32, k: f64, out: usize): void { shiftMeanVarImpl(p, n, k, out, false); }

/** Σ (x − k) (SIMD), for the streaming batch paths. */
export function shiftSum(p: usize, n: i32, k: f64): f64 { return shiftSumImpl(p, n, k, true); }
/** Σ (x − k) and Σ (x − k)² → out[0], out[1] (SIMD), for the streaming batch paths. */
export function shiftDev(p: usize, n: i32, k: f64, out: usize): void { shiftDevImpl(p, n, k, 0, out, true); }

/**
 * Pair sums about (kx, ky) over two arrays of n values: Σdx, Σdy, Σdx², Σdy², Σdx·dy → out[0..4]
 * (dx = x − kx, dy = y − ky; two f64x2 accumulators per sum, then the tail in order).
 */
export function pairShiftSums(px: usize, py: usize, n: i32, kx: f64, ky: f64, out: usize): void {
  let i = 0;
  const kxv = f64x2.splat(kx), kyv = f64x2.splat(ky);
  let a0 = f64x2.splat(0), a1 = f64x2.splat(0), b0 = f64x2.splat(0), b1 = f64x2.splat(0);
  let c0 = f64x2.splat(0), c1 = f64x2.splat(0), d0 = f64x2.splat(0), d1 = f64x2.splat(0);
  let e0 = f64x2.splat(0), e1 = f64x2.splat(0);
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 3;
    const x0 = f64x2.sub(v128.load(px + o), kxv), x1 = f64x2.sub(v128.load(px + o, 16), kxv);
    const y0 = f64x2.sub(v128.load(py + o), kyv), y1 = f64x2.sub(v128.load(py + o, 16), kyv);
    a0 = f64x2.add(a0, x0); a1 = f64x2.add(a1, x1);
    b0 = f64x2.add(b0, y0); b1 = f64x2.add(b1, y1);
    c0 = f64x2.add(c0, f64x2.mul(x0, x0)); c1 = f64x2.add(c1, f64x2.mul(x1, x1));
    d0 = f64x2.add(d0, f64x2.mul(y0, y0)); d1 = f64x2.add(d1, f64x2.mul(y1, y1));
    e0 = f64x2.add(e0, f64x2.mul(x0, y0)); e1 = f64x2.add(e1, f64x2.mul(x1, y1));
  }
  let sa = sum4(f64x2.extract_lane(a0, 0), f64x2.extract_lane(a0, 1), f64x2.extract_lane(a1, 0), f64x2.extract_lane(a1, 1));
  let sb = sum4(f64x2.extract_lane(b0, 0), f64x2.extract_lane(b0, 1), f64x2.extract_lane(b1, 0), f64x2.extract_lane(b1, 1));
  let sc = sum4(f64x2.extract_lane(c0, 0), f64x2.extract_lane(c0, 1), f64x2.extract_lane(c1, 0), f64x2.extract_lane(c1, 1));
  let sd = sum4(f64x2.extract_lane(d0, 0), f64x2.extract_lane(d0, 1), f64x2.extract_lane(d1, 0), f64x2.extract_lane(d1, 1));
  let se = sum4(f64x2.extract_lane(e0, 0), f64x2.extract_lane(e0, 1), f64x2.extract_lane(e1, 0), f64x2.extract_lane(e1, 1));
  for (; i < n; i++) {
    const o = <usize>i << 3;
    const x = load<f64>(px + o) - kx;
    const y = load<f64>(py + o) - ky;
    sa += x; sb += y; sc += x * x; sd += y * y; se += x * y;
  }
  store<f64>(out, sa); store<f64>(out, sb, 8); store<f64>(out, sc, 16); store<f64>(out, sd, 24); store<f64>(out, se, 32);
}

/** 1 when all n values are finite, else 0: Σ (x − x) is 0, or NaN from a NaN or ±Inf (no overflow). */
export function statsAllFinite(p: usize, n: i32): i32 {
  let i = 0;
  let a0 = f64x2.splat(0), a1 = f64x2.splat(0);
  for (; i + 4 <= n; i += 4) {
    const q = p + (<usize>i << 3);
    const v0 = v128.load(q), v1 = v128.load(q, 16);
    a0 = f64x2.add(a0, f64x2.sub(v0, v0));
    a1 = f64x2.add(a1, f64x2.sub(v1, v1));
  }
  let s = f64x2.extract_lane(a0, 0) + f64x2.extract_lane(a0, 1) + f64x2.extract_lane(a1, 0) + f64x2.extract_lane(a1, 1);
  for (; i < n; i++) { const x = load<f64>(p + (<usize>i << 3)); s += x - x; }
  return s == 0 ? 1 : 0;
}
