// gpu feature of the native addon (see addon.h): the CUDA loader, and the C++ CPU baseline of the
// same statistics.
//
// Loader: gpuProbe(libPath) dlopen()s libcuda.so.1 (the driver; no link-time CUDA dependency),
// calls cuInit / cuDeviceGetCount / cuDeviceGetName / cuDeviceGetAttribute / cuDeviceTotalMem /
// cuDriverGetVersion through dlsym, and only when a device is present dlopen()s
// build/native/libtradsys_cuda.so (native/cuda/, static cudart) and checks its API version and
// device 0. It reports why not otherwise: 'no libcuda.so.1 (no NVIDIA driver)', 'no CUDA device',
// 'library not built: …' (the JS side fills in the build's reason). gpuCorrTop / gpuEgScreen call
// the library; they throw when it is not loaded.
// CPU baseline: cpuCorrTop (standardise, then a cache-blocked 2×2 register-blocked all-pairs dot
// product with four partial sums per pair in the lane order of the WASM SIMD kernel, and a
// bounded heap of the top N by |ρ|) and cpuEgScreen (the Engle–Granger decision code of
// native/cuda/tsc_core.h, serial).
//
// Layout: the driver probe and library loader (GpuProbe, g_lib), argument checks, the CPU
// correlation (Standardize, Dot1/Dot22, TopN heap), the CPU EG screen (EgPairCpu), InitGpu.
// Invariants: pair order |ρ| desc, then i asc, then j asc, i < j; a constant series (every value
// equal) has ρ = NaN and is never selected; ρ clamped to [−1, 1]. Inputs are validated here
// (lengths, indices) and C++ exceptions become JS errors (NAPI_CPP_EXCEPTIONS); no JS callbacks.
// Complexity: cpuCorrTop O(k²·n), O(k²·log N) selection; cpuEgScreen O(n·maxlag²) per pair.
// Allocation: the standardised copy (k·n values), the heap (N), the outputs.
// Known limitations: synchronous (blocks the calling thread: call from a worker for big universes);
// one device (ordinal 0).
#include "addon.h"
#include <dlfcn.h>
#include <sys/stat.h>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>
#include "../cuda/tradsys_cuda.h"
#include "../cuda/tsc_core.h"

namespace {

// ── driver probe and library loader ────────────────────────────────────────────────────────
typedef int (*cuInit_t)(unsigned);
typedef int (*cuDeviceGetCount_t)(int*);
typedef int (*cuDeviceGet_t)(int*, int);
typedef int (*cuDeviceGetName_t)(char*, int, int);
typedef int (*cuDeviceGetAttribute_t)(int*, int, int);
typedef int (*cuDeviceTotalMem_t)(size_t*, int);
typedef int (*cuDriverGetVersion_t)(int*);

typedef int (*tsc_api_version_t)(void);
typedef int (*tsc_device_check_t)(int, char*, int);
typedef int (*tsc_corr_top_t)(const double*, int, int, int, int, const int32_t*, int, int32_t*, int32_t*, double*, int*,
                              double*, double*, char*, int);
typedef int (*tsc_eg_screen_t)(const double*, int, int, const int32_t*, int, int, int, double*, char*, int);

struct CudaLib {
  void* handle = nullptr;
  std::string path;
  tsc_corr_top_t corrTop = nullptr;
  tsc_eg_screen_t egScreen = nullptr;
};
CudaLib g_lib;

const int CU_ATTR_CC_MAJOR = 75, CU_ATTR_CC_MINOR = 76, CU_ATTR_SM_COUNT = 16;

Napi::Value GpuProbe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string libPath = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  Napi::Object r = Napi::Object::New(env);
  Napi::Object drv = Napi::Object::New(env);
  Napi::Array devices = Napi::Array::New(env);
  Napi::Object lib = Napi::Object::New(env);
  r.Set("driver", drv);
  r.Set("devices", devices);
  r.Set("library", lib);
  lib.Set("path", libPath);
  lib.Set("loaded", g_lib.handle != nullptr);
  lib.Set("reason", "");
  drv.Set("found", false);
  drv.Set("version", env.Null());
  auto reason = [&](const std::string& s) { r.Set("reason", s); return r; };

