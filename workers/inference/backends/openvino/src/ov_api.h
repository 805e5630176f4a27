// The OpenVINO C API as a table of function pointers filled by dlopen/dlsym from the wheel's
// libopenvino_c.so.<N>. Types come from the wheel's own headers (decltype), so a signature change between
// releases is a compile error, not a crash; nothing is linked, so a missing runtime is a clear JS error.
#pragma once

#include <openvino/c/openvino.h>

#include <string>

#define PS_OV_FUNCTIONS(X)                                   \
  X(ov_get_openvino_version)                                 \
  X(ov_version_free)                                         \
  X(ov_get_error_info)                                       \
  X(ov_get_last_err_msg)                                     \
  X(ov_free)                                                 \
  X(ov_core_create)                                          \
  X(ov_core_free)                                            \
  X(ov_core_get_available_devices)                           \
  X(ov_available_devices_free)                               \
  X(ov_core_get_versions_by_device_name)                     \
  X(ov_core_versions_free)                                   \
  X(ov_core_read_model)                                      \
  X(ov_core_compile_model_props)                             \
  X(ov_core_compile_model_from_file_props)                   \
  X(ov_core_set_properties)                                  \
  X(ov_core_get_property)                                    \
  X(ov_model_free)                                           \
  X(ov_model_inputs_size)                                    \
  X(ov_model_outputs_size)                                   \
  X(ov_model_const_input_by_index)                           \
  X(ov_model_const_output_by_index)                          \
  X(ov_model_is_dynamic)                                     \
  X(ov_model_reshape)                                        \
  X(ov_model_reshape_single_input)                           \
  X(ov_port_get_any_name)                                    \
  X(ov_port_get_partial_shape)                               \
  X(ov_port_get_element_type)                                \
  X(ov_output_const_port_free)                               \
  X(ov_partial_shape_create)                                 \
  X(ov_partial_shape_free)                                   \
  X(ov_shape_create)                                         \
  X(ov_shape_free)                                           \
  X(ov_tensor_create)                                        \
  X(ov_tensor_create_from_host_ptr)                          \
  X(ov_tensor_get_shape)                                     \
  X(ov_tensor_get_element_type)                              \
  X(ov_tensor_get_size)                                      \
  X(ov_tensor_get_byte_size)                                 \
  X(ov_tensor_data)                                          \
  X(ov_tensor_free)                                          \
  X(ov_compiled_model_inputs_size)                           \
  X(ov_compiled_model_outputs_size)                          \
  X(ov_compiled_model_input_by_index)                        \
  X(ov_compiled_model_output_by_index)                       \
  X(ov_compiled_model_create_infer_request)                  \
  X(ov_compiled_model_get_property)                          \
  X(ov_compiled_model_free)                                  \
  X(ov_infer_request_set_input_tensor_by_index)              \
  X(ov_infer_request_set_output_tensor_by_index)             \
  X(ov_infer_request_set_tensor)                             \
  X(ov_infer_request_get_output_tensor_by_index)             \
  X(ov_infer_request_infer)                                  \
  X(ov_infer_request_start_async)                            \
  X(ov_infer_request_wait)                                   \
  X(ov_infer_request_set_callback)                           \
  X(ov_infer_request_free)                                   \
  X(ov_layout_create)                                        \
  X(ov_layout_free)                                          \
  X(ov_preprocess_prepostprocessor_create)                   \
  X(ov_preprocess_prepostprocessor_free)                     \
  X(ov_preprocess_prepostprocessor_get_input_info_by_index)  \
  X(ov_preprocess_prepostprocessor_get_input_info_by_name)   \
  X(ov_preprocess_input_info_free)                           \
  X(ov_preprocess_input_info_get_tensor_info)                \
  X(ov_preprocess_input_tensor_info_free)                    \
  X(ov_preprocess_input_tensor_info_set_element_type)        \
  X(ov_preprocess_input_tensor_info_set_layout)              \
  X(ov_preprocess_input_tensor_info_set_color_format)        \
  X(ov_preprocess_input_tensor_info_set_spatial_static_shape)\
  X(ov_preprocess_input_info_get_preprocess_steps)           \
  X(ov_preprocess_preprocess_steps_free)                     \
  X(ov_preprocess_preprocess_steps_resize)                   \
  X(ov_preprocess_preprocess_steps_scale)                    \
  X(ov_preprocess_preprocess_steps_scale_multi_channels)     \
  X(ov_preprocess_preprocess_steps_mean)                     \
  X(ov_preprocess_preprocess_steps_mean_multi_channels)      \
  X(ov_preprocess_preprocess_steps_convert_layout)           \
  X(ov_preprocess_preprocess_steps_reverse_channels)         \
  X(ov_preprocess_preprocess_steps_convert_element_type)     \
  X(ov_preprocess_preprocess_steps_convert_color)            \
  X(ov_preprocess_input_info_get_model_info)                 \
  X(ov_preprocess_input_model_info_free)                     \
  X(ov_preprocess_input_model_info_set_layout)               \
  X(ov_preprocess_prepostprocessor_get_output_info_by_index) \
  X(ov_preprocess_output_info_free)                          \
  X(ov_preprocess_output_info_get_tensor_info)               \
  X(ov_preprocess_output_tensor_info_free)                   \
  X(ov_preprocess_output_set_element_type)                   \
  X(ov_preprocess_prepostprocessor_build)

namespace ps {

struct OvApi {
#define PS_OV_DECLARE_POINTER(name) decltype(&::name) name = nullptr;
  PS_OV_FUNCTIONS(PS_OV_DECLARE_POINTER)
#undef PS_OV_DECLARE_POINTER
};

// Process-wide, like the dlopen'ed library itself; filled once by LoadOpenVino.
extern OvApi ov;

// Loads the library by absolute path (its RPATH=$ORIGIN then finds plugins and TBB without LD_LIBRARY_PATH)
// and checks that the runtime version matches the headers compiled in. Returns an error message or "".
std::string LoadOpenVino(const std::string& library_path);
bool IsOpenVinoLoaded();
std::string HeaderVersion();
std::string RuntimeBuildNumber();

}  // namespace ps
