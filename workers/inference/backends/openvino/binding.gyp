{
  "targets": [
    {
      "target_name": "posestream_openvino",
      "sources": [
        "src/addon.cc",
        "src/ov_api.cc",
        "src/errors.cc",
        "src/convert.cc",
        "src/core.cc",
        "src/model.cc",
        "src/prepostprocess.cc",
        "src/compiled_model.cc",
        "src/infer_request.cc",
        "src/tensor.cc",
        "src/async_infer_queue.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!(node find-openvino.cjs include)"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "libraries": ["-ldl"]
    }
  ]
}
