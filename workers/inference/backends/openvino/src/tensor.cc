// Tensor: either OpenVINO-owned memory (ov_tensor_create, reported to V8 as external memory), memory of a JS
// typed array (ov_tensor_create_from_host_ptr, no copy, the array is referenced while the tensor lives), or a
// tensor handed out by an infer request (shares the request's buffer).
#include <numeric>

#include "addon_data.h"
#include "convert.h"
#include "errors.h"
#include "handles.h"

namespace ps {

void TensorWrap::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "Tensor",
                                    {
                                        InstanceMethod("getShape", &TensorWrap::GetShape),
                                        InstanceMethod("getSize", &TensorWrap::GetSize),
                                        InstanceMethod("getElementType", &TensorWrap::GetElementType),
                                        InstanceAccessor("data", &TensorWrap::GetData, nullptr),
                                        InstanceMethod("view", &TensorWrap::View),
                                        InstanceMethod("dispose", &TensorWrap::Dispose),
                                    });
  Data(env).tensor_constructor = Napi::Persistent(ctor);
  exports.Set("Tensor", ctor);
}

Napi::Object TensorWrap::Wrap(Napi::Env env, ov_tensor_t* tensor, Napi::Value parent) {
  return Data(env).tensor_constructor.New({Napi::External<ov_tensor_t>::New(env, tensor), parent});
}

bool TensorWrap::IsTensor(Napi::Env env, const Napi::Value& value) {
  return value.IsObject() && value.As<Napi::Object>().InstanceOf(Data(env).tensor_constructor.Value());
}

TensorWrap::TensorWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<TensorWrap>(info) {
  Napi::Env env = info.Env();
  if (info[0].IsExternal()) {
    tensor_ = info[0].As<Napi::External<ov_tensor_t>>().Data();
    if (info[1].IsObject()) keep_alive_ = Napi::Persistent(info[1].As<Napi::Object>());
    return;
  }
  if (!info[0].IsString()) ThrowError(env, "PS_OV_BAD_ARGUMENT", "Tensor(type, shape, data?): type must be a string such as 'f32'");
  const ov_element_type_e type = ElementTypeFromName(env, info[0].As<Napi::String>().Utf8Value());
  const std::vector<int64_t> dims = DimsFromArray(env, info[1], "Tensor shape");
  const size_t element_size = ElementByteSize(type);
  if (element_size == 0) ThrowError(env, "PS_OV_BAD_ARGUMENT", "Tensor element type " + ElementTypeName(type) + " is not supported here");
  OwnedShape shape(env, dims);
  const size_t elements = std::accumulate(dims.begin(), dims.end(), size_t{1}, [](size_t a, int64_t d) { return a * static_cast<size_t>(d); });

  if (info[2].IsUndefined()) {
    PS_OV_CALL(env, "PS_OV_TENSOR_FAILED", ov_tensor_create, type, shape.get(), &tensor_);
    external_bytes_ = static_cast<int64_t>(elements * element_size);
    Napi::MemoryManagement::AdjustExternalMemory(env, external_bytes_);
    return;
  }
  if (!info[2].IsTypedArray()) ThrowError(env, "PS_OV_BAD_ARGUMENT", "Tensor data must be a typed array");
  Napi::TypedArray array = info[2].As<Napi::TypedArray>();
  if (array.ByteLength() != elements * element_size) {
    ThrowError(env, "PS_OV_BAD_ARGUMENT",
               "Tensor data has " + std::to_string(array.ByteLength()) + " bytes but " + ElementTypeName(type) + " shape needs " +
                   std::to_string(elements * element_size));
  }
  void* data = static_cast<uint8_t*>(array.ArrayBuffer().Data()) + array.ByteOffset();
  PS_OV_CALL(env, "PS_OV_TENSOR_FAILED", ov_tensor_create_from_host_ptr, type, shape.get(), data, &tensor_);
  keep_alive_ = Napi::Persistent(array.As<Napi::Object>());
}

TensorWrap::~TensorWrap() {
  if (tensor_ != nullptr) ov.ov_tensor_free(tensor_);
  if (external_bytes_ != 0) Napi::MemoryManagement::AdjustExternalMemory(Env(), -external_bytes_);
}

void TensorWrap::Release(Napi::Env env) {
  if (tensor_ != nullptr) ov.ov_tensor_free(tensor_);
  tensor_ = nullptr;
  if (external_bytes_ != 0) Napi::MemoryManagement::AdjustExternalMemory(env, -external_bytes_);
  external_bytes_ = 0;
  keep_alive_.Reset();
}

ov_tensor_t* TensorWrap::handle(Napi::Env env) const {
  if (tensor_ == nullptr) ThrowError(env, "PS_OV_DISPOSED", "Tensor was disposed");
  return tensor_;
}

Napi::Value TensorWrap::GetShape(const Napi::CallbackInfo& info) {
  std::vector<int64_t> dims = TensorDims(info.Env(), handle(info.Env()));
  return DimsToArray(info.Env(), dims.data(), static_cast<int64_t>(dims.size()));
}

Napi::Value TensorWrap::GetSize(const Napi::CallbackInfo& info) {
  size_t size = 0;
  PS_OV_CALL(info.Env(), "PS_OV_TENSOR_FAILED", ov_tensor_get_size, handle(info.Env()), &size);
  return Napi::Number::New(info.Env(), static_cast<double>(size));
}

Napi::Value TensorWrap::GetElementType(const Napi::CallbackInfo& info) {
  ov_element_type_e type = DYNAMIC;
  PS_OV_CALL(info.Env(), "PS_OV_TENSOR_FAILED", ov_tensor_get_element_type, handle(info.Env()), &type);
  return Napi::String::New(info.Env(), ElementTypeName(type));
}

Napi::Value TensorWrap::GetData(const Napi::CallbackInfo& info) { return CopyTensorData(info.Env(), handle(info.Env())); }

Napi::Value TensorWrap::View(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const ov_tensor_t* tensor = handle(env);
  size_t byte_size = 0;
  void* data = nullptr;
  ov_element_type_e type = DYNAMIC;
  PS_OV_CALL(env, "PS_OV_TENSOR_FAILED", ov_tensor_get_byte_size, tensor, &byte_size);
  PS_OV_CALL(env, "PS_OV_TENSOR_FAILED", ov_tensor_data, tensor, &data);
  PS_OV_CALL(env, "PS_OV_TENSOR_FAILED", ov_tensor_get_element_type, tensor, &type);
  if (byte_size == 0 || data == nullptr) return MakeTypedArrayOver(env, type, Napi::ArrayBuffer::New(env, 0), 0, 0);
  // The view holds the Tensor object so the memory outlives the view unless dispose() is called explicitly.
  auto* holder = new Napi::ObjectReference(Napi::Persistent(info.This().As<Napi::Object>()));
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(
      env, data, byte_size, [](Napi::Env, void*, Napi::ObjectReference* ref) { delete ref; }, holder);
  return MakeTypedArrayOver(env, type, buffer, 0, byte_size);
}

Napi::Value TensorWrap::Dispose(const Napi::CallbackInfo& info) {
  Release(info.Env());
  return info.Env().Undefined();
}

}  // namespace ps
