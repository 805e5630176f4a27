#include "errors.h"

#include "addon_data.h"

namespace ps {

const char* StatusName(ov_status_e status) {
  switch (status) {
#define PS_STATUS_CASE(name) \
  case name:                 \
    return #name;
    PS_STATUS_CASE(OK)
    PS_STATUS_CASE(GENERAL_ERROR)
    PS_STATUS_CASE(NOT_IMPLEMENTED)
    PS_STATUS_CASE(NETWORK_NOT_LOADED)
    PS_STATUS_CASE(PARAMETER_MISMATCH)
    PS_STATUS_CASE(NOT_FOUND)
    PS_STATUS_CASE(OUT_OF_BOUNDS)
    PS_STATUS_CASE(UNEXPECTED)
    PS_STATUS_CASE(REQUEST_BUSY)
    PS_STATUS_CASE(RESULT_NOT_READY)
    PS_STATUS_CASE(NOT_ALLOCATED)
    PS_STATUS_CASE(INFER_NOT_STARTED)
    PS_STATUS_CASE(NETWORK_NOT_READ)
    PS_STATUS_CASE(INFER_CANCELLED)
    PS_STATUS_CASE(INVALID_C_PARAM)
    PS_STATUS_CASE(UNKNOWN_C_ERROR)
    PS_STATUS_CASE(NOT_IMPLEMENT_C_METHOD)
    PS_STATUS_CASE(UNKNOW_EXCEPTION)
#undef PS_STATUS_CASE
  }
  return "UNKNOWN_STATUS";
}

OvFailure OvFailure::Capture(const char* function, ov_status_e status, const char* code) {
  std::string detail;
  const char* last = ov.ov_get_last_err_msg();
  if (last != nullptr) {
    detail = last;
    ov.ov_free(last);
  }
  // OpenVINO messages often end with newlines and a source location banner; keep them but trim the tail.
  while (!detail.empty() && (detail.back() == '\n' || detail.back() == ' ')) detail.pop_back();
  std::string message = std::string(function) + " failed: " + StatusName(status);
  if (!detail.empty()) message += ": " + detail;
  return OvFailure{code, message};
}

Napi::Error MakeError(Napi::Env env, const std::string& code, const std::string& message) {
  AddonData* data = env.GetInstanceData<AddonData>();
  if (data != nullptr && !data->error_factory.IsEmpty()) {
    Napi::Value made = data->error_factory.Call({Napi::String::New(env, code), Napi::String::New(env, message)});
    if (made.IsObject()) return Napi::Error(env, made);
  }
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  return error;
}

void ThrowError(Napi::Env env, const std::string& code, const std::string& message) {
  throw MakeError(env, code, message);
}

void ThrowFailure(Napi::Env env, const OvFailure& failure) { ThrowError(env, failure.code, failure.message); }

void SetErrorFactory(Napi::Env env, Napi::Function factory) {
  AddonData* data = env.GetInstanceData<AddonData>();
  data->error_factory = Napi::Persistent(factory);
}

}  // namespace ps
