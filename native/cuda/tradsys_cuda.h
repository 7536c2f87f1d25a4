// tradsys_cuda.h — the C interface of build/native/libtradsys_cuda.so (native/cuda/*.cu), which
// native/src/gpu.cc dlopen()s only when the driver reports a CUDA device. Plain C types only, so
// the addon needs neither CUDA headers nor a link-time dependency on CUDA.
//
// Every function returns 0 on success, or a negative code with a message in err (errlen bytes,
// NUL-terminated). Inputs are host arrays; data is k series of n doubles, series j at data + j·n.
#pragma once
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TSC_API_VERSION 1

// API version of the library (TSC_API_VERSION) — the addon refuses a mismatch.
int tsc_api_version(void);
// Which device the calls below use (ordinal; default 0) and its name/cc, via the runtime API.
int tsc_device_check(int ordinal, char* err, int errlen);

// All-pairs Pearson correlation of k series of n values, kept on the device: standardise each
// series, then the tiled SYRK-style product C = ZZᵀ (fp32 != 0: FP32 storage and arithmetic after
// an FP64 standardisation). Returns the top `topN` pairs i < j by |ρ| (ties: smaller i, then
// smaller j) in outI/outJ/outRho (capacity topN; *outCount gets the number written), and the full
// rows listed in `rows` (nrows of them, k values each, into outRows). A series with zero variance
// has ρ = NaN with every other series and never appears among the pairs.
// timings (optional, 4 doubles): ms for upload+standardise, product, selection, download.
int tsc_corr_top(const double* data, int k, int n, int fp32, int topN, const int32_t* rows, int nrows,
                 int32_t* outI, int32_t* outJ, double* outRho, int* outCount, double* outRows,
                 double* timings, char* err, int errlen);

// Batched Engle–Granger screen (coint, trend 'c'): for each pair (y = pairs[2p], x = pairs[2p+1]),
// OLS hedge y ≈ α + βx, ADF on the residuals (regression 'n'; autolag != 0: AIC over 0..maxlag,
// maxlag < 0: the default ⌈12·(n/100)^¼⌉; autolag == 0: exactly maxlag lags) and the MacKinnon
// p-value. out gets TSC_EG_SLOTS doubles per pair (tsc_core.h: alpha, beta, stat, pvalue, usedlag,
// status).
int tsc_eg_screen(const double* data, int k, int n, const int32_t* pairs, int npairs, int maxlag, int autolag,
                  double* out, char* err, int errlen);

#ifdef __cplusplus
}
#endif
