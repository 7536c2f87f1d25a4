// corr.cu — all-pairs Pearson correlation on the device, and the top pairs by |ρ| selected there.
//
// Steps (tsc_corr_top): upload the k×n series; `standardize` (one block per series: corrected
// two-pass mean, z = (x − m)/‖x − m‖, FP64, stored as T = double or float, padded with zeros to
// a multiple of KT); `syrk_tiles` (64×64 output tiles of C = ZZᵀ over the upper block triangle,
// 16×16 threads with 4×4 register blocks, K-slices of 16 through shared memory, FMA within a
// slice and a second-level sum across slices; each tile is
// written with its mirror so rows are contiguous); then a three-level radix select on the 31-bit
// key of |ρ| as a float (12 + 12 + 7 bits, histograms privatised in shared memory) finds the
// smallest key T of the top N exactly, `compact` gathers the pairs with key ≥ T (N plus the
// float-level ties, typically a handful) and the host orders those exactly (|ρ| desc, i, j) and
// keeps N. Requested rows are copied out; the k×k matrix never leaves the device and is freed.
//
// Layout: device buffers x (k×n f64), z (k×ld T), valid (k), C (k×k T, row-major), histograms,
// candidates; results in the caller's host arrays (tradsys_cuda.h).
// Invariants: pairs are i < j; series with zero variance (all values equal) give NaN and are never
// selected; ρ is clamped to [−1, 1]; the diagonal is 1 (NaN for an invalid series).
// Complexity: O(k²·n) flops in the product, three O(k²) passes for the selection.
// Allocation: device: k·ld·sizeof(T) + k²·sizeof(T) (+ candidates); host: candidates.
// Known limitations: one call per matrix (no persistent handle); synchronous on the default stream;
// k·k·sizeof(T) must fit in device memory (10,000² FP64 = 800 MB). TF32 (mma) is not provided.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>
#include "common.cuh"
#include "tradsys_cuda.h"
#include "tsc_core.h"