  void* cu = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!cu) {
    const char* e = dlerror();
    drv.Set("detail", e ? e : "");
    return reason("no libcuda.so.1 (no NVIDIA driver)");
  }
  drv.Set("found", true);
  auto sym = [&](const char* n) { return dlsym(cu, n); };
  auto init = (cuInit_t)sym("cuInit");
  auto count = (cuDeviceGetCount_t)sym("cuDeviceGetCount");
  auto get = (cuDeviceGet_t)sym("cuDeviceGet");
  auto name = (cuDeviceGetName_t)sym("cuDeviceGetName");
  auto attr = (cuDeviceGetAttribute_t)sym("cuDeviceGetAttribute");
  auto mem = (cuDeviceTotalMem_t)sym("cuDeviceTotalMem_v2");
  auto ver = (cuDriverGetVersion_t)sym("cuDriverGetVersion");
  if (!init || !count || !get || !name || !attr || !mem || !ver) return reason("libcuda.so.1 lacks the driver API entry points (too old a driver)");
  int v = 0;
  if (ver(&v) == 0) drv.Set("version", v);
  const int rc = init(0);
  if (rc == 100) return reason("no CUDA device (cuInit: CUDA_ERROR_NO_DEVICE)");
  if (rc != 0) return reason("cuInit failed (CUresult " + std::to_string(rc) + ")");
  int n = 0;
  if (count(&n) != 0 || n == 0) return reason("no CUDA device");
  for (int i = 0; i < n; i++) {
    int dev = 0;
    if (get(&dev, i) != 0) continue;
    char nm[256] = {0};
    name(nm, sizeof nm - 1, dev);
    int maj = 0, min = 0, sms = 0;
    attr(&maj, CU_ATTR_CC_MAJOR, dev);
    attr(&min, CU_ATTR_CC_MINOR, dev);
    attr(&sms, CU_ATTR_SM_COUNT, dev);
    size_t bytes = 0;
    mem(&bytes, dev);
    Napi::Object d = Napi::Object::New(env);
    d.Set("ordinal", i);
    d.Set("name", std::string(nm));
    d.Set("computeCapability", std::to_string(maj) + "." + std::to_string(min));
    d.Set("multiprocessors", sms);
    d.Set("memoryBytes", (double)bytes);
    devices.Set(devices.Length(), d);
  }
  // the device is there: load the kernels' library
  if (!g_lib.handle) {
    struct stat st;
    if (libPath.empty() || stat(libPath.c_str(), &st) != 0) return reason("library not built");
    void* h = dlopen(libPath.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) { const char* e = dlerror(); return reason(std::string("library failed to load: ") + (e ? e : "?")); }
    auto apiv = (tsc_api_version_t)dlsym(h, "tsc_api_version");
    auto check = (tsc_device_check_t)dlsym(h, "tsc_device_check");
    auto corr = (tsc_corr_top_t)dlsym(h, "tsc_corr_top");
    auto eg = (tsc_eg_screen_t)dlsym(h, "tsc_eg_screen");
    if (!apiv || !check || !corr || !eg) { dlclose(h); return reason("library lacks the tsc_* entry points"); }
    if (apiv() != TSC_API_VERSION) { dlclose(h); return reason("library API version " + std::to_string(apiv()) + " != " + std::to_string(TSC_API_VERSION) + " (rebuild)"); }
    char err[512] = {0};
    if (check(0, err, sizeof err) != 0) { dlclose(h); return reason(std::string("CUDA device check failed: ") + err); }
    g_lib.handle = h;
    g_lib.path = libPath;
    g_lib.corrTop = corr;
    g_lib.egScreen = eg;
  }
  lib.Set("loaded", true);
  lib.Set("path", g_lib.path);
  r.Set("reason", "");
  return r;
}

// ── argument helpers ───────────────────────────────────────────────────────────────────────
struct Universe { const double* data; int k; int n; };

