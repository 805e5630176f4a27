// Module entry: load(libraryPath) must succeed before any OpenVINO object is created (index.ts does it).
#include "addon_data.h"
#include "convert.h"
#include "errors.h"
#include "handles.h"

namespace ps {
namespace {

Napi::Value Load(const Napi::CallbackInfo& info) {
  if (!info[0].IsString()) ThrowError(info.Env(), "PS_OV_BAD_ARGUMENT", "load(libraryPath) needs the path of libopenvino_c.so.<N>");
  const std::string error = LoadOpenVino(info[0].As<Napi::String>().Utf8Value());
  if (!error.empty()) ThrowError(info.Env(), "PS_OV_LOAD_FAILED", error);
  return Napi::String::New(info.Env(), RuntimeBuildNumber());
}

Napi::Value SetErrorFactoryJs(const Napi::CallbackInfo& info) {
  if (!info[0].IsFunction()) ThrowError(info.Env(), "PS_OV_BAD_ARGUMENT", "setErrorFactory needs a function");
  SetErrorFactory(info.Env(), info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

}  // namespace
}  // namespace ps

static Napi::Object InitPosestreamOpenVino(Napi::Env env, Napi::Object exports) {
  using namespace ps;
  env.SetInstanceData(new AddonData());
  exports.Set("load", Napi::Function::New(env, Load, "load"));
  exports.Set("setErrorFactory", Napi::Function::New(env, SetErrorFactoryJs, "setErrorFactory"));
  exports.Set("headerVersion", Napi::String::New(env, HeaderVersion()));
  exports.Set("elementTypes", ElementTypeTable(env));
  exports.Set("buildPrePostProcessedModel", Napi::Function::New(env, BuildPrePostProcessedModel, "buildPrePostProcessedModel"));
  CoreWrap::Init(env, exports);
  ModelWrap::Init(env, exports);
  CompiledModelWrap::Init(env, exports);
  InferRequestWrap::Init(env, exports);
  TensorWrap::Init(env, exports);
  InitAsyncInferQueue(env, exports);
  return exports;
}

NODE_API_MODULE(posestream_openvino, InitPosestreamOpenVino)
