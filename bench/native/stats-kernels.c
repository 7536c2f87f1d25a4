/*
 * Native yardstick for bench:stats: the batch kernels of assembly/stats/kernels.ts (corrected
 * two-pass mean/variance, covariance, correlation matrix) and the batch path of
 * RunningStats.pushMany (chunks of 4,096: shifted two-pass + Chan merge), built by the benchmark
 * with `gcc -O3 -march=native` when gcc is present. Each kernel comes in three builds of the
 * same algorithm:
 *   plain  — scalar C with four partial sums, as the WASM scalar twin. Without -ffast-math GCC
 *            must keep each sum in order, and its "vectorised" loop is an in-order reduction
 *            (vaddsd chains plus lane shuffles): slower than scalar. This was the old yardstick.
 *   order  — GCC vector extensions, one 4-lane accumulator per sum: the same partial sums in the
 *            same order as the WASM SIMD kernel (two f64x2 accumulators), so the same bits.
 *   wide   — four accumulators of 8 lanes per sum (32 partial sums; one zmm each with AVX-512,
 *            two ymm with AVX2): what the native width allows without -ffast-math. Equal to the
 *            others to rounding.
 * -ffast-math is not used: it licenses the compiler to reassociate (the wide build does that
 * explicitly, within the algorithm) and also to drop NaN/Inf semantics, which the kernels keep.
 * Usage: stats-kernels DATA.bin N K REPS → JSON timings (ns per call, medians) on stdout.
 * DATA.bin holds K ≥ 2 series of N little-endian doubles, one after the other.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef double v4d __attribute__((vector_size(32), aligned(8)));
typedef double v8d __attribute__((vector_size(64), aligned(8)));
#define NOINLINE __attribute__((noinline))

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}
static v4d ld4(const double *p) { v4d v; memcpy(&v, p, sizeof v); return v; }
static v8d ld8(const double *p) { v8d v; memcpy(&v, p, sizeof v); return v; }
static v4d splat4(double x) { return (v4d){x, x, x, x}; }
static v8d splat8(double x) { return (v8d){x, x, x, x, x, x, x, x}; }
static double red4(v4d a) { return (a[0] + a[2]) + (a[1] + a[3]); }
static double red8x4(v8d a, v8d b, v8d c, v8d d) {
  v8d t = (a + c) + (b + d);
  return (((t[0] + t[4]) + (t[2] + t[6])) + ((t[1] + t[5]) + (t[3] + t[7])));
}

/* Σ ((x − k) − m) and Σ ((x − k) − m)² → out[0], out[1]. Three builds. */
NOINLINE static void dev_plain(const double *x, long n, double k, double m, double *out) {
  double a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
  long i = 0;
  for (; i + 4 <= n; i += 4) {
    double d0 = (x[i] - k) - m, d1 = (x[i + 1] - k) - m, d2 = (x[i + 2] - k) - m, d3 = (x[i + 3] - k) - m;
    a0 += d0; a1 += d1; a2 += d2; a3 += d3; b0 += d0 * d0; b1 += d1 * d1; b2 += d2 * d2; b3 += d3 * d3;
  }
  double d = (a0 + a2) + (a1 + a3), dd = (b0 + b2) + (b1 + b3);
  for (; i < n; i++) { double t = (x[i] - k) - m; d += t; dd += t * t; }
  out[0] = d; out[1] = dd;
}
NOINLINE static void dev_order(const double *x, long n, double k, double m, double *out) {
  v4d a = splat4(0), b = splat4(0), kv = splat4(k), mv = splat4(m);
  long i = 0;
  for (; i + 4 <= n; i += 4) { v4d d = (ld4(x + i) - kv) - mv; a += d; b += d * d; }
  double d = red4(a), dd = red4(b);
  for (; i < n; i++) { double t = (x[i] - k) - m; d += t; dd += t * t; }
  out[0] = d; out[1] = dd;
}
NOINLINE static void dev_wide(const double *x, long n, double k, double m, double *out) {
  v8d a0 = splat8(0), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0, kv = splat8(k), mv = splat8(m);
  long i = 0;
  for (; i + 32 <= n; i += 32) {
    v8d d0 = (ld8(x + i) - kv) - mv, d1 = (ld8(x + i + 8) - kv) - mv, d2 = (ld8(x + i + 16) - kv) - mv, d3 = (ld8(x + i + 24) - kv) - mv;
    a0 += d0; a1 += d1; a2 += d2; a3 += d3; b0 += d0 * d0; b1 += d1 * d1; b2 += d2 * d2; b3 += d3 * d3;
  }
  double d = red8x4(a0, a1, a2, a3), dd = red8x4(b0, b1, b2, b3);
  for (; i < n; i++) { double t = (x[i] - k) - m; d += t; dd += t * t; }
  out[0] = d; out[1] = dd;
}
/* Σ (x − mx)(y − my). */
NOINLINE static double cross_plain(const double *x, const double *y, long n, double mx, double my) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  long i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += (x[i] - mx) * (y[i] - my); s1 += (x[i + 1] - mx) * (y[i + 1] - my);
    s2 += (x[i + 2] - mx) * (y[i + 2] - my); s3 += (x[i + 3] - mx) * (y[i + 3] - my);
  }
  double s = (s0 + s2) + (s1 + s3);
  for (; i < n; i++) s += (x[i] - mx) * (y[i] - my);
  return s;
}
NOINLINE static double cross_order(const double *x, const double *y, long n, double mx, double my) {
  v4d a = splat4(0), mxv = splat4(mx), myv = splat4(my);
  long i = 0;
  for (; i + 4 <= n; i += 4) a += (ld4(x + i) - mxv) * (ld4(y + i) - myv);
  double s = red4(a);
  for (; i < n; i++) s += (x[i] - mx) * (y[i] - my);
  return s;
}
NOINLINE static double cross_wide(const double *x, const double *y, long n, double mx, double my) {
  v8d a0 = splat8(0), a1 = a0, a2 = a0, a3 = a0, mxv = splat8(mx), myv = splat8(my);
  long i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 += (ld8(x + i) - mxv) * (ld8(y + i) - myv); a1 += (ld8(x + i + 8) - mxv) * (ld8(y + i + 8) - myv);
    a2 += (ld8(x + i + 16) - mxv) * (ld8(y + i + 16) - myv); a3 += (ld8(x + i + 24) - mxv) * (ld8(y + i + 24) - myv);
  }
  double s = red8x4(a0, a1, a2, a3);
  for (; i < n; i++) s += (x[i] - mx) * (y[i] - my);
  return s;
}