Universe UniverseArg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    throw Napi::TypeError::New(env, "expected (data: Float64Array, k, n, …)");
  Napi::Float64Array d = info[0].As<Napi::Float64Array>();
  const double kd = info[1].As<Napi::Number>().DoubleValue(), nd = info[2].As<Napi::Number>().DoubleValue();
  if (!(kd >= 2 && kd <= 1e6 && kd == std::floor(kd)) || !(nd >= 2 && nd <= 1e8 && nd == std::floor(nd)))
    throw Napi::RangeError::New(env, "k and n must be integers ≥ 2");
  const int k = (int)kd, n = (int)nd;
  if (d.ElementLength() != (size_t)k * (size_t)n) throw Napi::RangeError::New(env, "data length is not k·n");
  return {d.Data(), k, n};
}

Napi::Int32Array Int32Arg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array)
    throw Napi::TypeError::New(info.Env(), std::string(what) + " must be an Int32Array");
  return info[i].As<Napi::Int32Array>();
}

// ── CPU correlation ────────────────────────────────────────────────────────────────────────
struct Cand { double a; double v; int32_t i; int32_t j; };
inline bool Better(const Cand& x, const Cand& y) {
  if (x.a != y.a) return x.a > y.a;
  if (x.i != y.i) return x.i < y.i;
  return x.j < y.j;
}

// z = (x − m)/‖x − m‖ with m the corrected two-pass mean (re-centred); false for a constant series.
template <class T>
bool Standardize(const double* s, int n, T* z) {
  bool differ = false;
  double a = 0;
  for (int t = 0; t < n; t++) { a += s[t]; differ |= s[t] != s[0]; }
  const double m0 = a / n;
  double d = 0;
  for (int t = 0; t < n; t++) d += s[t] - m0;
  const double m = m0 + d / n;
  // what the rounded centre m misses (a second centring, as statsCorrMatrix): at a 1e9 level m is
  // good to half an ulp of 1e9 only, and that offset would inflate ‖x − m‖
  double e = 0;
  for (int t = 0; t < n; t++) e += s[t] - m;
  e /= n;
  double ss = 0;
  for (int t = 0; t < n; t++) { const double c = (s[t] - m) - e; ss += c * c; }
  const bool ok = differ && ss > 0;
  const double inv = ok ? 1.0 / std::sqrt(ss) : 0.0;
  for (int t = 0; t < n; t++) z[t] = (T)(ok ? ((s[t] - m) - e) * inv : 0.0);
  return ok;
}

// Σ a[t]·b[t] with four partial sums by t mod 4, combined (s0 + s2) + (s1 + s3), then the tail —
// the order of the WASM kernel's two f64x2 (or one f32x4) accumulators. GCC vector extensions give
// the same 2-lane (double) / 4-lane (float) arithmetic as WASM SIMD on any target.
typedef double v2d __attribute__((vector_size(16)));
typedef float v4f __attribute__((vector_size(16)));
inline v2d ld2(const double* p) { v2d v; std::memcpy(&v, p, sizeof v); return v; }
inline v4f ld4(const float* p) { v4f v; std::memcpy(&v, p, sizeof v); return v; }

inline double Dot1(const double* a, const double* b, int n) {
  v2d u = {0, 0}, w = {0, 0};
  int t = 0;
  for (; t + 4 <= n; t += 4) { u += ld2(a + t) * ld2(b + t); w += ld2(a + t + 2) * ld2(b + t + 2); }
  double s = (u[0] + w[0]) + (u[1] + w[1]);
  for (; t < n; t++) s += a[t] * b[t];
  return s;
}
inline float Dot1(const float* a, const float* b, int n) {
  v4f u = {0, 0, 0, 0};
  int t = 0;
  for (; t + 4 <= n; t += 4) u += ld4(a + t) * ld4(b + t);
  float s = (u[0] + u[2]) + (u[1] + u[3]);
  for (; t < n; t++) s += a[t] * b[t];
  return s;
}

