// CompiledModel: ports, properties, infer requests.
#include "addon_data.h"
#include "convert.h"
#include "errors.h"
#include "handles.h"

namespace ps {

void CompiledModelWrap::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "CompiledModel",
                                    {
                                        InstanceAccessor("inputs", &CompiledModelWrap::Inputs, nullptr),
                                        InstanceAccessor("outputs", &CompiledModelWrap::Outputs, nullptr),
                                        InstanceMethod("createInferRequest", &CompiledModelWrap::CreateInferRequest),
                                        InstanceMethod("getProperty", &CompiledModelWrap::GetProperty),
                                        InstanceMethod("dispose", &CompiledModelWrap::Dispose),
                                    });
  Data(env).compiled_model_constructor = Napi::Persistent(ctor);
  exports.Set("CompiledModel", ctor);
}

Napi::Object CompiledModelWrap::Wrap(Napi::Env env, ov_compiled_model_t* compiled, Napi::Value parent) {
  return Data(env).compiled_model_constructor.New({Napi::External<ov_compiled_model_t>::New(env, compiled), parent});
}

CompiledModelWrap::CompiledModelWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<CompiledModelWrap>(info) {
  if (!info[0].IsExternal()) {
    ThrowError(info.Env(), "PS_OV_BAD_ARGUMENT", "CompiledModel cannot be constructed directly; use core.compileModel()");
  }
  compiled_ = info[0].As<Napi::External<ov_compiled_model_t>>().Data();
  if (info[1].IsObject()) parent_ = Napi::Persistent(info[1].As<Napi::Object>());
}

CompiledModelWrap::~CompiledModelWrap() {
  if (compiled_ != nullptr) ov.ov_compiled_model_free(compiled_);
}

ov_compiled_model_t* CompiledModelWrap::handle(Napi::Env env) const {
  if (compiled_ == nullptr) ThrowError(env, "PS_OV_DISPOSED", "CompiledModel was disposed");
  return compiled_;
}

Napi::Value CompiledModelWrap::Ports(Napi::Env env, bool inputs) {
  const ov_compiled_model_t* compiled = handle(env);
  size_t count = 0;
  if (inputs) PS_OV_CALL(env, "PS_OV_PORT_FAILED", ov_compiled_model_inputs_size, compiled, &count);
  else PS_OV_CALL(env, "PS_OV_PORT_FAILED", ov_compiled_model_outputs_size, compiled, &count);
  Napi::Array ports = Napi::Array::New(env, count);
  for (size_t i = 0; i < count; ++i) {
    ov_output_const_port_t* port = nullptr;
    if (inputs) PS_OV_CALL(env, "PS_OV_PORT_FAILED", ov_compiled_model_input_by_index, compiled, i, &port);
    else PS_OV_CALL(env, "PS_OV_PORT_FAILED", ov_compiled_model_output_by_index, compiled, i, &port);
    try {
      ports.Set(static_cast<uint32_t>(i), DescribePort(env, port, i));
    } catch (...) {
      ov.ov_output_const_port_free(port);
      throw;
    }
    ov.ov_output_const_port_free(port);
  }
  return ports;
}

Napi::Value CompiledModelWrap::Inputs(const Napi::CallbackInfo& info) { return Ports(info.Env(), true); }
Napi::Value CompiledModelWrap::Outputs(const Napi::CallbackInfo& info) { return Ports(info.Env(), false); }

Napi::Value CompiledModelWrap::CreateInferRequest(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ov_infer_request_t* request = nullptr;
  PS_OV_CALL(env, "PS_OV_INFER_FAILED", ov_compiled_model_create_infer_request, handle(env), &request);
  return InferRequestWrap::Wrap(env, request, info.This());
}

std::string CompiledModelWrap::GetPropertyString(Napi::Env env, const std::string& key) const {
  char* value = nullptr;
  PS_OV_CALL(env, "PS_OV_PROPERTY_FAILED", ov_compiled_model_get_property, handle(env), key.c_str(), &value);
  std::string result = value ? value : "";
  if (value) ov.ov_free(value);
  return result;
}

Napi::Value CompiledModelWrap::GetProperty(const Napi::CallbackInfo& info) {
  if (!info[0].IsString()) ThrowError(info.Env(), "PS_OV_BAD_ARGUMENT", "property key must be a string");
  return Napi::String::New(info.Env(), GetPropertyString(info.Env(), info[0].As<Napi::String>().Utf8Value()));
}

Napi::Value CompiledModelWrap::Dispose(const Napi::CallbackInfo& info) {
  // Infer requests (and queues) created from this model share ownership inside OpenVINO and stay usable.
  if (compiled_ != nullptr) ov.ov_compiled_model_free(compiled_);
  compiled_ = nullptr;
  parent_.Reset();
  return info.Env().Undefined();
}

}  // namespace ps
