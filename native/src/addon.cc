// Entry point of build/native/tradsys_native.node: builds `exports.features` and lets each
// feature file register itself. See addon.h.
#include "addon.h"
#include <cerrno>
#include <cstring>
#include <string>
#include "records.h"

[[noreturn]] void ThrowErrno(Napi::Env env, const char* what, int err) {
  std::string msg = std::string(what) + ": " + std::strerror(err);
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("errno", Napi::Number::New(env, err));
  throw e;
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  Napi::Object features = Napi::Object::New(env);
  exports.Set("abiVersion", Napi::Number::New(env, TS_ABI_VERSION));
  exports.Set("abiHash", Napi::Number::New(env, TS_ABI_HASH));
  InitSys(env, exports, features);
  InitFeed(env, exports, features);
  InitGpu(env, exports, features);
  exports.Set("features", features);
  return exports;
}

NODE_API_MODULE(tradsys_native, Init)
