// Model: ports, reshape (with -1 for dynamic dims), isDynamic, dispose.
#include <vector>

#include "addon_data.h"
#include "convert.h"
#include "errors.h"
#include "handles.h"

namespace ps {

namespace {

// Owns an ov_partial_shape_t; -1 dims become fully dynamic dimensions.
class OwnedPartialShape {
 public:
  OwnedPartialShape(Napi::Env env, const std::vector<int64_t>& dims) {
    std::vector<ov_dimension_t> ov_dims;
    for (int64_t d : dims) ov_dims.push_back(d < 0 ? ov_dimension_t{-1, -1} : ov_dimension_t{d, d});
    PS_OV_CALL(env, "PS_OV_BAD_ARGUMENT", ov_partial_shape_create, static_cast<int64_t>(ov_dims.size()), ov_dims.data(), &shape_);
  }
  ~OwnedPartialShape() {
    if (shape_.dims != nullptr) ov.ov_partial_shape_free(&shape_);
  }
  OwnedPartialShape(OwnedPartialShape&& other) noexcept : shape_(other.shape_) { other.shape_ = {}; }
  OwnedPartialShape(const OwnedPartialShape&) = delete;
  const ov_partial_shape_t& get() const { return shape_; }

 private:
  ov_partial_shape_t shape_{};
};

}  // namespace

void ModelWrap::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "Model",
                                    {
                                        InstanceAccessor("inputs", &ModelWrap::Inputs, nullptr),
                                        InstanceAccessor("outputs", &ModelWrap::Outputs, nullptr),
                                        InstanceMethod("input", &ModelWrap::Input),
                                        InstanceMethod("output", &ModelWrap::Output),
                                        InstanceMethod("reshape", &ModelWrap::Reshape),
                                        InstanceMethod("isDynamic", &ModelWrap::IsDynamic),
                                        InstanceMethod("dispose", &ModelWrap::Dispose),
                                    });
  Data(env).model_constructor = Napi::Persistent(ctor);
  exports.Set("Model", ctor);
}

Napi::Object ModelWrap::Wrap(Napi::Env env, ov_model_t* model, Napi::Value parent) {
  Napi::Object object = Data(env).model_constructor.New({Napi::External<ov_model_t>::New(env, model), parent});
  return object;
}

ModelWrap::ModelWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ModelWrap>(info) {
  if (!info[0].IsExternal()) {
    ThrowError(info.Env(), "PS_OV_BAD_ARGUMENT", "Model cannot be constructed directly; use core.readModel()");
  }
  model_ = info[0].As<Napi::External<ov_model_t>>().Data();
  if (info[1].IsObject()) parent_ = Napi::Persistent(info[1].As<Napi::Object>());
}

ModelWrap::~ModelWrap() {
  if (model_ != nullptr) ov.ov_model_free(model_);
}

ov_model_t* ModelWrap::handle(Napi::Env env) const {
  if (model_ == nullptr) ThrowError(env, "PS_OV_DISPOSED", "Model was disposed");
  return model_;
}

Napi::Value ModelWrap::Ports(Napi::Env env, bool inputs) {
  const ov_model_t* model = handle(env);
  size_t count = 0;
  if (inputs) PS_OV_CALL(env, "PS_OV_PORT_FAILED", ov_model_inputs_size, model, &count);
  else PS_OV_CALL(env, "PS_OV_PORT_FAILED", ov_model_outputs_size, model, &count);
  Napi::Array ports = Napi::Array::New(env, count);
  for (size_t i = 0; i < count; ++i) {
    ov_output_const_port_t* port = nullptr;
    if (inputs) PS_OV_CALL(env, "PS_OV_PORT_FAILED", ov_model_const_input_by_index, model, i, &port);
    else PS_OV_CALL(env, "PS_OV_PORT_FAILED", ov_model_const_output_by_index, model, i, &port);
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

Napi::Value ModelWrap::Inputs(const Napi::CallbackInfo& info) { return Ports(info.Env(), true); }
Napi::Value ModelWrap::Outputs(const Napi::CallbackInfo& info) { return Ports(info.Env(), false); }

namespace {
// Finds a port by index (default 0) or by tensor name among `ports` (an array from Ports()).
Napi::Value SelectPort(Napi::Env env, Napi::Array ports, const Napi::Value& selector, const char* kind) {
  if (selector.IsUndefined() || selector.IsNumber()) {
    uint32_t index = selector.IsUndefined() ? 0 : selector.As<Napi::Number>().Uint32Value();
    if (index >= ports.Length()) {
      ThrowError(env, "PS_OV_PORT_NOT_FOUND", std::string(kind) + " index " + std::to_string(index) + " out of range (model has " +
                                                  std::to_string(ports.Length()) + ")");
    }
    return ports.Get(index);
  }
  const std::string name = selector.ToString();
  std::string known;
  for (uint32_t i = 0; i < ports.Length(); ++i) {
    Napi::Object port = ports.Get(i).As<Napi::Object>();
    const std::string any_name = port.Get("anyName").ToString();
    if (any_name == name) return port;
    known += (known.empty() ? "" : ", ") + any_name;
  }
  ThrowError(env, "PS_OV_PORT_NOT_FOUND", std::string("no ") + kind + " named '" + name + "' (have: " + known + ")");
}
}  // namespace

Napi::Value ModelWrap::Input(const Napi::CallbackInfo& info) {
  return SelectPort(info.Env(), Ports(info.Env(), true).As<Napi::Array>(), info[0], "input");
}
Napi::Value ModelWrap::Output(const Napi::CallbackInfo& info) {
  return SelectPort(info.Env(), Ports(info.Env(), false).As<Napi::Array>(), info[0], "output");
}

Napi::Value ModelWrap::Reshape(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ov_model_t* model = handle(env);
  if (info[0].IsArray()) {
    OwnedPartialShape shape(env, DimsFromArray(env, info[0], "shape"));
    PS_OV_CALL(env, "PS_OV_RESHAPE_FAILED", ov_model_reshape_single_input, model, shape.get());
    return info.This();
  }
  if (!info[0].IsObject()) ThrowError(env, "PS_OV_BAD_ARGUMENT", "reshape expects a shape array or {inputName: shape}");
  Napi::Object by_name = info[0].As<Napi::Object>();
  Napi::Array keys = by_name.GetPropertyNames();
  std::vector<std::string> names;
  std::vector<OwnedPartialShape> owned;
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    names.push_back(keys.Get(i).ToString());
    owned.emplace_back(env, DimsFromArray(env, by_name.Get(names.back()), ("shape of " + names.back()).c_str()));
  }
  std::vector<const char*> name_pointers;
  std::vector<ov_partial_shape_t> shapes;
  for (size_t i = 0; i < names.size(); ++i) {
    name_pointers.push_back(names[i].c_str());
    shapes.push_back(owned[i].get());
  }
  PS_OV_CALL(env, "PS_OV_RESHAPE_FAILED", ov_model_reshape, model, name_pointers.data(), shapes.data(), names.size());
  return info.This();
}

Napi::Value ModelWrap::IsDynamic(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), ov.ov_model_is_dynamic(handle(info.Env())));
}

Napi::Value ModelWrap::Dispose(const Napi::CallbackInfo& info) {
  if (model_ != nullptr) ov.ov_model_free(model_);
  model_ = nullptr;
  parent_.Reset();
  return info.Env().Undefined();
}

}  // namespace ps
