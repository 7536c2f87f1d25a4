/*
 * Native yardstick for bench:wasm (statistics): the same batch kernels as
 * assembly/stats/kernels.ts (corrected two-pass mean/variance, covariance, correlation matrix),
 * built by the benchmark with `gcc -O3 -march=native` when gcc is present.
 * Usage: stats-kernels DATA.bin N K REPS → JSON timings (ns per call, medians) on stdout.
 * DATA.bin holds K series of N little-endian doubles, one after the other.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static void mean_var(const double *x, long n, double *out) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  long i = 0;
  for (; i + 4 <= n; i += 4) { s0 += x[i]; s1 += x[i + 1]; s2 += x[i + 2]; s3 += x[i + 3]; }
  double s = (s0 + s2) + (s1 + s3);
  for (; i < n; i++) s += x[i];
  double m = s / n, a0 = 0, a1 = 0, a2 = 0, a3 = 0, b0 = 0, b1 = 0, b2 = 0, b3 = 0;
  for (i = 0; i + 4 <= n; i += 4) {
    double d0 = x[i] - m, d1 = x[i + 1] - m, d2 = x[i + 2] - m, d3 = x[i + 3] - m;
    a0 += d0; a1 += d1; a2 += d2; a3 += d3; b0 += d0 * d0; b1 += d1 * d1; b2 += d2 * d2; b3 += d3 * d3;
  }
  double d = (a0 + a2) + (a1 + a3), dd = (b0 + b2) + (b1 + b3);
  for (; i < n; i++) { double t = x[i] - m; d += t; dd += t * t; }
  out[0] = m + d / n;
  out[1] = dd - d * d / n;
}

static double cross(const double *x, const double *y, long n, double mx, double my) {
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

static void corr_matrix(const double *data, long n, int k, double *out, double *work) {
  for (int j = 0; j < k; j++) {
    double mv[2];
    mean_var(data + j * n, n, mv);
    for (long i = 0; i < n; i++) work[j * n + i] = data[j * n + i] - mv[0];
  }
  for (int a = 0; a < k; a++)
    for (int b = a; b < k; b++) out[a * k + b] = out[b * k + a] = cross(work + a * n, work + b * n, n, 0, 0);
  for (int a = 0; a < k; a++)
    for (int b = 0; b < k; b++)
      if (a != b) out[a * k + b] /= sqrt(out[a * k + a] * out[b * k + b]);
}

static int cmp(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }

int main(int argc, char **argv) {
  if (argc < 5) { fprintf(stderr, "usage: %s DATA.bin N K REPS\n", argv[0]); return 2; }
  long n = atol(argv[2]);
  int k = atoi(argv[3]), reps = atoi(argv[4]);
  double *data = malloc(sizeof(double) * n * k), *work = malloc(sizeof(double) * n * k), *out = malloc(sizeof(double) * k * k);
  double *t = malloc(sizeof(double) * reps);
  FILE *f = fopen(argv[1], "rb");
  if (!f || fread(data, sizeof(double), (size_t)(n * k), f) != (size_t)(n * k)) { fprintf(stderr, "cannot read %s\n", argv[1]); return 1; }
  fclose(f);
  double mv[2], sink = 0;
  for (int r = 0; r < reps; r++) { double t0 = now_ns(); mean_var(data, n, mv); t[r] = now_ns() - t0; sink += mv[1]; }
  qsort(t, reps, sizeof(double), cmp);
  double t_mv = t[reps / 2];
  double mv0[2] = {mv[0], mv[1]};
  for (int r = 0; r < reps; r++) {
    double t0 = now_ns();
    mean_var(data, n, mv); double mx = mv[0]; mean_var(data + n, n, mv); double my = mv[0];
    sink += cross(data, data + n, n, mx, my);
    t[r] = now_ns() - t0;
  }
  qsort(t, reps, sizeof(double), cmp);
  double t_cov = t[reps / 2];
  int rc = reps < 5 ? reps : 5;
  for (int r = 0; r < rc; r++) { double t0 = now_ns(); corr_matrix(data, n, k, out, work); t[r] = now_ns() - t0; sink += out[1]; }
  qsort(t, rc, sizeof(double), cmp);
  double t_corr = t[rc / 2];
  printf("{\"meanVarNs\":%.1f,\"covNs\":%.1f,\"corrMatrixNs\":%.1f,\"meanVar\":[%.17g,%.17g],\"sink\":%.6g}\n", t_mv, t_cov, t_corr, mv0[0], mv0[1], sink);
  return 0;
}