// Four dot products (a0, a1) × (b0, b1) in one pass, each with Dot1's order.
inline void Dot22(const double* a0, const double* a1, const double* b0, const double* b1, int n, double out[4]) {
  v2d p0 = {0, 0}, p1 = p0, p2 = p0, p3 = p0, q0 = p0, q1 = p0, q2 = p0, q3 = p0;
  int t = 0;
  for (; t + 4 <= n; t += 4) {
    {  // low halves, then high halves: 8 accumulators + 4 operands stay in 16 registers
      const v2d x0 = ld2(a0 + t), x1 = ld2(a1 + t), y0 = ld2(b0 + t), y1 = ld2(b1 + t);
      p0 += x0 * y0; p1 += x0 * y1; p2 += x1 * y0; p3 += x1 * y1;
    }
    {
      const v2d x0 = ld2(a0 + t + 2), x1 = ld2(a1 + t + 2), y0 = ld2(b0 + t + 2), y1 = ld2(b1 + t + 2);
      q0 += x0 * y0; q1 += x0 * y1; q2 += x1 * y0; q3 += x1 * y1;
    }
  }
  out[0] = (p0[0] + q0[0]) + (p0[1] + q0[1]);
  out[1] = (p1[0] + q1[0]) + (p1[1] + q1[1]);
  out[2] = (p2[0] + q2[0]) + (p2[1] + q2[1]);
  out[3] = (p3[0] + q3[0]) + (p3[1] + q3[1]);
  for (; t < n; t++) { out[0] += a0[t] * b0[t]; out[1] += a0[t] * b1[t]; out[2] += a1[t] * b0[t]; out[3] += a1[t] * b1[t]; }
}
inline void Dot22(const float* a0, const float* a1, const float* b0, const float* b1, int n, float out[4]) {
  v4f p0 = {0, 0, 0, 0}, p1 = p0, p2 = p0, p3 = p0;
  int t = 0;
  for (; t + 4 <= n; t += 4) {
    const v4f x0 = ld4(a0 + t), x1 = ld4(a1 + t), y0 = ld4(b0 + t), y1 = ld4(b1 + t);
    p0 += x0 * y0; p1 += x0 * y1; p2 += x1 * y0; p3 += x1 * y1;
  }
  out[0] = (p0[0] + p0[2]) + (p0[1] + p0[3]);
  out[1] = (p1[0] + p1[2]) + (p1[1] + p1[3]);
  out[2] = (p2[0] + p2[2]) + (p2[1] + p2[3]);
  out[3] = (p3[0] + p3[2]) + (p3[1] + p3[3]);
  for (; t < n; t++) { out[0] += a0[t] * b0[t]; out[1] += a0[t] * b1[t]; out[2] += a1[t] * b0[t]; out[3] += a1[t] * b1[t]; }
}

template <class T> inline T Clamp1(T v) { return v > (T)1 ? (T)1 : (v < (T)-1 ? (T)-1 : v); }

template <class T>
struct TopN {
  size_t cap;
  std::vector<Cand> h;
  explicit TopN(size_t c) : cap(c) { h.reserve(c); }
  inline void offer(T v, int32_t i, int32_t j) {
    if (cap == 0) return;
    const double a = std::fabs((double)v);
    if (h.size() == cap && a < h.front().a) return;
    Cand c{a, (double)v, i, j};
    if (h.size() < cap) { h.push_back(c); std::push_heap(h.begin(), h.end(), Better); return; }
    if (!Better(c, h.front())) return;
    std::pop_heap(h.begin(), h.end(), Better);
    h.back() = c;
    std::push_heap(h.begin(), h.end(), Better);
  }
};

