// One Napi::ObjectWrap per OpenVINO handle. Finalizers free the handle; dispose() frees it early and is
// idempotent. Children hold a strong reference to their parent JS object so a parent is never freed first.
#pragma once

#include <napi.h>

#include <map>
#include <string>
#include <vector>

#include "ov_api.h"

namespace ps {

class CoreWrap : public Napi::ObjectWrap<CoreWrap> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  explicit CoreWrap(const Napi::CallbackInfo& info);
  ~CoreWrap() override;
  ov_core_t* handle(Napi::Env env) const;
  // Async read/compile use the core handle off the JS thread; dispose() waits for them to finish.
  void BeginUse() { ++in_use_; }
  void EndUse();

 private:
  Napi::Value GetAvailableDevices(const Napi::CallbackInfo& info);
  Napi::Value GetVersions(const Napi::CallbackInfo& info);
  Napi::Value ReadModel(const Napi::CallbackInfo& info);
  Napi::Value ReadModelSync(const Napi::CallbackInfo& info);
  Napi::Value CompileModel(const Napi::CallbackInfo& info);
  Napi::Value CompileModelSync(const Napi::CallbackInfo& info);
  Napi::Value SetProperty(const Napi::CallbackInfo& info);
  Napi::Value GetProperty(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);

  ov_core_t* core_ = nullptr;
  int in_use_ = 0;
  bool dispose_pending_ = false;
};

class ModelWrap : public Napi::ObjectWrap<ModelWrap> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  // Takes ownership of `model`; `parent` (a Core or Model) is kept alive while this model lives.
  static Napi::Object Wrap(Napi::Env env, ov_model_t* model, Napi::Value parent);
  explicit ModelWrap(const Napi::CallbackInfo& info);
  ~ModelWrap() override;
  ov_model_t* handle(Napi::Env env) const;

 private:
  Napi::Value Inputs(const Napi::CallbackInfo& info);
  Napi::Value Outputs(const Napi::CallbackInfo& info);
  Napi::Value Input(const Napi::CallbackInfo& info);
  Napi::Value Output(const Napi::CallbackInfo& info);
  Napi::Value Reshape(const Napi::CallbackInfo& info);
  Napi::Value IsDynamic(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value Ports(Napi::Env env, bool inputs);

  ov_model_t* model_ = nullptr;
  Napi::ObjectReference parent_;
};

class CompiledModelWrap : public Napi::ObjectWrap<CompiledModelWrap> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  static Napi::Object Wrap(Napi::Env env, ov_compiled_model_t* compiled, Napi::Value parent);
  explicit CompiledModelWrap(const Napi::CallbackInfo& info);
  ~CompiledModelWrap() override;
  ov_compiled_model_t* handle(Napi::Env env) const;
  std::string GetPropertyString(Napi::Env env, const std::string& key) const;

 private:
  Napi::Value Inputs(const Napi::CallbackInfo& info);
  Napi::Value Outputs(const Napi::CallbackInfo& info);
  Napi::Value CreateInferRequest(const Napi::CallbackInfo& info);
  Napi::Value GetProperty(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value Ports(Napi::Env env, bool inputs);

  ov_compiled_model_t* compiled_ = nullptr;
  Napi::ObjectReference parent_;
};

class TensorWrap : public Napi::ObjectWrap<TensorWrap> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  // Wraps a tensor the C API handed out (e.g. an output tensor that shares the request's buffer).
  static Napi::Object Wrap(Napi::Env env, ov_tensor_t* tensor, Napi::Value parent);
  static bool IsTensor(Napi::Env env, const Napi::Value& value);
  explicit TensorWrap(const Napi::CallbackInfo& info);
  ~TensorWrap() override;
  ov_tensor_t* handle(Napi::Env env) const;

 private:
  Napi::Value GetShape(const Napi::CallbackInfo& info);
  Napi::Value GetSize(const Napi::CallbackInfo& info);
  Napi::Value GetElementType(const Napi::CallbackInfo& info);
  Napi::Value GetData(const Napi::CallbackInfo& info);
  Napi::Value View(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  void Release(Napi::Env env);

  ov_tensor_t* tensor_ = nullptr;
  Napi::ObjectReference keep_alive_;  // the JS array whose memory backs the tensor, or the parent request
  int64_t external_bytes_ = 0;        // memory this wrapper allocated, reported to V8
};

class InferRequestWrap : public Napi::ObjectWrap<InferRequestWrap> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  static Napi::Object Wrap(Napi::Env env, ov_infer_request_t* request, Napi::Value parent);
  explicit InferRequestWrap(const Napi::CallbackInfo& info);
  ~InferRequestWrap() override;

 private:
  Napi::Value SetInputTensor(const Napi::CallbackInfo& info);
  Napi::Value SetTensor(const Napi::CallbackInfo& info);
  Napi::Value Infer(const Napi::CallbackInfo& info);
  Napi::Value GetOutputTensor(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  ov_infer_request_t* handle(Napi::Env env) const;
  void SetInputAt(Napi::Env env, size_t index, Napi::Value tensor);
  void SetNamed(Napi::Env env, const std::string& name, Napi::Value tensor);

  ov_infer_request_t* request_ = nullptr;
  Napi::ObjectReference parent_;
  // Tensors set as inputs stay referenced: their memory may be a JS array OpenVINO reads during inference.
  std::map<std::string, Napi::ObjectReference> inputs_;
  std::vector<std::string> output_names_;
};

// ppp: buildPrePostProcessedModel(model, spec) -> Model (the spec is assembled by index.ts's builder).
Napi::Value BuildPrePostProcessedModel(const Napi::CallbackInfo& info);

void InitAsyncInferQueue(Napi::Env env, Napi::Object exports);

}  // namespace ps
