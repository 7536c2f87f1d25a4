/**
 * Plain TypeScript references for the statistics kernels (obviously correct, slow): two-pass
 * mean/variance, covariance, correlation, OLS by textbook formulas on centred data, correlation
 * matrices, and naive window statistics recomputed from scratch. src/ never imports this file.
 */
export function refMean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return s / xs.length;
}

export function refM2(xs: ArrayLike<number>): number {
  const m = refMean(xs);
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += (xs[i]! - m) ** 2;
  return s;
}

export function refVar(xs: ArrayLike<number>, ddof = 1): number | null {
  return xs.length - ddof <= 0 ? null : refM2(xs) / (xs.length - ddof);
}

export function refCov(x: ArrayLike<number>, y: ArrayLike<number>, ddof = 1): number | null {
  if (x.length - ddof <= 0) return null;
  const mx = refMean(x);
  const my = refMean(y);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i]! - mx) * (y[i]! - my);
  return s / (x.length - ddof);
}

export function refCorr(x: ArrayLike<number>, y: ArrayLike<number>): number | null {
  const vx = refM2(x);
  const vy = refM2(y);
  if (x.length < 2 || vx === 0 || vy === 0) return null;
  return refCov(x, y, 0)! * x.length / Math.sqrt(vx * vy);
}

/** OLS of y on x with a constant; a constant x has no slope: alpha and beta null, rss about ȳ. */
export function refOls(y: ArrayLike<number>, x: ArrayLike<number>): { alpha: number | null; beta: number | null; rss: number } {
  const mx = refMean(x);
  const my = refMean(y);
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < x.length; i++) { sxx += (x[i]! - mx) ** 2; sxy += (x[i]! - mx) * (y[i]! - my); }
  if (sxx === 0) return { alpha: null, beta: null, rss: refM2(y) };
  const beta = sxy / sxx;
  const alpha = my - beta * mx;
  let rss = 0;
  for (let i = 0; i < x.length; i++) rss += (y[i]! - alpha - beta * x[i]!) ** 2;
  return { alpha, beta, rss };
}
