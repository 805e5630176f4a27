// Conversions between JS values and C API values: element type names, shapes, ports, property lists.
#pragma once

#include <napi.h>

#include <string>
#include <utility>
#include <vector>

#include "ov_api.h"

namespace ps {

// Element type names ("f32", "u8", ...) map to the positional ov_element_type_e of the compiled-in headers.
ov_element_type_e ElementTypeFromName(Napi::Env env, const std::string& name);
std::string ElementTypeName(ov_element_type_e type);
Napi::Object ElementTypeTable(Napi::Env env);
// The element type a typed array's memory holds (Float32Array -> f32 ...); throws for other values.
ov_element_type_e ElementTypeOfTypedArray(Napi::Env env, const Napi::TypedArray& array);
size_t ElementByteSize(ov_element_type_e type);

std::vector<int64_t> DimsFromArray(Napi::Env env, const Napi::Value& value, const char* what);
Napi::Array DimsToArray(Napi::Env env, const int64_t* dims, int64_t rank);

// Owns an ov_shape_t created from dims.
class OwnedShape {
 public:
  OwnedShape(Napi::Env env, const std::vector<int64_t>& dims);
  ~OwnedShape();
  OwnedShape(const OwnedShape&) = delete;
  OwnedShape& operator=(const OwnedShape&) = delete;
  const ov_shape_t& get() const { return shape_; }

 private:
  ov_shape_t shape_{};
};

// Describes a port as {anyName, names, partialShape (-1 = dynamic), elementType, index}.
Napi::Object DescribePort(Napi::Env env, const ov_output_const_port_t* port, size_t index);

// Config objects are stringified in index.ts; here they become a key/value list for the *_props functions.
std::vector<std::pair<std::string, std::string>> PropertiesFromObject(Napi::Env env, const Napi::Value& value);

// Copies the tensor's bytes into a new typed array of the matching kind (Uint8Array for types without one).
Napi::Value CopyTensorData(Napi::Env env, const ov_tensor_t* tensor);
Napi::Value MakeTypedArrayOver(Napi::Env env, ov_element_type_e type, Napi::ArrayBuffer buffer, size_t byte_offset,
                               size_t byte_length);
std::vector<int64_t> TensorDims(Napi::Env env, const ov_tensor_t* tensor);

}  // namespace ps
