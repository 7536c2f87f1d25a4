// tsc_core.h — the arithmetic shared by the CUDA kernels (native/cuda/*.cu) and the addon's C++
// CPU baseline (native/src/gpu.cc): standardising a series, the Engle–Granger/ADF decision on a
// Gram matrix, MacKinnon (1994) p-values. One source, so the CPU path tested on every machine is
// the same algorithm the GPU runs; only the summation order of the dot products differs.
//
// Layout: header-only; TSC_HD marks functions for both host and device (plain inline under g++).
// Invariants: follows src/stats/adf.ts (coint trend 'c' → adfuller regression 'n' on the OLS
// residuals, autolag AIC over lags 0..maxlag on common rows, refit of the chosen lag on its own
// rows, t statistic of x(t−1)), but by Cholesky of the Gram matrix [X y]ᵀ[X y] instead of
// Householder QR: R = Lᵀ, so z, the nested residual sums of squares and the t statistic are the
// same quantities (agreement ~1e-12 relative on ordinary data; see test/kernels/universe.test.ts).
// Complexity: O(p³) per factorisation, p ≤ TSC_MAX_LAG + 2. Allocation: none (caller's buffers).
// Known limitations: rank detection uses the Cholesky pivots (|R_jj| ≤ n·ε·max|R_jj|, as the
// WASM QR); on exactly collinear designs the two may disagree where QR keeps a column at the edge.
#pragma once
#include <math.h>
#include <stdint.h>

#ifdef __CUDACC__
#define TSC_HD __host__ __device__ inline
#else
#define TSC_HD inline
#endif

#define TSC_MAX_LAG 64
#define TSC_MAX_P (TSC_MAX_LAG + 2) /* regressors + y */

// EG result slots (out[pair*TSC_EG_SLOTS + …])
enum { TSC_EG_ALPHA = 0, TSC_EG_BETA = 1, TSC_EG_STAT = 2, TSC_EG_PVALUE = 3, TSC_EG_USEDLAG = 4, TSC_EG_STATUS = 5, TSC_EG_SLOTS = 6 };
// EG status codes
enum { TSC_EG_OK = 0, TSC_EG_CONST_X = 1, TSC_EG_RANK = 2, TSC_EG_CONST_RESID = 3, TSC_EG_COLLINEAR = 4 };

// Φ(x) to ~1e-16 absolute: the same series as normCdf in src/stats/adf.ts.
TSC_HD double tsc_norm_cdf(double x) {
  if (x != x) return x;
  if (x < -8.3) return 0;
  if (x > 8.3) return 1;
  double term = x, sum = x;
  const double x2 = x * x;
  for (int k = 3; k < 400; k += 2) {
    term *= x2 / k;
    sum += term;
    if (fabs(term) < 1e-17 * fabs(sum)) break;
  }
  return 0.5 + sum * exp(-0.5 * x2 - 0.5 * 1.8378770664093453 /* log 2π */);
}

// MacKinnon (1994) p-value of an Engle–Granger statistic, regression 'c', N = 2 series
// (src/stats/mackinnon.ts: tauMax/tauMin/tauStar/tauSmallP/tauLargeP "c"[1]).
TSC_HD double tsc_mackinnonp_c2(double stat) {
  if (stat > 0.92) return 1;
  if (stat < -18.86) return 0;
  double v;
  if (stat <= -2.62) {
    v = (0.039796 * stat + 1.5012) * stat + 2.92;
  } else {
    v = ((-0.042377000000000005 * stat + -0.29198) * stat + 0.64695) * stat + 2.1945;
  }
  return tsc_norm_cdf(v);
}

// adfuller's default maxlag for n0 values and regression 'n' (ntrend 0); −1 when too short.
TSC_HD int tsc_default_maxlag(int n0) {
  int m = (int)ceil(12.0 * pow(n0 / 100.0, 0.25));
  int cap = n0 / 2 - 1;
  return m < cap ? m : cap;
}

