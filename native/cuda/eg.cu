// eg.cu — batched Engle–Granger screen on the device: one block per candidate pair.
//
// Per pair (y, x): corrected two-pass OLS sums of y on x (block reductions), the residuals r into
// shared memory, the coint collinearity cut, then ADF on r (regression 'n'): the Gram matrix of
// the search design [x(t−1), Δx(t−1..t−maxlag), Δx(t)] over the common rows (one warp per entry,
// Δx formed on the fly from r), Cholesky and the AIC lag choice by one thread (tsc_core.h), the
// Gram of the chosen lag on its own rows, Cholesky again, the t statistic of x(t−1) and the
// MacKinnon p-value. Exactly the decision code of the CPU baseline (native/src/gpu.cc).
//
// Layout: dynamic shared memory per block: r[n] (residuals) · red[32] · G[(maxlag+2)²] (Gram / its
// Cholesky factor, row-major); results per pair in TSC_EG_SLOTS doubles; statuses as tsc_core.h.
// Invariants: every thread of a block takes the same branch (decisions go through shared memory
// and __syncthreads).
// Complexity: O(n·maxlag²) per pair (Gram), O(maxlag³) for the factorisations.
// Allocation: device copies of the series, the pairs and the results; shared memory
// (n + (maxlag+2)² + 32) doubles per block.
// Known limitations: maxlag ≤ TSC_MAX_LAG (64); n limited by the device's shared memory per
// block (about 6,000 values at 48 KB, 28,000 at 227 KB on sm_90).
#include <vector>
#include "common.cuh"
#include "tradsys_cuda.h"
#include "tsc_core.h"

namespace {
constexpr int THREADS = 256;

// Gram of design columns 0..p (p regressors + y) over rows t ∈ [t0, L): one warp per entry.
__device__ void gram(const double* r, int p, int t0, int L, double* G) {
  const int q = p + 1;
  const int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
  const int entries = q * (q + 1) / 2;
  for (int e = w; e < entries; e += nw) {
    int a = 0, rem = e;
    while (rem > a) { rem -= a + 1; a++; }
    const int b = rem;  // a ≥ b
    double s = 0;
    for (int t = t0 + lane; t < L; t += 32) s += tsc_col(r, a, p, t) * tsc_col(r, b, p, t);
    for (int o = 16; o > 0; o >>= 1) s += __shfl_down_sync(0xffffffffu, s, o);
    if (lane == 0) { G[a * q + b] = s; G[b * q + a] = s; }
  }
}

__global__ void eg_kernel(const double* __restrict__ data, int n, const int32_t* __restrict__ pairs, int maxlag,
                          int autolag, double* __restrict__ out) {
  extern __shared__ double sm[];
  double* r = sm;
  double* red = sm + n;
  double* G = red + 32;
  __shared__ TscOls o;
  __shared__ int flag, usedlag;
  const int pr = blockIdx.x;
  const double* y = data + (size_t)pairs[2 * pr] * n;
  const double* x = data + (size_t)pairs[2 * pr + 1] * n;
  double* res = out + (size_t)pr * TSC_EG_SLOTS;

  double sx = 0, sy = 0;
  for (int t = threadIdx.x; t < n; t += blockDim.x) { sx += x[t]; sy += y[t]; }
  const double mx0 = tsc_block_sum(sx, red) / n;
  const double my0 = tsc_block_sum(sy, red) / n;
  double dx = 0, dy = 0, sxx = 0, syy = 0, sxy = 0;
  for (int t = threadIdx.x; t < n; t += blockDim.x) {
    const double a = x[t] - mx0, b = y[t] - my0;
    dx += a; dy += b; sxx += a * a; syy += b * b; sxy += a * b;
  }
  dx = tsc_block_sum(dx, red); dy = tsc_block_sum(dy, red);
  sxx = tsc_block_sum(sxx, red); syy = tsc_block_sum(syy, red); sxy = tsc_block_sum(sxy, red);
  if (threadIdx.x == 0) tsc_ols_finish(o, n, mx0, my0, dx, dy, sxx, syy, sxy);
  __syncthreads();
  if (threadIdx.x == 0) { res[TSC_EG_ALPHA] = o.alpha; res[TSC_EG_BETA] = o.beta; }
  if (o.sxx == 0) {
    if (threadIdx.x == 0) { res[TSC_EG_STAT] = NAN; res[TSC_EG_PVALUE] = NAN; res[TSC_EG_USEDLAG] = -1; res[TSC_EG_STATUS] = TSC_EG_CONST_X; }
    return;
  }
  double rss = 0;
  for (int t = threadIdx.x; t < n; t += blockDim.x) { const double v = tsc_resid(o, y[t], x[t]); r[t] = v; rss += v * v; }
  rss = tsc_block_sum(rss, red);  // synchronises: r is complete
  double moves = 0;
  for (int t = threadIdx.x; t + 1 < n; t += blockDim.x) moves += r[t + 1] != r[t] ? 1.0 : 0.0;
  moves = tsc_block_sum(moves, red);
  if (tsc_collinear(rss, o.syy0)) {
    if (threadIdx.x == 0) { res[TSC_EG_STAT] = -INFINITY; res[TSC_EG_PVALUE] = 0; res[TSC_EG_USEDLAG] = -1; res[TSC_EG_STATUS] = TSC_EG_COLLINEAR; }
    return;
  }
  if (moves == 0) {
    if (threadIdx.x == 0) { res[TSC_EG_STAT] = NAN; res[TSC_EG_PVALUE] = NAN; res[TSC_EG_USEDLAG] = 0; res[TSC_EG_STATUS] = TSC_EG_CONST_RESID; }
    return;
  }
  const int L = n - 1;
  if (threadIdx.x == 0) { flag = 1; usedlag = maxlag; }
  __syncthreads();
  if (autolag) {
    const int p = 1 + maxlag;
    gram(r, p, maxlag, L, G);
    __syncthreads();
    if (threadIdx.x == 0) {
      const double yy = G[p * (p + 1) + p];
      if (!tsc_cholesky(G, p + 1, p, L - maxlag)) flag = 0;
      else usedlag = tsc_aic_lag(G, yy, p, L - maxlag);
    }
    __syncthreads();
  }
  if (flag) {
    const int p = 1 + usedlag;
    gram(r, p, usedlag, L, G);
    __syncthreads();
    if (threadIdx.x == 0) {
      if (!tsc_cholesky(G, p + 1, p, L - usedlag)) flag = 0;
      else {
        const double stat = tsc_tstat0(G, p, L - usedlag);
        res[TSC_EG_STAT] = stat; res[TSC_EG_PVALUE] = tsc_mackinnonp_c2(stat); res[TSC_EG_USEDLAG] = usedlag; res[TSC_EG_STATUS] = TSC_EG_OK;
      }
    }
    __syncthreads();
  }
  if (!flag && threadIdx.x == 0) { res[TSC_EG_STAT] = NAN; res[TSC_EG_PVALUE] = NAN; res[TSC_EG_USEDLAG] = -1; res[TSC_EG_STATUS] = TSC_EG_RANK; }
}
}  // namespace

