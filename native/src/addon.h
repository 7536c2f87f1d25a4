// The native addon's module-level contract: each feature file registers its functions on the
// exports object through its Init* function, and reports itself in `features`.
// No business logic lives here (STYLE §1); C++ exceptions become JS errors at the boundary
// (NAPI_CPP_EXCEPTIONS), and nothing on a hot path calls back into JS.
#pragma once
#include <napi.h>

// Each Init* adds its functions to `exports` and one entry to `features` (an object keyed by
// feature name: { compiled: boolean, detail: string }).
void InitSys(Napi::Env env, Napi::Object exports, Napi::Object features);   // sys.cc: NUMA, affinity, clocks
void InitFeed(Napi::Env env, Napi::Object exports, Napi::Object features);  // feed.cc: UDP feed receive (recvmmsg, AF_XDP)
void InitGpu(Napi::Env env, Napi::Object exports, Napi::Object features);   // gpu.cc: CUDA library loader

// Throws a JS Error whose message names the failing call and errno's text.
[[noreturn]] void ThrowErrno(Napi::Env env, const char* what, int err);