// In-place Cholesky of the symmetric q×q matrix G (row-major, lower triangle used): L in the lower
// triangle. Pivots of the first `p` columns are rank-checked as the WASM QR does (|L_jj| ≤
// nrows·ε·max|L_jj| → deficient); the last (y) pivot may be 0. Returns 1 when full rank.
TSC_HD int tsc_cholesky(double* G, int q, int p, int nrows) {
  double maxd = 0;
  for (int j = 0; j < q; j++) {
    double s = G[j * q + j];
    for (int l = 0; l < j; l++) s -= G[j * q + l] * G[j * q + l];
    if (j < p) {
      if (!(s > 0)) return 0;
      double d = sqrt(s);
      if (d <= maxd * nrows * 2.220446049250313e-16) return 0;
      if (d > maxd) maxd = d;
      G[j * q + j] = d;
    } else {
      G[j * q + j] = s > 0 ? sqrt(s) : 0;
    }
    for (int i = j + 1; i < q; i++) {
      double a = G[i * q + j];
      for (int l = 0; l < j; l++) a -= G[i * q + l] * G[j * q + l];
      G[i * q + j] = G[j * q + j] != 0 ? a / G[j * q + j] : 0;
    }
  }
  return 1;
}

// Value of design column c (0: x(t−1) = r[t]; 1..p−1: Δx(t−c) = d[t−c]; p: y = Δx(t) = d[t]) at
// row t, where d[t] = r[t+1] − r[t] (Δx of adfuller's xdiff).
TSC_HD double tsc_col(const double* r, int c, int p, int t) {
  if (c == 0) return r[t];
  const int s = c == p ? t : t - c;
  return r[s + 1] - r[s];
}

// AIC lag choice from the Cholesky factor of the search Gram (p = 1 + maxlag regressors, nobs
// rows): returns usedlag (0..maxlag). rss(m) = yᵀy − Σ_{j<m} z_j², z_j = L[p][j].
TSC_HD int tsc_aic_lag(const double* L, double yy, int p, int nobs) {
  const int q = p + 1;
  double best = INFINITY, acc = 0;
  int bestm = p;
  for (int m = 1; m <= p; m++) {
    const double z = L[p * q + (m - 1)];
    acc += z * z;
    double rss = m == p ? L[p * q + p] * L[p * q + p] : yy - acc;
    double llf = -nobs / 2.0 * (1.8378770664093453 + log(rss / nobs) + 1);
    double ic = -2 * llf + 2 * m;
    if (ic < best) { best = ic; bestm = m; }
  }
  return bestm - 1;
}

// t statistic of column 0 from the Cholesky factor of the refit Gram (p regressors, nobs rows).
TSC_HD double tsc_tstat0(const double* L, int p, int nobs) {
  const int q = p + 1;
  double coef[TSC_MAX_P];
  double w[TSC_MAX_P];
  for (int j = p - 1; j >= 0; j--) {
    double acc = L[p * q + j];
    for (int c = j + 1; c < p; c++) acc -= L[c * q + j] * coef[c];
    coef[j] = acc / L[j * q + j];
  }
  w[0] = 1 / L[0];
  double nw = w[0] * w[0];
  for (int r = 1; r < p; r++) {
    double acc = 0;
    for (int l = 0; l < r; l++) acc += L[r * q + l] * w[l];
    w[r] = -acc / L[r * q + r];
    nw += w[r] * w[r];
  }
  const double rss = L[p * q + p] * L[p * q + p];
  const double sigma = sqrt(rss / (nobs - p));
  return coef[0] / (sigma * sqrt(nw));
}

// OLS sums of y on x with a constant, corrected two-pass (assembly/stats/kernels.ts covImpl):
// from the raw sums Σx, Σy and the first-pass deviations. Fills mx, my, ex, ey, sxx, sxy.
struct TscOls { double mx, my, ex, ey, sxx, syy0, sxy, beta, alpha; };
TSC_HD void tsc_ols_finish(TscOls& o, double n, double mx0, double my0, double dx, double dy, double sxx0, double syy0, double sxy0) {
  o.mx = mx0 + dx / n;
  o.my = my0 + dy / n;
  o.sxx = sxx0 - dx * dx / n;
  o.sxy = sxy0 - dx * dy / n;
  o.syy0 = syy0;  // rsquared denominator: Σ(y − Σy/n)² (rsquaredDenominator in adf.ts)
  o.ex = (mx0 - o.mx) + dx / n;
  o.ey = (my0 - o.my) + dy / n;
  if (o.sxx < 0) o.sxx = 0;
  o.beta = o.sxx == 0 ? NAN : o.sxy / o.sxx;
  o.alpha = o.my - o.beta * o.mx;
}

TSC_HD double tsc_resid(const TscOls& o, double y, double x) {
  return ((y - o.my) - o.ey) - o.beta * ((x - o.mx) - o.ex);
}

// The collinearity cut of coint: rsquared ≥ 1 − 100·√ε → statistic −∞.
TSC_HD int tsc_collinear(double rss, double tss) {
  return !(1 - rss / tss < 1 - 100 * 1.4901161193847656e-08);
}