template <class T>
Napi::Value CorrTopCpu(Napi::Env env, Universe u, int topN, const Napi::Int32Array& rows) {
  const int k = u.k, n = u.n;
  std::vector<T> z((size_t)k * n);
  std::vector<uint8_t> ok(k);
  for (int j = 0; j < k; j++) ok[j] = Standardize<T>(u.data + (size_t)j * n, n, z.data() + (size_t)j * n);
  const T* Z = z.data();
  auto row = [&](int i) { return Z + (size_t)i * n; };
  TopN<T> top((size_t)topN);
  auto one = [&](int i, int j) { if (ok[i] && ok[j]) top.offer(Clamp1(Dot1(row(i), row(j), n)), i, j); };
  const int P = k / 2;
  const int BLOCK = 16;  // row pairs per cache block (32 series)
  for (int pa0 = 0; pa0 < P; pa0 += BLOCK) {
    const int pa1 = std::min(P, pa0 + BLOCK);
    for (int pb = pa0; pb < P; pb++) {
      for (int pa = pa0; pa < pa1 && pa <= pb; pa++) {
        const int i0 = 2 * pa, j0 = 2 * pb;
        if (pa == pb) { one(i0, i0 + 1); continue; }
        T o[4];
        Dot22(row(i0), row(i0 + 1), row(j0), row(j0 + 1), n, o);
        if (ok[i0] && ok[j0]) top.offer(Clamp1(o[0]), i0, j0);
        if (ok[i0] && ok[j0 + 1]) top.offer(Clamp1(o[1]), i0, j0 + 1);
        if (ok[i0 + 1] && ok[j0]) top.offer(Clamp1(o[2]), i0 + 1, j0);
        if (ok[i0 + 1] && ok[j0 + 1]) top.offer(Clamp1(o[3]), i0 + 1, j0 + 1);
      }
    }
  }
  if (k % 2) for (int i = 0; i < k - 1; i++) one(i, k - 1);
  std::sort_heap(top.h.begin(), top.h.end(), Better);
  const size_t m = top.h.size();
  Napi::Int32Array oi = Napi::Int32Array::New(env, m), oj = Napi::Int32Array::New(env, m);
  Napi::Float64Array ov = Napi::Float64Array::New(env, m);
  for (size_t q = 0; q < m; q++) { oi[q] = top.h[q].i; oj[q] = top.h[q].j; ov[q] = top.h[q].v; }
  const size_t nr = rows.ElementLength();
  Napi::Float64Array orow = Napi::Float64Array::New(env, nr * (size_t)k);
  for (size_t r = 0; r < nr; r++) {
    const int i = rows[r];
    for (int j = 0; j < k; j++) {
      double v;
      if (!ok[i] || !ok[j]) v = NAN;
      else if (i == j) v = 1;
      else v = (double)Clamp1(i < j ? Dot1(row(i), row(j), n) : Dot1(row(j), row(i), n));
      orow[r * k + j] = v;
    }
  }
  Napi::Object res = Napi::Object::New(env);
  res.Set("i", oi); res.Set("j", oj); res.Set("rho", ov); res.Set("rows", orow);
  return res;
}

void CheckTopArgs(const Napi::CallbackInfo& info, const Universe& u, int& topN, bool& fp32, Napi::Int32Array& rows) {
  Napi::Env env = info.Env();
  const double t = info.Length() > 3 ? info[3].As<Napi::Number>().DoubleValue() : 0;
  if (!(t >= 0 && t <= 1e8 && t == std::floor(t))) throw Napi::RangeError::New(env, "topN must be an integer ≥ 0");
  topN = (int)std::min<double>(t, (double)u.k * (u.k - 1) / 2);  // never more than there are pairs
  fp32 = info.Length() > 4 && info[4].ToBoolean().Value();
  rows = Int32Arg(info, 5, "rows");
  for (size_t r = 0; r < rows.ElementLength(); r++) if (rows[r] < 0 || rows[r] >= u.k) throw Napi::RangeError::New(env, "row index out of range");
}

Napi::Value CpuCorrTop(const Napi::CallbackInfo& info) {
  Universe u = UniverseArg(info);
  int topN; bool fp32; Napi::Int32Array rows;
  CheckTopArgs(info, u, topN, fp32, rows);
  return fp32 ? CorrTopCpu<float>(info.Env(), u, topN, rows) : CorrTopCpu<double>(info.Env(), u, topN, rows);
}

