// Pre/post-processing through ov_prepostprocess.h. index.ts's PrePostProcessor builder records the steps as a
// plain spec; this applies them in order and builds a new Model, so the C++ side holds no builder state.
#include <memory>
#include <vector>

#include "addon_data.h"
#include "convert.h"
#include "errors.h"
#include "handles.h"

namespace ps {

namespace {

// Frees a C API object with its matching *_free when the scope ends.
template <typename T>
using Owned = std::unique_ptr<T, void (*)(T*)>;

template <typename T>
Owned<T> Own(T* pointer, void (*free_fn)(T*)) {
  return Owned<T>(pointer, free_fn);
}

ov_color_format_e ColorFormat(Napi::Env env, const std::string& name) {
  static const std::pair<const char*, ov_color_format_e> kFormats[] = {
      {"RGB", RGB}, {"BGR", BGR}, {"GRAY", GRAY}, {"RGBX", RGBX}, {"BGRX", BGRX},
      {"NV12_SINGLE_PLANE", NV12_SINGLE_PLANE}, {"NV12_TWO_PLANES", NV12_TWO_PLANES},
      {"I420_SINGLE_PLANE", I420_SINGLE_PLANE}, {"I420_THREE_PLANES", I420_THREE_PLANES},
  };
  for (const auto& [format_name, format] : kFormats) {
    if (name == format_name) return format;
  }
  ThrowError(env, "PS_OV_BAD_ARGUMENT", "unknown colour format '" + name + "'");
}

ov_preprocess_resize_algorithm_e ResizeAlgorithm(Napi::Env env, const std::string& name) {
  if (name == "linear") return RESIZE_LINEAR;
  if (name == "cubic") return RESIZE_CUBIC;
  if (name == "nearest") return RESIZE_NEAREST;
  ThrowError(env, "PS_OV_BAD_ARGUMENT", "unknown resize algorithm '" + name + "' (linear, cubic, nearest)");
}

Owned<ov_layout_t> MakeLayout(Napi::Env env, const std::string& description) {
  ov_layout_t* layout = nullptr;
  PS_OV_CALL(env, "PS_OV_BAD_ARGUMENT", ov_layout_create, description.c_str(), &layout);
  return Own(layout, ov.ov_layout_free);
}

std::vector<float> FloatValues(Napi::Env env, const Napi::Value& value) {
  std::vector<float> values;
  if (value.IsNumber()) {
    values.push_back(value.As<Napi::Number>().FloatValue());
  } else if (value.IsArray()) {
    Napi::Array array = value.As<Napi::Array>();
    for (uint32_t i = 0; i < array.Length(); ++i) values.push_back(array.Get(i).ToNumber().FloatValue());
  } else {
    ThrowError(env, "PS_OV_BAD_ARGUMENT", "scale/mean value must be a number or an array of numbers");
  }
  return values;
}

void ApplyTensorInfo(Napi::Env env, ov_preprocess_input_info_t* input, const Napi::Object& tensor) {
  ov_preprocess_input_tensor_info_t* raw = nullptr;
  PS_OV_CALL(env, "PS_OV_PPP_FAILED", ov_preprocess_input_info_get_tensor_info, input, &raw);
  auto info = Own(raw, ov.ov_preprocess_input_tensor_info_free);
  if (tensor.Has("elementType")) {
    PS_OV_CALL(env, "PS_OV_PPP_FAILED", ov_preprocess_input_tensor_info_set_element_type, info.get(),
               ElementTypeFromName(env, tensor.Get("elementType").ToString()));
  }
  if (tensor.Has("layout")) {
    auto layout = MakeLayout(env, tensor.Get("layout").ToString());
    PS_OV_CALL(env, "PS_OV_PPP_FAILED", ov_preprocess_input_tensor_info_set_layout, info.get(), layout.get());
  }
  if (tensor.Has("colorFormat")) {
    PS_OV_CALL(env, "PS_OV_PPP_FAILED", ov_preprocess_input_tensor_info_set_color_format, info.get(),
               ColorFormat(env, tensor.Get("colorFormat").ToString()));
  }
  if (tensor.Has("spatialStaticShape")) {
    std::vector<int64_t> hw = DimsFromArray(env, tensor.Get("spatialStaticShape"), "spatialStaticShape");
    if (hw.size() != 2) ThrowError(env, "PS_OV_BAD_ARGUMENT", "spatialStaticShape must be [height, width]");
    PS_OV_CALL(env, "PS_OV_PPP_FAILED", ov_preprocess_input_tensor_info_set_spatial_static_shape, info.get(),
               static_cast<size_t>(hw[0]), static_cast<size_t>(hw[1]));
  }
}

void ApplyStep(Napi::Env env, ov_preprocess_preprocess_steps_t* steps, const Napi::Object& step) {
  const std::string op = step.Get("op").ToString();
  if (op == "convertElementType") {
    PS_OV_CALL(env, "PS_OV_PPP_FAILED", ov_preprocess_preprocess_steps_convert_element_type, steps,
               ElementTypeFromName(env, step.Get("elementType").ToString()));
  } else if (op == "convertLayout") {
    auto layout = MakeLayout(env, step.Get("layout").ToString());
    PS_OV_CALL(env, "PS_OV_PPP_FAILED", ov_preprocess_preprocess_steps_convert_layout, steps, layout.get());
  } else if (op == "convertColor") {
    PS_OV_CALL(env, "PS_OV_PPP_FAILED", ov_preprocess_preprocess_steps_convert_color, steps,
               ColorFormat(env, step.Get("colorFormat").ToString()));
  } else if (op == "scale" || op == "mean") {
    std::vector<float> values = FloatValues(env, step.Get("value"));
    const bool scale = op == "scale";
    if (values.size() == 1) {
      if (scale) PS_OV_CALL(env, "PS_OV_PPP_FAILED", ov_preprocess_preprocess_steps_scale, steps, values[0]);
      else PS_OV_CALL(env, "PS_OV_PPP_FAILED", ov_preprocess_preprocess_steps_mean, steps, values[0]);
    } else if (scale) {
      PS_OV_CALL(env, "PS_OV_PPP_FAILED", ov_preprocess_preprocess_steps_scale_multi_channels, steps, values.data(),
                 static_cast<int32_t>(values.size()));
    } else {
      PS_OV_CALL(env, "PS_OV_PPP_FAILED", ov_preprocess_preprocess_steps_mean_multi_channels, steps, values.data(),
                 static_cast<int32_t>(values.size()));
    }
  } else if (op == "resize") {
    PS_OV_CALL(env, "PS_OV_PPP_FAILED", ov_preprocess_preprocess_steps_resize, steps,
               ResizeAlgorithm(env, step.Get("algorithm").ToString()));
  } else if (op == "reverseChannels") {
    PS_OV_CALL(env, "PS_OV_PPP_FAILED", ov_preprocess_preprocess_steps_reverse_channels, steps);
  } else {
    ThrowError(env, "PS_OV_BAD_ARGUMENT", "unknown preprocess step '" + op + "'");
  }
}

void ApplyInput(Napi::Env env, ov_preprocess_prepostprocessor_t* ppp, const Napi::Object& spec) {
  ov_preprocess_input_info_t* raw = nullptr;
  Napi::Value selector = spec.Get("selector");
  if (selector.IsString()) {
    const std::string name = selector.As<Napi::String>().Utf8Value();
    PS_OV_CALL(env, "PS_OV_PORT_NOT_FOUND", ov_preprocess_prepostprocessor_get_input_info_by_name, ppp, name.c_str(), &raw);
  } else {
    const size_t index = selector.IsNumber() ? selector.As<Napi::Number>().Uint32Value() : 0;
    PS_OV_CALL(env, "PS_OV_PORT_NOT_FOUND", ov_preprocess_prepostprocessor_get_input_info_by_index, ppp, index, &raw);
  }
  auto input = Own(raw, ov.ov_preprocess_input_info_free);
  if (spec.Get("tensor").IsObject()) ApplyTensorInfo(env, input.get(), spec.Get("tensor").As<Napi::Object>());
  if (spec.Get("steps").IsArray()) {
    ov_preprocess_preprocess_steps_t* raw_steps = nullptr;
    PS_OV_CALL(env, "PS_OV_PPP_FAILED", ov_preprocess_input_info_get_preprocess_steps, input.get(), &raw_steps);
    auto steps = Own(raw_steps, ov.ov_preprocess_preprocess_steps_free);
    Napi::Array list = spec.Get("steps").As<Napi::Array>();
    for (uint32_t i = 0; i < list.Length(); ++i) ApplyStep(env, steps.get(), list.Get(i).As<Napi::Object>());
  }
  if (spec.Get("modelLayout").IsString()) {
    ov_preprocess_input_model_info_t* raw_model = nullptr;
    PS_OV_CALL(env, "PS_OV_PPP_FAILED", ov_preprocess_input_info_get_model_info, input.get(), &raw_model);
    auto model_info = Own(raw_model, ov.ov_preprocess_input_model_info_free);
    auto layout = MakeLayout(env, spec.Get("modelLayout").ToString());
    PS_OV_CALL(env, "PS_OV_PPP_FAILED", ov_preprocess_input_model_info_set_layout, model_info.get(), layout.get());
  }
}

void ApplyOutput(Napi::Env env, ov_preprocess_prepostprocessor_t* ppp, const Napi::Object& spec) {
  const size_t index = spec.Get("selector").IsNumber() ? spec.Get("selector").As<Napi::Number>().Uint32Value() : 0;
  ov_preprocess_output_info_t* raw = nullptr;
  PS_OV_CALL(env, "PS_OV_PORT_NOT_FOUND", ov_preprocess_prepostprocessor_get_output_info_by_index, ppp, index, &raw);
  auto output = Own(raw, ov.ov_preprocess_output_info_free);
  if (spec.Get("elementType").IsString()) {
    ov_preprocess_output_tensor_info_t* raw_info = nullptr;
    PS_OV_CALL(env, "PS_OV_PPP_FAILED", ov_preprocess_output_info_get_tensor_info, output.get(), &raw_info);
    auto info = Own(raw_info, ov.ov_preprocess_output_tensor_info_free);
    PS_OV_CALL(env, "PS_OV_PPP_FAILED", ov_preprocess_output_set_element_type, info.get(),
               ElementTypeFromName(env, spec.Get("elementType").ToString()));
  }
}

}  // namespace

Napi::Value BuildPrePostProcessedModel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject() || !info[0].As<Napi::Object>().InstanceOf(Data(env).model_constructor.Value())) {
    ThrowError(env, "PS_OV_BAD_ARGUMENT", "PrePostProcessor needs a Model");
  }
  if (!info[1].IsObject()) ThrowError(env, "PS_OV_BAD_ARGUMENT", "PrePostProcessor spec must be an object");
  ov_model_t* model = ModelWrap::Unwrap(info[0].As<Napi::Object>())->handle(env);
  Napi::Object spec = info[1].As<Napi::Object>();

  ov_preprocess_prepostprocessor_t* raw = nullptr;
  PS_OV_CALL(env, "PS_OV_PPP_FAILED", ov_preprocess_prepostprocessor_create, model, &raw);
  auto ppp = Own(raw, ov.ov_preprocess_prepostprocessor_free);
  if (spec.Get("inputs").IsArray()) {
    Napi::Array inputs = spec.Get("inputs").As<Napi::Array>();
    for (uint32_t i = 0; i < inputs.Length(); ++i) ApplyInput(env, ppp.get(), inputs.Get(i).As<Napi::Object>());
  }
  if (spec.Get("outputs").IsArray()) {
    Napi::Array outputs = spec.Get("outputs").As<Napi::Array>();
    for (uint32_t i = 0; i < outputs.Length(); ++i) ApplyOutput(env, ppp.get(), outputs.Get(i).As<Napi::Object>());
  }
  ov_model_t* built = nullptr;
  PS_OV_CALL(env, "PS_OV_PPP_FAILED", ov_preprocess_prepostprocessor_build, ppp.get(), &built);
  return ModelWrap::Wrap(env, built, info[0]);
}

}  // namespace ps