typedef void (*dev_fn)(const double *, long, double, double, double *);
typedef double (*cross_fn)(const double *, const double *, long, double, double);
static const dev_fn DEV[3] = {dev_plain, dev_order, dev_wide};
static const cross_fn CROSS[3] = {cross_plain, cross_order, cross_wide};
static const char *NAME[3] = {"plain", "order", "wide"};

/* Corrected two-pass mean and M2 → out[0], out[1] (pass 1: Σ(x − 0); pass 2 about the mean). */
static void mean_var(int b, const double *x, long n, double *out) {
  double s[2], d[2];
  DEV[b](x, n, 0, 0, s);
  double m = s[0] / n;
  DEV[b](x, n, m, 0, d);
  out[0] = m + d[0] / n;
  out[1] = d[1] - d[0] * d[0] / n;
}
static double cov(int b, const double *x, const double *y, long n) {
  double mx[2], my[2];
  mean_var(b, x, n, mx);
  mean_var(b, y, n, my);
  return CROSS[b](x, y, n, mx[0], my[0]);
}
static void corr_matrix(int b, const double *data, long n, int k, double *out, double *work) {
  for (int j = 0; j < k; j++) {
    double mv[2];
    mean_var(b, data + j * n, n, mv);
    for (long i = 0; i < n; i++) work[j * n + i] = data[j * n + i] - mv[0];
  }
  for (int a = 0; a < k; a++)
    for (int c = a; c < k; c++) out[a * k + c] = out[c * k + a] = CROSS[b](work + a * n, work + c * n, n, 0, 0);
  for (int a = 0; a < k; a++)
    for (int c = 0; c < k; c++)
      if (a != c) out[a * k + c] /= sqrt(out[a * k + a] * out[c * k + c]);
}
/* RunningStats.pushMany: chunks of 4,096, shifted two-pass about K (the first value), Chan merge.
 * state: n, mean − K, M2, K. */
