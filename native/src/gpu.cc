// gpu feature of the native addon (placeholder until the feature lands; see addon.h).
#include "addon.h"

void InitGpu(Napi::Env env, Napi::Object exports, Napi::Object features) {
  Napi::Object f = Napi::Object::New(env);
  f.Set("compiled", Napi::Boolean::New(env, false));
  f.Set("detail", Napi::String::New(env, "not implemented yet"));
  features.Set("gpu", f);
}