namespace {
constexpr int TILE = 64;
constexpr int KT = 16;
constexpr int TPB = 16;  // threads per tile side; TILE / TPB = 4 outputs per thread per side

template <class T>
__global__ void standardize(const double* __restrict__ x, int n, int ld, T* __restrict__ z, int* __restrict__ valid) {
  __shared__ double red[32];
  const int j = blockIdx.x;
  const double* s = x + (size_t)j * n;
  T* out = z + (size_t)j * ld;
  double a = 0, differ = 0;
  for (int t = threadIdx.x; t < n; t += blockDim.x) { a += s[t]; differ += s[t] != s[0] ? 1.0 : 0.0; }
  const double m0 = tsc_block_sum(a, red) / n;
  // constant series (every value equal to the first): ρ undefined
  const double spread = tsc_block_sum(differ, red);
  double d = 0;
  for (int t = threadIdx.x; t < n; t += blockDim.x) d += s[t] - m0;
  const double m = m0 + tsc_block_sum(d, red) / n;
  // second centring: what the rounded centre misses (a 1e9 level keeps its digits)
  double e = 0;
  for (int t = threadIdx.x; t < n; t += blockDim.x) e += s[t] - m;
  e = tsc_block_sum(e, red) / n;
  double ss = 0;
  for (int t = threadIdx.x; t < n; t += blockDim.x) { const double c = (s[t] - m) - e; ss += c * c; }
  ss = tsc_block_sum(ss, red);
  const bool ok = spread > 0 && ss > 0;
  const double inv = ok ? 1.0 / sqrt(ss) : 0.0;
  for (int t = threadIdx.x; t < ld; t += blockDim.x) out[t] = (T)(t < n && ok ? ((s[t] - m) - e) * inv : 0.0);
  if (threadIdx.x == 0) valid[j] = ok ? 1 : 0;
}

template <class T> __device__ inline T clamp1(T v) { return v > (T)1 ? (T)1 : (v < (T)-1 ? (T)-1 : v); }

template <class T>
__global__ void syrk_tiles(const T* __restrict__ Z, int k, int ld, const int* __restrict__ valid, T* __restrict__ C) {
  const int bi = blockIdx.y, bj = blockIdx.x;
  if (bi > bj) return;
  __shared__ T As[KT][TILE + 1];
  __shared__ T Bs[KT][TILE + 1];
  const int tx = threadIdx.x, ty = threadIdx.y, tid = ty * TPB + tx;
  const int row0 = bi * TILE, col0 = bj * TILE;
  T acc[4][4];
#pragma unroll
  for (int i = 0; i < 4; i++)
#pragma unroll
    for (int j = 0; j < 4; j++) acc[i][j] = 0;
  for (int t0 = 0; t0 < ld; t0 += KT) {
    for (int e = tid; e < TILE * KT; e += TPB * TPB) {
      const int r = e / KT, c = e % KT;
      const int gr = row0 + r, gc = col0 + r;
      As[c][r] = gr < k ? Z[(size_t)gr * ld + t0 + c] : (T)0;
      Bs[c][r] = gc < k ? Z[(size_t)gc * ld + t0 + c] : (T)0;
    }
    __syncthreads();
    // two-level sums: a K-slice's 16 products into `part`, then the slice into `acc` — the
    // rounding error grows like √(n/16)·ε instead of √n·ε (it matters in FP32)
    T part[4][4];
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
      for (int j = 0; j < 4; j++) part[i][j] = 0;
#pragma unroll
    for (int c = 0; c < KT; c++) {
      T a[4], b[4];
#pragma unroll
      for (int i = 0; i < 4; i++) { a[i] = As[c][ty + TPB * i]; b[i] = Bs[c][tx + TPB * i]; }
#pragma unroll
      for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) part[i][j] = fma(a[i], b[j], part[i][j]);
    }
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
      for (int j = 0; j < 4; j++) acc[i][j] += part[i][j];
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < 4; i++) {
    const int r = row0 + ty + TPB * i;
    if (r >= k) continue;
#pragma unroll
    for (int j = 0; j < 4; j++) {
      const int c = col0 + tx + TPB * j;
      if (c >= k || c < r) continue;
      const bool ok = valid[r] && valid[c];
      T v = !ok ? (T)NAN : (r == c ? (T)1 : clamp1(acc[i][j]));
      C[(size_t)r * k + c] = v;
      C[(size_t)c * k + r] = v;
    }
  }
}

__device__ inline uint32_t key_of(double v) { return __float_as_uint(fabsf((float)v)) & 0x7fffffffu; }
__device__ inline uint32_t key_of(float v) { return __float_as_uint(fabsf(v)) & 0x7fffffffu; }

// Histogram of bits [shift, shift+log2(mask+1)) of the keys of the pairs i < j whose key has
// `prefix` above bit prefixShift (prefixShift 32: every pair).
template <class T>
__global__ void hist_pass(const T* __restrict__ C, int k, uint32_t prefix, int prefixShift, int shift, uint32_t mask,
                          unsigned* __restrict__ ghist) {
  extern __shared__ unsigned sh[];
  const int nb = (int)mask + 1;
  for (int b = threadIdx.x; b < nb; b += blockDim.x) sh[b] = 0;
  __syncthreads();
  for (int i = blockIdx.x; i < k; i += gridDim.x) {
    const T* row = C + (size_t)i * k;
    for (int j = i + 1 + threadIdx.x; j < k; j += blockDim.x) {
      const T v = row[j];
      if (v != v) continue;
      const uint32_t key = key_of(v);
      if (prefixShift < 32 && (key >> prefixShift) != prefix) continue;
      atomicAdd(&sh[(key >> shift) & mask], 1u);
    }
  }
  __syncthreads();
  for (int b = threadIdx.x; b < nb; b += blockDim.x) if (sh[b]) atomicAdd(&ghist[b], sh[b]);
}

