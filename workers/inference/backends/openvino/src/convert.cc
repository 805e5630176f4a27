#include "convert.h"

#include <cstring>

#include "errors.h"

namespace ps {

namespace {

struct ElementTypeEntry {
  const char* name;
  ov_element_type_e type;
  size_t byte_size;  // 0: sub-byte or variable; not usable for host tensors here
};

// Values are the header's enumerators, so the numbering is whatever the installed release defines.
const ElementTypeEntry kElementTypes[] = {
    {"dynamic", DYNAMIC, 0}, {"boolean", BOOLEAN, 1}, {"bf16", BF16, 2}, {"f16", F16, 2},   {"f32", F32, 4},
    {"f64", F64, 8},         {"i4", I4, 0},           {"i8", I8, 1},     {"i16", I16, 2},   {"i32", I32, 4},
    {"i64", I64, 8},         {"u1", U1, 0},           {"u4", U4, 0},     {"u8", U8, 1},     {"u16", U16, 2},
    {"u32", U32, 4},         {"u64", U64, 8},         {"nf4", NF4, 0},   {"string", STRING, 0},
};

}  // namespace

ov_element_type_e ElementTypeFromName(Napi::Env env, const std::string& name) {
  for (const auto& entry : kElementTypes) {
    if (name == entry.name) return entry.type;
  }
  std::string known;
  for (const auto& entry : kElementTypes) known += (known.empty() ? "" : ", ") + std::string(entry.name);
  ThrowError(env, "PS_OV_BAD_ARGUMENT", "unknown element type '" + name + "' (known: " + known + ")");
}

std::string ElementTypeName(ov_element_type_e type) {
  for (const auto& entry : kElementTypes) {
    if (type == entry.type) return entry.name;
  }
  return "type#" + std::to_string(static_cast<int>(type));
}

size_t ElementByteSize(ov_element_type_e type) {
  for (const auto& entry : kElementTypes) {
    if (type == entry.type) return entry.byte_size;
  }
  return 0;
}

Napi::Object ElementTypeTable(Napi::Env env) {
  Napi::Object table = Napi::Object::New(env);
  for (const auto& entry : kElementTypes) table.Set(entry.name, Napi::Number::New(env, static_cast<int>(entry.type)));
  return table;
}

ov_element_type_e ElementTypeOfTypedArray(Napi::Env env, const Napi::TypedArray& array) {
  switch (array.TypedArrayType()) {
    case napi_float32_array: return F32;
    case napi_float64_array: return F64;
    case napi_uint8_array: return U8;
    case napi_uint8_clamped_array: return U8;
    case napi_int8_array: return I8;
    case napi_uint16_array: return U16;
    case napi_int16_array: return I16;
    case napi_uint32_array: return U32;
    case napi_int32_array: return I32;
    case napi_bigint64_array: return I64;
    case napi_biguint64_array: return U64;
  }
  ThrowError(env, "PS_OV_BAD_ARGUMENT", "unsupported typed array kind for tensor data");
}

std::vector<int64_t> DimsFromArray(Napi::Env env, const Napi::Value& value, const char* what) {
  if (!value.IsArray()) ThrowError(env, "PS_OV_BAD_ARGUMENT", std::string(what) + " must be an array of integers");
  Napi::Array array = value.As<Napi::Array>();
  std::vector<int64_t> dims;
  dims.reserve(array.Length());
  for (uint32_t i = 0; i < array.Length(); ++i) {
    Napi::Value item = array.Get(i);
    double number = item.IsNumber() ? item.As<Napi::Number>().DoubleValue() : -2;
    if (number < -1 || number != static_cast<double>(static_cast<int64_t>(number))) {
      ThrowError(env, "PS_OV_BAD_ARGUMENT",
                 std::string(what) + "[" + std::to_string(i) + "] must be an integer >= 0 (or -1 for dynamic)");
    }
    dims.push_back(static_cast<int64_t>(number));
  }
  return dims;
}

Napi::Array DimsToArray(Napi::Env env, const int64_t* dims, int64_t rank) {
  Napi::Array array = Napi::Array::New(env, static_cast<size_t>(rank));
  for (int64_t i = 0; i < rank; ++i) array.Set(static_cast<uint32_t>(i), Napi::Number::New(env, static_cast<double>(dims[i])));
  return array;
}

OwnedShape::OwnedShape(Napi::Env env, const std::vector<int64_t>& dims) {
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] < 0) ThrowError(env, "PS_OV_BAD_ARGUMENT", "tensor shape dim " + std::to_string(i) + " must be static (>= 0)");
  }
  PS_OV_CALL(env, "PS_OV_BAD_ARGUMENT", ov_shape_create, static_cast<int64_t>(dims.size()), dims.data(), &shape_);
}

OwnedShape::~OwnedShape() {
  if (shape_.dims != nullptr) ov.ov_shape_free(&shape_);
}