static void running_push_many(int b, const double *x, long n, double *st) {
  if (st[0] == 0) st[3] = x[0];
  double k = st[3];
  for (long off = 0; off < n; off += 4096) {
    long m = n - off < 4096 ? n - off : 4096;
    double s[2], d[2];
    DEV[b](x + off, m, k, 0, s);
    double m0 = s[0] / m;
    DEV[b](x + off, m, k, m0, d);
    double mb = m0 + d[0] / m;
    double m2b = d[1] - d[0] * d[0] / m;
    double na = st[0], nn = na + m, dl = mb - st[1];
    st[1] += dl * m / nn;
    st[2] += m2b + dl * dl * na * m / nn;
    st[0] = nn;
  }
}
/* Welford per value in the shifted frame (RunningStats.push). */
NOINLINE static void welford(const double *x, long n, double *st) {
  if (st[0] == 0) st[3] = x[0];
  double cnt = st[0], mean = st[1], m2 = st[2], k = st[3];
  for (long i = 0; i < n; i++) {
    double y = x[i] - k, dl = y - mean;
    cnt += 1;
    mean += dl / cnt;
    m2 += dl * (y - mean);
  }
  st[0] = cnt; st[1] = mean; st[2] = m2;
}

static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }
static double *T;
static double median(int reps) { qsort(T, reps, sizeof(double), cmp); return T[reps / 2]; }

int main(int argc, char **argv) {
  if (argc < 5) { fprintf(stderr, "usage: %s DATA.bin N K REPS\n", argv[0]); return 2; }
  long n = atol(argv[2]);
  int k = atoi(argv[3]), reps = atoi(argv[4]);
  if (k < 2 || reps < 1) { fprintf(stderr, "K must be ≥ 2, REPS ≥ 1\n"); return 2; }
  double *data = malloc(sizeof(double) * n * k), *work = malloc(sizeof(double) * n * k), *out = malloc(sizeof(double) * k * k);
  T = malloc(sizeof(double) * reps);
  FILE *f = fopen(argv[1], "rb");
  if (!f || fread(data, sizeof(double), (size_t)(n * k), f) != (size_t)(n * k)) { fprintf(stderr, "cannot read %s\n", argv[1]); return 1; }
  fclose(f);
  double sink = 0;
  printf("{");
  for (int b = 0; b < 3; b++) {
    double mv[2], st[4];
    for (int r = 0; r < reps; r++) { double t0 = now_ns(); mean_var(b, data, n, mv); T[r] = now_ns() - t0; sink += mv[1]; }
    double t_mv = median(reps);
    double m2 = mv[1], mean = mv[0];
    for (int r = 0; r < reps; r++) { double t0 = now_ns(); sink += cov(b, data, data + n, n); T[r] = now_ns() - t0; }
    double t_cov = median(reps);
    int rc = reps < 5 ? reps : 5;
    for (int r = 0; r < rc; r++) { double t0 = now_ns(); corr_matrix(b, data, n, k, out, work); T[r] = now_ns() - t0; sink += out[1]; }
    double t_corr = median(rc);
    for (int r = 0; r < reps; r++) { memset(st, 0, sizeof st); double t0 = now_ns(); running_push_many(b, data, n, st); T[r] = now_ns() - t0; sink += st[2]; }
    double t_run = median(reps);
    double run_m2 = st[2];
    printf("\"%s\":{\"meanVarNs\":%.1f,\"covNs\":%.1f,\"corrMatrixNs\":%.1f,\"pushManyNs\":%.1f,\"meanVar\":[%.17g,%.17g],\"pushManyM2\":%.17g},",
           NAME[b], t_mv, t_cov, t_corr, t_run, mean, m2, run_m2);
  }
  double st[4];
  for (int r = 0; r < reps; r++) { memset(st, 0, sizeof st); double t0 = now_ns(); welford(data, n, st); T[r] = now_ns() - t0; sink += st[2]; }
  printf("\"welfordNs\":%.1f,\"welfordM2\":%.17g,\"sink\":%.6g}\n", median(reps), st[2], sink);
  return 0;
}