template <class T>
__global__ void compact(const T* __restrict__ C, int k, uint32_t threshold, unsigned cap, unsigned* __restrict__ count,
                        int32_t* __restrict__ oi, int32_t* __restrict__ oj, double* __restrict__ ov) {
  for (int i = blockIdx.x; i < k; i += gridDim.x) {
    const T* row = C + (size_t)i * k;
    for (int j = i + 1 + threadIdx.x; j < k; j += blockDim.x) {
      const T v = row[j];
      if (v != v || key_of(v) < threshold) continue;
      const unsigned at = atomicAdd(count, 1u);
      if (at < cap) { oi[at] = i; oj[at] = j; ov[at] = (double)v; }
    }
  }
}

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

// Picks, from a histogram scanned from the top bin down, the bin holding the need-th largest key;
// returns the bin and reduces `need` by the count strictly above it (adds that count to `above`).
int pick_bin(const std::vector<unsigned>& h, uint64_t& need, uint64_t& above) {
  uint64_t cum = 0;
  for (int b = (int)h.size() - 1; b >= 0; b--) {
    if (cum + h[b] >= need) { need -= cum; above += cum; return b; }
    cum += h[b];
  }
  return -1;
}

template <class T>
void run(const double* data, int k, int n, int topN, const int32_t* rows, int nrows, int32_t* outI, int32_t* outJ,
         double* outRho, int* outCount, double* outRows, double* timings) {
  double tm[4] = {0, 0, 0, 0};
  auto t0 = Clock::now();
  const int ld = (n + KT - 1) / KT * KT;
  DevBuf<double> x((size_t)k * n);
  DevBuf<T> z((size_t)k * ld);
  DevBuf<int> valid((size_t)k);
  TSC_CK(cudaMemcpy(x.p, data, sizeof(double) * (size_t)k * n, cudaMemcpyHostToDevice));
  standardize<T><<<k, 256>>>(x.p, n, ld, z.p, valid.p);
  TSC_CK(cudaGetLastError());
  TSC_CK(cudaDeviceSynchronize());
  tm[0] = ms_since(t0);
  t0 = Clock::now();
  DevBuf<T> c((size_t)k * k);
  const int tiles = (k + TILE - 1) / TILE;
  syrk_tiles<T><<<dim3(tiles, tiles), dim3(TPB, TPB)>>>(z.p, k, ld, valid.p, c.p);
  TSC_CK(cudaGetLastError());
  TSC_CK(cudaDeviceSynchronize());
  tm[1] = ms_since(t0);

  t0 = Clock::now();
  int written = 0;
  if (topN > 0) {
    const int grid = std::min(k, 2048);
    DevBuf<unsigned> hist(4096);
    std::vector<unsigned> h(4096);
    auto level = [&](uint32_t prefix, int prefixShift, int shift, uint32_t mask) {
      const int nb = (int)mask + 1;
      TSC_CK(cudaMemset(hist.p, 0, sizeof(unsigned) * nb));
      hist_pass<T><<<grid, 256, sizeof(unsigned) * nb>>>(c.p, k, prefix, prefixShift, shift, mask, hist.p);
      TSC_CK(cudaGetLastError());
      h.assign(nb, 0);
      TSC_CK(cudaMemcpy(h.data(), hist.p, sizeof(unsigned) * nb, cudaMemcpyDeviceToHost));
    };
    level(0, 32, 19, 0xfff);
    uint64_t total = 0;
    for (unsigned v : h) total += v;
    uint32_t threshold = 0;
    uint64_t cnt = total;
    if (total > (uint64_t)topN) {
      uint64_t need = (uint64_t)topN, above = 0;
      const int b1 = pick_bin(h, need, above);
      level((uint32_t)b1, 19, 7, 0xfff);
      const int b2 = pick_bin(h, need, above);
      level(((uint32_t)b1 << 12) | (uint32_t)b2, 7, 0, 0x7f);
      const int b3 = pick_bin(h, need, above);
      threshold = ((uint32_t)b1 << 19) | ((uint32_t)b2 << 7) | (uint32_t)b3;
      cnt = above + h[b3];
    }
    DevBuf<unsigned> counter(1);
    DevBuf<int32_t> ci(cnt), cj(cnt);
    DevBuf<double> cv(cnt);
    TSC_CK(cudaMemset(counter.p, 0, sizeof(unsigned)));
    compact<T><<<grid, 256>>>(c.p, k, threshold, (unsigned)cnt, counter.p, ci.p, cj.p, cv.p);
    TSC_CK(cudaGetLastError());
    unsigned got = 0;
    TSC_CK(cudaMemcpy(&got, counter.p, sizeof(unsigned), cudaMemcpyDeviceToHost));
    if (got != cnt) throw TscError("selection: candidate count " + std::to_string(got) + " differs from the histogram's " + std::to_string(cnt));
    std::vector<int32_t> hi(cnt), hj(cnt);
    std::vector<double> hv(cnt);
    if (cnt) {
      TSC_CK(cudaMemcpy(hi.data(), ci.p, sizeof(int32_t) * cnt, cudaMemcpyDeviceToHost));
      TSC_CK(cudaMemcpy(hj.data(), cj.p, sizeof(int32_t) * cnt, cudaMemcpyDeviceToHost));
      TSC_CK(cudaMemcpy(hv.data(), cv.p, sizeof(double) * cnt, cudaMemcpyDeviceToHost));
    }
    std::vector<uint32_t> ord(cnt);
    for (uint32_t q = 0; q < cnt; q++) ord[q] = q;
    const size_t keep = std::min<size_t>(cnt, (size_t)topN);
    std::partial_sort(ord.begin(), ord.begin() + keep, ord.end(), [&](uint32_t a, uint32_t b) {
      const double fa = std::fabs(hv[a]), fb = std::fabs(hv[b]);
      if (fa != fb) return fa > fb;
      if (hi[a] != hi[b]) return hi[a] < hi[b];
      return hj[a] < hj[b];
    });
    for (size_t q = 0; q < keep; q++) { outI[q] = hi[ord[q]]; outJ[q] = hj[ord[q]]; outRho[q] = hv[ord[q]]; }
    written = (int)keep;
  }
  tm[2] = ms_since(t0);
  t0 = Clock::now();
  if (nrows > 0) {
    std::vector<T> row((size_t)k);
    for (int r = 0; r < nrows; r++) {
      TSC_CK(cudaMemcpy(row.data(), c.p + (size_t)rows[r] * k, sizeof(T) * (size_t)k, cudaMemcpyDeviceToHost));
      for (int j = 0; j < k; j++) outRows[(size_t)r * k + j] = (double)row[j];
    }
  }
  tm[3] = ms_since(t0);
  *outCount = written;
  if (timings) for (int q = 0; q < 4; q++) timings[q] = tm[q];
}
}  // namespace

extern "C" int tsc_corr_top(const double* data, int k, int n, int fp32, int topN, const int32_t* rows, int nrows,
                            int32_t* outI, int32_t* outJ, double* outRho, int* outCount, double* outRows,
                            double* timings, char* err, int errlen) {
  try {
    if (k < 2 || n < 2) throw TscError("correlation needs k ≥ 2 series of n ≥ 2 values");
    if (topN < 0) throw TscError("topN must be ≥ 0");
    for (int r = 0; r < nrows; r++) if (rows[r] < 0 || rows[r] >= k) throw TscError("row index out of range");
    if (fp32) run<float>(data, k, n, topN, rows, nrows, outI, outJ, outRho, outCount, outRows, timings);
    else run<double>(data, k, n, topN, rows, nrows, outI, outJ, outRho, outCount, outRows, timings);
    return 0;
  } catch (const std::exception& e) {
    return tsc_fail(e, err, errlen);
  }
}
