// common.cuh — error plumbing and reductions shared by the CUDA translation units.
// Layout: TscError carries a message out of the extern "C" entry points (never across them);
// DevBuf owns one cudaMalloc'd buffer (freed on every exit path).
// Invariants: no exception crosses an extern "C" function (tsc_fail turns it into -1 + message).
// Complexity: tsc_block_sum O(blockDim) with three barriers. Allocation: DevBuf only.
// Known limitations: blockDim.x a multiple of 32, at most 1,024.
#pragma once
#include <cuda_runtime.h>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

struct TscError : std::runtime_error { using std::runtime_error::runtime_error; };

#define TSC_CK(call) do { cudaError_t e_ = (call); if (e_ != cudaSuccess) \
  throw TscError(std::string(#call) + ": " + cudaGetErrorString(e_)); } while (0)

template <class T> struct DevBuf {
  T* p = nullptr;
  size_t n = 0;
  explicit DevBuf(size_t count) : n(count) { if (count) TSC_CK(cudaMalloc(reinterpret_cast<void**>(&p), count * sizeof(T))); }
  ~DevBuf() { if (p) cudaFree(p); }
  DevBuf(const DevBuf&) = delete;
  DevBuf& operator=(const DevBuf&) = delete;
};

inline int tsc_fail(const std::exception& e, char* err, int errlen) {
  if (err && errlen > 0) { std::snprintf(err, (size_t)errlen, "%s", e.what()); }
  return -1;
}

// Sum of v over the block (blockDim.x a multiple of 32, ≤ 1024); every thread gets the result.
// `red` needs 32 doubles of shared memory; the call synchronises the block.
__device__ inline double tsc_block_sum(double v, double* red) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
  const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
  __syncthreads();
  if (lane == 0) red[w] = v;
  __syncthreads();
  double s = 0;
  const int nw = (blockDim.x + 31) >> 5;
  for (int i = 0; i < nw; i++) s += red[i];
  __syncthreads();
  return s;
}