extern "C" int tsc_eg_screen(const double* data, int k, int n, const int32_t* pairs, int npairs, int maxlag, int autolag,
                             double* out, char* err, int errlen) {
  try {
    if (n < 3) throw TscError("coint needs at least 3 observations");
    if (autolag && maxlag < 0) maxlag = tsc_default_maxlag(n);
    if (maxlag < 0) throw TscError("sample size is too short for the ADF lag search");
    if (maxlag > n / 2 - 1) throw TscError("maxlag must be less than nobs/2 - 1");
    if (maxlag > TSC_MAX_LAG) throw TscError("maxlag above the GPU kernel's limit (" + std::to_string(TSC_MAX_LAG) + ")");
    for (int q = 0; q < 2 * npairs; q++) if (pairs[q] < 0 || pairs[q] >= k) throw TscError("pair index out of range");
    if (npairs == 0) return 0;
    const int qmax = maxlag + 2;
    const size_t shmem = sizeof(double) * ((size_t)n + 32 + (size_t)qmax * qmax);
    int dev = 0, maxOptin = 0;
    TSC_CK(cudaGetDevice(&dev));
    TSC_CK(cudaDeviceGetAttribute(&maxOptin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
    if (shmem > (size_t)maxOptin) throw TscError("n = " + std::to_string(n) + " needs " + std::to_string(shmem) + " bytes of shared memory per block; the device has " + std::to_string(maxOptin));
    TSC_CK(cudaFuncSetAttribute(eg_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)shmem));
    DevBuf<double> d((size_t)k * n);
    DevBuf<int32_t> p((size_t)2 * npairs);
    DevBuf<double> o((size_t)npairs * TSC_EG_SLOTS);
    TSC_CK(cudaMemcpy(d.p, data, sizeof(double) * (size_t)k * n, cudaMemcpyHostToDevice));
    TSC_CK(cudaMemcpy(p.p, pairs, sizeof(int32_t) * 2 * (size_t)npairs, cudaMemcpyHostToDevice));
    eg_kernel<<<npairs, THREADS, shmem>>>(d.p, n, p.p, maxlag, autolag, o.p);
    TSC_CK(cudaGetLastError());
    TSC_CK(cudaMemcpy(out, o.p, sizeof(double) * (size_t)npairs * TSC_EG_SLOTS, cudaMemcpyDeviceToHost));
    return 0;
  } catch (const std::exception& e) {
    return tsc_fail(e, err, errlen);
  }
}

extern "C" int tsc_api_version(void) { return TSC_API_VERSION; }
extern "C" int tsc_device_check(int ordinal, char* err, int errlen) {
  try {
    int count = 0;
    TSC_CK(cudaGetDeviceCount(&count));
    if (ordinal < 0 || ordinal >= count) throw TscError("no CUDA device " + std::to_string(ordinal) + " (" + std::to_string(count) + " present)");
    TSC_CK(cudaSetDevice(ordinal));
    TSC_CK(cudaFree(nullptr));  // creates the context: a kernel image mismatch shows up at launch, this checks the rest
    return 0;
  } catch (const std::exception& e) {
    return tsc_fail(e, err, errlen);
  }
}
