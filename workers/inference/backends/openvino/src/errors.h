// Every failing C API call becomes a JS error carrying a stable `code` (PS_OV_*), the function, the status name
// and OpenVINO's own message. ov_get_last_err_msg() is process-wide, so it is read on the failing thread right
// after the failing call (OvFailure::Capture) and carried to the JS thread as plain strings.
#pragma once

#include <napi.h>

#include <string>

#include "ov_api.h"

namespace ps {

struct OvFailure {
  std::string code;
  std::string message;

  static OvFailure Capture(const char* function, ov_status_e status, const char* code);
  bool failed() const { return !code.empty(); }
};

const char* StatusName(ov_status_e status);

// Builds the JS error through the factory registered by index.ts (a PosestreamError), or a plain Error with a
// `code` property when no factory is registered.
Napi::Error MakeError(Napi::Env env, const std::string& code, const std::string& message);
[[noreturn]] void ThrowError(Napi::Env env, const std::string& code, const std::string& message);
[[noreturn]] void ThrowFailure(Napi::Env env, const OvFailure& failure);
void SetErrorFactory(Napi::Env env, Napi::Function factory);

}  // namespace ps

// Calls ov.<fn>(args...) and throws a JS error (code PS_OV_<what>) naming the function when it fails.
#define PS_OV_CALL(env, code, fn, ...)                                               \
  do {                                                                               \
    ov_status_e ps_status_ = ::ps::ov.fn(__VA_ARGS__);                               \
    if (ps_status_ != OK) ::ps::ThrowFailure(env, ::ps::OvFailure::Capture(#fn, ps_status_, code)); \
  } while (0)
