// Per-environment state: constructors (to create wrapped objects from C++) and the error factory.
#pragma once

#include <napi.h>

namespace ps {

struct AddonData {
  Napi::FunctionReference error_factory;
  Napi::FunctionReference model_constructor;
  Napi::FunctionReference compiled_model_constructor;
  Napi::FunctionReference infer_request_constructor;
  Napi::FunctionReference tensor_constructor;
};

inline AddonData& Data(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

}  // namespace ps