Napi::Object DescribePort(Napi::Env env, const ov_output_const_port_t* port, size_t index) {
  Napi::Object result = Napi::Object::New(env);
  char* name = nullptr;
  std::string any_name;
  // A port without tensor names is legal (anonymous outputs); treat it as "" rather than an error.
  if (ov.ov_port_get_any_name(port, &name) == OK && name != nullptr) {
    any_name = name;
    ov.ov_free(name);
  } else {
    const char* ignored = ov.ov_get_last_err_msg();
    if (ignored) ov.ov_free(ignored);
  }
  result.Set("anyName", any_name);
  Napi::Array names = Napi::Array::New(env);
  if (!any_name.empty()) names.Set(0u, any_name);
  result.Set("names", names);

  ov_partial_shape_t partial{};
  PS_OV_CALL(env, "PS_OV_PORT_FAILED", ov_port_get_partial_shape, port, &partial);
  Napi::Value shape_value;
  if (partial.rank.min != partial.rank.max) {
    shape_value = env.Null();  // dynamic rank
  } else {
    Napi::Array dims = Napi::Array::New(env, static_cast<size_t>(partial.rank.max));
    for (int64_t i = 0; i < partial.rank.max; ++i) {
      const ov_dimension_t& d = partial.dims[i];
      dims.Set(static_cast<uint32_t>(i), Napi::Number::New(env, d.min == d.max ? static_cast<double>(d.min) : -1.0));
    }
    shape_value = dims;
  }
  ov.ov_partial_shape_free(&partial);
  result.Set("partialShape", shape_value);

  ov_element_type_e type = DYNAMIC;
  PS_OV_CALL(env, "PS_OV_PORT_FAILED", ov_port_get_element_type, port, &type);
  result.Set("elementType", ElementTypeName(type));
  result.Set("index", Napi::Number::New(env, static_cast<double>(index)));
  return result;
}

std::vector<std::pair<std::string, std::string>> PropertiesFromObject(Napi::Env env, const Napi::Value& value) {
  std::vector<std::pair<std::string, std::string>> properties;
  if (value.IsUndefined() || value.IsNull()) return properties;
  if (!value.IsObject()) ThrowError(env, "PS_OV_BAD_ARGUMENT", "properties must be an object of key -> string");
  Napi::Object object = value.As<Napi::Object>();
  Napi::Array keys = object.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    std::string key = keys.Get(i).ToString();
    Napi::Value item = object.Get(key);
    if (!item.IsString()) ThrowError(env, "PS_OV_BAD_ARGUMENT", "property " + key + " must be a string here");
    properties.emplace_back(key, item.As<Napi::String>().Utf8Value());
  }
  return properties;
}

std::vector<int64_t> TensorDims(Napi::Env env, const ov_tensor_t* tensor) {
  ov_shape_t shape{};
  PS_OV_CALL(env, "PS_OV_TENSOR_FAILED", ov_tensor_get_shape, tensor, &shape);
  std::vector<int64_t> dims(shape.dims, shape.dims + shape.rank);
  ov.ov_shape_free(&shape);
  return dims;
}

Napi::Value MakeTypedArrayOver(Napi::Env env, ov_element_type_e type, Napi::ArrayBuffer buffer, size_t byte_offset,
                               size_t byte_length) {
  auto make = [&](napi_typedarray_type kind, size_t element_size) -> Napi::Value {
    napi_value array = nullptr;
    NAPI_THROW_IF_FAILED(env, napi_create_typedarray(env, kind, byte_length / element_size, buffer, byte_offset, &array),
                         Napi::Value());
    return Napi::Value(env, array);
  };
  switch (type) {
    case F32: return make(napi_float32_array, 4);
    case F64: return make(napi_float64_array, 8);
    case I8: return make(napi_int8_array, 1);
    case I16: return make(napi_int16_array, 2);
    case I32: return make(napi_int32_array, 4);
    case I64: return make(napi_bigint64_array, 8);
    case U16: case F16: case BF16: return make(napi_uint16_array, 2);
    case U32: return make(napi_uint32_array, 4);
    case U64: return make(napi_biguint64_array, 8);
    default: return make(napi_uint8_array, 1);
  }
}

Napi::Value CopyTensorData(Napi::Env env, const ov_tensor_t* tensor) {
  size_t byte_size = 0;
  void* data = nullptr;
  ov_element_type_e type = DYNAMIC;
  PS_OV_CALL(env, "PS_OV_TENSOR_FAILED", ov_tensor_get_byte_size, tensor, &byte_size);
  PS_OV_CALL(env, "PS_OV_TENSOR_FAILED", ov_tensor_data, tensor, &data);
  PS_OV_CALL(env, "PS_OV_TENSOR_FAILED", ov_tensor_get_element_type, tensor, &type);
  Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, byte_size);
  if (byte_size > 0) std::memcpy(buffer.Data(), data, byte_size);
  return MakeTypedArrayOver(env, type, buffer, 0, byte_size);
}

}  // namespace ps
