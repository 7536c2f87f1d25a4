/**
 * Exact references for z-scores and spreads: every input double is turned into an exact rational
 * (BigInt numerator over a power of two), means, sums of squares, OLS slopes and spreads are
 * computed as exact rationals, and only the final value is rounded to a double (a square root
 * is taken of an exact rational to ~60 significant bits). The oracle of the 1e9-offset tests in
 * test/kernels/stats.test.ts; src/ never imports it.
 *
 * Layout: a rational is { n: bigint, d: bigint } with d > 0, not necessarily reduced.
 * Invariants: no floating-point operation before the final conversion (`toNumber`, `sqrtRatio`).
 * Complexity: O(n) BigInt operations per statistic; numbers grow to a few thousand bits.
 * Allocation: freely (BigInts); tests only. Known limitations: finite inputs only.
 */

export interface Q { n: bigint; d: bigint }

const F64 = new Float64Array(1);
const U64 = new BigUint64Array(F64.buffer);

/** The exact value of a finite double as a rational m / 2^k. */
export function exact(x: number): Q {
  if (!Number.isFinite(x)) throw new RangeError(`exact: ${x} is not finite`);
  if (x === 0) return { n: 0n, d: 1n };
  F64[0] = x;
  const bits = U64[0]!;
  const sign = bits >> 63n ? -1n : 1n;
  const e = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  const m = e === 0 ? frac : frac | (1n << 52n);
  const p = (e === 0 ? 1 : e) - 1075; // value = m · 2^p
  return p >= 0 ? { n: sign * (m << BigInt(p)), d: 1n } : { n: sign * m, d: 1n << BigInt(-p) };
}

export const add = (a: Q, b: Q): Q => ({ n: a.n * b.d + b.n * a.d, d: a.d * b.d });
export const sub = (a: Q, b: Q): Q => ({ n: a.n * b.d - b.n * a.d, d: a.d * b.d });
export const mul = (a: Q, b: Q): Q => ({ n: a.n * b.n, d: a.d * b.d });
export function div(a: Q, b: Q): Q {
  if (b.n === 0n) throw new RangeError('div by zero');
  return b.n < 0n ? { n: -a.n * b.d, d: a.d * -b.n } : { n: a.n * b.d, d: a.d * b.n };
}
const int = (k: number): Q => ({ n: BigInt(k), d: 1n });

function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}
function reduce(a: Q): Q {
  const g = gcd(a.n, a.d);
  return g > 1n ? { n: a.n / g, d: a.d / g } : a;
}

function bitLength(v: bigint): number { return v === 0n ? 0 : v.toString(2).length; }

/** The double nearest to a rational (to within one rounding of a 64-bit quotient). */
export function toNumber(a: Q): number {
  if (a.n === 0n) return 0;
  const neg = a.n < 0n;
  const n = neg ? -a.n : a.n;
  const shift = 64 - (bitLength(n) - bitLength(a.d)); // quotient gets ~64 significant bits
  const q = shift >= 0 ? (n << BigInt(shift)) / a.d : n / (a.d << BigInt(-shift));
  const v = Number(q) * 2 ** -shift;
  return neg ? -v : v;
}

/** √a for a ≥ 0, to ~60 significant bits. */
export function sqrtRatio(a: Q): number {
  if (a.n < 0n) throw new RangeError('sqrt of a negative');
  if (a.n === 0n) return 0;
  // √(n/d) = √(n·d) / d; integer square root of n·d·4^k
  const k = Math.max(0, 64 - Math.floor((bitLength(a.n) - bitLength(a.d)) / 2));
  const v = (a.n * a.d) << BigInt(2 * k);
  let r = BigInt(Math.floor(Math.sqrt(Number(v))));
  if (r === 0n) r = 1n;
  for (let i = 0; i < 200; i++) {
    const next = (r + v / r) >> 1n;
    if (next === r || next === r + 1n || next === r - 1n) { r = next; break; }
    r = next;
  }
  while (r * r > v) r--;
  while ((r + 1n) * (r + 1n) <= v) r++;
  return toNumber({ n: r, d: a.d << BigInt(k) });
}

function meanQ(xs: Q[]): Q {
  let s: Q = { n: 0n, d: 1n };
  for (const x of xs) s = reduce(add(s, x));
  return reduce(div(s, int(xs.length)));
}

/** Σ (x − mean)² exactly. */
function m2Q(xs: Q[], m: Q): Q {
  let s: Q = { n: 0n, d: 1n };
  for (const x of xs) { const d = sub(x, m); s = reduce(add(s, mul(d, d))); }
  return s;
}

function crossQ(xs: Q[], mx: Q, ys: Q[], my: Q): Q {
  let s: Q = { n: 0n, d: 1n };
  for (let i = 0; i < xs.length; i++) s = reduce(add(s, mul(sub(xs[i]!, mx), sub(ys[i]!, my))));
  return s;
}

/** (x − mean(xs)) / std(xs, ddof), exactly, rounded once; null when undefined (as the API). */
export function exactZscore(xs: ArrayLike<number>, x: number, ddof: 0 | 1 = 1): number | null {
  const q = Array.from(xs, exact);
  if (q.length - ddof <= 0) return null;
  const m = meanQ(q);
  const v = div(m2Q(q, m), int(q.length - ddof));
  if (v.n === 0n) return null;
  const dev = sub(exact(x), m);
  // z = dev / √v = sign(dev) · √(dev² / v)
  const z = sqrtRatio(div(mul(dev, dev), v));
  return dev.n < 0n ? -z : z;
}

/** OLS of y on x with a constant, exactly: slope, intercept and every residual y − (α + βx). */
export function exactOls(ys: ArrayLike<number>, xs: ArrayLike<number>): { beta: number | null; alpha: number | null; residuals: number[] } {
  const x = Array.from(xs, exact);
  const y = Array.from(ys, exact);
  const mx = meanQ(x);
  const my = meanQ(y);
  const sxx = m2Q(x, mx);
  if (sxx.n === 0n) return { beta: null, alpha: null, residuals: y.map((v) => toNumber(sub(v, my))) };
  const beta = reduce(div(crossQ(x, mx, y, my), sxx));
  const alpha = reduce(sub(my, mul(beta, mx)));
  return {
    beta: toNumber(beta), alpha: toNumber(alpha),
    residuals: y.map((v, i) => toNumber(sub(v, add(alpha, mul(beta, x[i]!))))),
  };
}

/**
 * The pair monitor's newest spread: the OLS of y on x over `xs`/`ys` (the window, newest last),
 * then y − (α + βx) for the newest pair, exactly; null when x is constant.
 */
export function exactSpread(xs: ArrayLike<number>, ys: ArrayLike<number>): number | null {
  const r = exactOls(ys, xs);
  return r.beta === null ? null : r.residuals[r.residuals.length - 1]!;
}