Napi::Value GpuCorrTop(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!g_lib.corrTop) throw Napi::Error::New(env, "CUDA library not loaded (gpuProbe found no device or no library)");
  Universe u = UniverseArg(info);
  int topN; bool fp32; Napi::Int32Array rows;
  CheckTopArgs(info, u, topN, fp32, rows);
  std::vector<int32_t> oi((size_t)topN), oj((size_t)topN);
  std::vector<double> ov((size_t)topN);
  const size_t nr = rows.ElementLength();
  Napi::Float64Array orow = Napi::Float64Array::New(env, nr * (size_t)u.k);
  std::vector<int32_t> rv(rows.Data(), rows.Data() + nr);
  int count = 0;
  double tm[4] = {0, 0, 0, 0};
  char err[512] = {0};
  if (g_lib.corrTop(u.data, u.k, u.n, fp32 ? 1 : 0, topN, rv.data(), (int)nr, oi.data(), oj.data(), ov.data(), &count,
                    orow.Data(), tm, err, sizeof err) != 0)
    throw Napi::Error::New(env, std::string("CUDA correlation: ") + err);
  Napi::Int32Array ai = Napi::Int32Array::New(env, count), aj = Napi::Int32Array::New(env, count);
  Napi::Float64Array av = Napi::Float64Array::New(env, count);
  for (int q = 0; q < count; q++) { ai[q] = oi[q]; aj[q] = oj[q]; av[q] = ov[q]; }
  Napi::Float64Array at = Napi::Float64Array::New(env, 4);
  for (int q = 0; q < 4; q++) at[q] = tm[q];
  Napi::Object res = Napi::Object::New(env);
  res.Set("i", ai); res.Set("j", aj); res.Set("rho", av); res.Set("rows", orow); res.Set("timings", at);
  return res;
}

// ── CPU Engle–Granger screen ───────────────────────────────────────────────────────────────
void EgPairCpu(const double* y, const double* x, int n, int maxlag, int autolag, std::vector<double>& r,
               std::vector<double>& G, double* res) {
  double sx = 0, sy = 0;
  for (int t = 0; t < n; t++) { sx += x[t]; sy += y[t]; }
  const double mx0 = sx / n, my0 = sy / n;
  double dx = 0, dy = 0, sxx = 0, syy = 0, sxy = 0;
  for (int t = 0; t < n; t++) {
    const double a = x[t] - mx0, b = y[t] - my0;
    dx += a; dy += b; sxx += a * a; syy += b * b; sxy += a * b;
  }
  TscOls o;
  tsc_ols_finish(o, n, mx0, my0, dx, dy, sxx, syy, sxy);
  res[TSC_EG_ALPHA] = o.alpha;
  res[TSC_EG_BETA] = o.beta;
  auto fail = [&](double stat, double p, int lag, int status) {
    res[TSC_EG_STAT] = stat; res[TSC_EG_PVALUE] = p; res[TSC_EG_USEDLAG] = lag; res[TSC_EG_STATUS] = status;
  };
  if (o.sxx == 0) return fail(NAN, NAN, -1, TSC_EG_CONST_X);
  double rss = 0;
  bool moves = false;
  for (int t = 0; t < n; t++) { r[t] = tsc_resid(o, y[t], x[t]); rss += r[t] * r[t]; if (t && r[t] != r[t - 1]) moves = true; }
  if (tsc_collinear(rss, o.syy0)) return fail(-INFINITY, 0, -1, TSC_EG_COLLINEAR);
  if (!moves) return fail(NAN, NAN, 0, TSC_EG_CONST_RESID);
  const int L = n - 1;
  auto gram = [&](int p, int t0) {
    const int q = p + 1;
    for (int a = 0; a < q; a++)
      for (int b = 0; b <= a; b++) {
        double s = 0;
        for (int t = t0; t < L; t++) s += tsc_col(r.data(), a, p, t) * tsc_col(r.data(), b, p, t);
        G[a * q + b] = s; G[b * q + a] = s;
      }
  };
  int usedlag = maxlag;
  if (autolag) {
    const int p = 1 + maxlag;
    gram(p, maxlag);
    const double yy = G[p * (p + 1) + p];
    if (!tsc_cholesky(G.data(), p + 1, p, L - maxlag)) return fail(NAN, NAN, -1, TSC_EG_RANK);
    usedlag = tsc_aic_lag(G.data(), yy, p, L - maxlag);
  }
  const int p = 1 + usedlag;
  gram(p, usedlag);
  if (!tsc_cholesky(G.data(), p + 1, p, L - usedlag)) return fail(NAN, NAN, -1, TSC_EG_RANK);
  const double stat = tsc_tstat0(G.data(), p, L - usedlag);
  fail(stat, tsc_mackinnonp_c2(stat), usedlag, TSC_EG_OK);
}

