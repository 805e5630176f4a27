// InferRequest: synchronous inference for tools and tests. The pipeline uses AsyncInferQueue instead.
#include "addon_data.h"
#include "convert.h"
#include "errors.h"
#include "handles.h"

namespace ps {

void InferRequestWrap::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "InferRequest",
                                    {
                                        InstanceMethod("setInputTensor", &InferRequestWrap::SetInputTensor),
                                        InstanceMethod("setTensor", &InferRequestWrap::SetTensor),
                                        InstanceMethod("infer", &InferRequestWrap::Infer),
                                        InstanceMethod("getOutputTensor", &InferRequestWrap::GetOutputTensor),
                                        InstanceMethod("dispose", &InferRequestWrap::Dispose),
                                    });
  Data(env).infer_request_constructor = Napi::Persistent(ctor);
  exports.Set("InferRequest", ctor);
}

Napi::Object InferRequestWrap::Wrap(Napi::Env env, ov_infer_request_t* request, Napi::Value parent) {
  return Data(env).infer_request_constructor.New({Napi::External<ov_infer_request_t>::New(env, request), parent});
}

InferRequestWrap::InferRequestWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<InferRequestWrap>(info) {
  Napi::Env env = info.Env();
  if (!info[0].IsExternal() || !info[1].IsObject()) {
    ThrowError(env, "PS_OV_BAD_ARGUMENT", "InferRequest cannot be constructed directly; use compiledModel.createInferRequest()");
  }
  request_ = info[0].As<Napi::External<ov_infer_request_t>>().Data();
  parent_ = Napi::Persistent(info[1].As<Napi::Object>());
  Napi::Array outputs = parent_.Get("outputs").As<Napi::Array>();
  for (uint32_t i = 0; i < outputs.Length(); ++i) {
    std::string name = outputs.Get(i).As<Napi::Object>().Get("anyName").ToString();
    output_names_.push_back(name.empty() ? std::to_string(i) : name);
  }
}

InferRequestWrap::~InferRequestWrap() {
  if (request_ != nullptr) ov.ov_infer_request_free(request_);
}

ov_infer_request_t* InferRequestWrap::handle(Napi::Env env) const {
  if (request_ == nullptr) ThrowError(env, "PS_OV_DISPOSED", "InferRequest was disposed");
  return request_;
}

void InferRequestWrap::SetInputAt(Napi::Env env, size_t index, Napi::Value tensor) {
  if (!TensorWrap::IsTensor(env, tensor)) ThrowError(env, "PS_OV_BAD_ARGUMENT", "input must be a Tensor");
  ov_tensor_t* handle_value = TensorWrap::Unwrap(tensor.As<Napi::Object>())->handle(env);
  PS_OV_CALL(env, "PS_OV_INFER_FAILED", ov_infer_request_set_input_tensor_by_index, handle(env), index, handle_value);
  inputs_["#" + std::to_string(index)] = Napi::Persistent(tensor.As<Napi::Object>());
}

void InferRequestWrap::SetNamed(Napi::Env env, const std::string& name, Napi::Value tensor) {
  if (!TensorWrap::IsTensor(env, tensor)) ThrowError(env, "PS_OV_BAD_ARGUMENT", "tensor for '" + name + "' must be a Tensor");
  ov_tensor_t* handle_value = TensorWrap::Unwrap(tensor.As<Napi::Object>())->handle(env);
  PS_OV_CALL(env, "PS_OV_INFER_FAILED", ov_infer_request_set_tensor, handle(env), name.c_str(), handle_value);
  inputs_[name] = Napi::Persistent(tensor.As<Napi::Object>());
}

Napi::Value InferRequestWrap::SetInputTensor(const Napi::CallbackInfo& info) {
  if (info[0].IsNumber()) SetInputAt(info.Env(), info[0].As<Napi::Number>().Uint32Value(), info[1]);
  else SetInputAt(info.Env(), 0, info[0]);
  return info.Env().Undefined();
}

Napi::Value InferRequestWrap::SetTensor(const Napi::CallbackInfo& info) {
  if (!info[0].IsString()) ThrowError(info.Env(), "PS_OV_BAD_ARGUMENT", "setTensor(name, tensor): name must be a string");
  SetNamed(info.Env(), info[0].As<Napi::String>().Utf8Value(), info[1]);
  return info.Env().Undefined();
}

Napi::Value InferRequestWrap::Infer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Value inputs = info[0];
  if (TensorWrap::IsTensor(env, inputs)) {
    SetInputAt(env, 0, inputs);
  } else if (inputs.IsArray()) {
    Napi::Array list = inputs.As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); ++i) SetInputAt(env, i, list.Get(i));
  } else if (inputs.IsObject()) {
    Napi::Object by_name = inputs.As<Napi::Object>();
    Napi::Array keys = by_name.GetPropertyNames();
    for (uint32_t i = 0; i < keys.Length(); ++i) {
      const std::string name = keys.Get(i).ToString();
      SetNamed(env, name, by_name.Get(name));
    }
  }
  PS_OV_CALL(env, "PS_OV_INFER_FAILED", ov_infer_request_infer, handle(env));
  Napi::Object result = Napi::Object::New(env);
  for (size_t i = 0; i < output_names_.size(); ++i) {
    ov_tensor_t* tensor = nullptr;
    PS_OV_CALL(env, "PS_OV_INFER_FAILED", ov_infer_request_get_output_tensor_by_index, handle(env), i, &tensor);
    result.Set(output_names_[i], TensorWrap::Wrap(env, tensor, info.This()));
  }
  return result;
}

Napi::Value InferRequestWrap::GetOutputTensor(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const size_t index = info[0].IsNumber() ? info[0].As<Napi::Number>().Uint32Value() : 0;
  ov_tensor_t* tensor = nullptr;
  PS_OV_CALL(env, "PS_OV_INFER_FAILED", ov_infer_request_get_output_tensor_by_index, handle(env), index, &tensor);
  return TensorWrap::Wrap(env, tensor, info.This());
}

Napi::Value InferRequestWrap::Dispose(const Napi::CallbackInfo& info) {
  if (request_ != nullptr) ov.ov_infer_request_free(request_);
  request_ = nullptr;
  inputs_.clear();
  parent_.Reset();
  return info.Env().Undefined();
}

}  // namespace ps