struct EgArgs { Universe u; Napi::Int32Array pairs; int maxlag; int autolag; };
EgArgs EgArgsOf(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  EgArgs a{UniverseArg(info), Int32Arg(info, 3, "pairs"), 0, 0};
  if (a.pairs.ElementLength() % 2) throw Napi::RangeError::New(env, "pairs must hold (y, x) index pairs");
  for (size_t q = 0; q < a.pairs.ElementLength(); q++)
    if (a.pairs[q] < 0 || a.pairs[q] >= a.u.k) throw Napi::RangeError::New(env, "pair index out of range");
  const double ml = info.Length() > 4 ? info[4].As<Napi::Number>().DoubleValue() : -1;
  a.autolag = info.Length() > 5 && info[5].ToBoolean().Value() ? 1 : 0;
  if (!(ml == std::floor(ml)) || ml < -1) throw Napi::RangeError::New(env, "maxlag must be an integer ≥ 0 (or -1: default)");
  int maxlag = (int)ml;
  if (maxlag < 0) {
    if (!a.autolag) throw Napi::RangeError::New(env, "a fixed lag (autolag off) needs maxlag ≥ 0");
    maxlag = tsc_default_maxlag(a.u.n);
  }
  if (a.u.n < 3) throw Napi::RangeError::New(env, "coint needs at least 3 observations");
  if (maxlag < 0 || maxlag > a.u.n / 2 - 1) throw Napi::RangeError::New(env, "maxlag must be less than nobs/2 - 1");
  if (maxlag > TSC_MAX_LAG) throw Napi::RangeError::New(env, "maxlag above " + std::to_string(TSC_MAX_LAG));
  a.maxlag = maxlag;
  return a;
}

Napi::Value CpuEgScreen(const Napi::CallbackInfo& info) {
  EgArgs a = EgArgsOf(info);
  const size_t np = a.pairs.ElementLength() / 2;
  Napi::Float64Array out = Napi::Float64Array::New(info.Env(), np * TSC_EG_SLOTS);
  std::vector<double> r((size_t)a.u.n), G((size_t)(TSC_MAX_P) * TSC_MAX_P);
  for (size_t q = 0; q < np; q++)
    EgPairCpu(a.u.data + (size_t)a.pairs[2 * q] * a.u.n, a.u.data + (size_t)a.pairs[2 * q + 1] * a.u.n, a.u.n, a.maxlag,
              a.autolag, r, G, out.Data() + q * TSC_EG_SLOTS);
  return out;
}

Napi::Value GpuEgScreen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!g_lib.egScreen) throw Napi::Error::New(env, "CUDA library not loaded (gpuProbe found no device or no library)");
  EgArgs a = EgArgsOf(info);
  const size_t np = a.pairs.ElementLength() / 2;
  Napi::Float64Array out = Napi::Float64Array::New(env, np * TSC_EG_SLOTS);
  char err[512] = {0};
  if (g_lib.egScreen(a.u.data, a.u.k, a.u.n, a.pairs.Data(), (int)np, a.maxlag, a.autolag, out.Data(), err, sizeof err) != 0)
    throw Napi::Error::New(env, std::string("CUDA Engle-Granger: ") + err);
  return out;
}

}  // namespace

void InitGpu(Napi::Env env, Napi::Object exports, Napi::Object features) {
  exports.Set("gpuProbe", Napi::Function::New(env, GpuProbe, "gpuProbe"));
  exports.Set("gpuCorrTop", Napi::Function::New(env, GpuCorrTop, "gpuCorrTop"));
  exports.Set("gpuEgScreen", Napi::Function::New(env, GpuEgScreen, "gpuEgScreen"));
  exports.Set("cpuCorrTop", Napi::Function::New(env, CpuCorrTop, "cpuCorrTop"));
  exports.Set("cpuEgScreen", Napi::Function::New(env, CpuEgScreen, "cpuEgScreen"));
  Napi::Object f = Napi::Object::New(env);
  f.Set("compiled", Napi::Boolean::New(env, true));
  f.Set("detail", Napi::String::New(env, "CUDA loader (dlopen libcuda.so.1, then build/native/libtradsys_cuda.so) and the C++ correlation/Engle-Granger baseline"));
  features.Set("gpu", f);
}
