#include "ov_api.h"

#include <dlfcn.h>

#include <mutex>
#include <openvino/core/version.hpp>

namespace ps {

OvApi ov;

namespace {
std::mutex load_mutex;
bool loaded = false;
std::string loaded_path;
std::string runtime_build_number;
}  // namespace

std::string HeaderVersion() {
  return std::to_string(OPENVINO_VERSION_MAJOR) + "." + std::to_string(OPENVINO_VERSION_MINOR) + "." +
         std::to_string(OPENVINO_VERSION_PATCH);
}

std::string RuntimeBuildNumber() { return runtime_build_number; }

bool IsOpenVinoLoaded() {
  std::lock_guard<std::mutex> lock(load_mutex);
  return loaded;
}

std::string LoadOpenVino(const std::string& library_path) {
  std::lock_guard<std::mutex> lock(load_mutex);
  if (loaded) {
    return loaded_path == library_path ? "" : "OpenVINO is already loaded from " + loaded_path + ", not loading " + library_path;
  }
  // RTLD_LOCAL: the C API is reached only through this table; nothing else in the process sees its symbols.
  void* handle = dlopen(library_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* reason = dlerror();
    return "dlopen(" + library_path + ") failed: " + (reason ? reason : "unknown reason");
  }
  OvApi table;
  std::string missing;
#define PS_OV_RESOLVE(name)                                                        \
  table.name = reinterpret_cast<decltype(&::name)>(dlsym(handle, #name));          \
  if (table.name == nullptr) missing += (missing.empty() ? "" : ", ") + std::string(#name);
  PS_OV_FUNCTIONS(PS_OV_RESOLVE)
#undef PS_OV_RESOLVE
  if (!missing.empty()) {
    dlclose(handle);
    return library_path + " lacks C API symbol(s) " + missing + " (headers are OpenVINO " + HeaderVersion() + ")";
  }
  ov_version_t version{};
  if (table.ov_get_openvino_version(&version) != OK) {
    dlclose(handle);
    return "ov_get_openvino_version failed for " + library_path;
  }
  std::string build_number = version.buildNumber ? version.buildNumber : "";
  table.ov_version_free(&version);
  // buildNumber looks like "2026.4.1-20813-<hash>": the release must equal the headers' release exactly,
  // because C enums (element types, colour formats) are positional and change between releases.
  const std::string expected = HeaderVersion();
  const bool matches = build_number.compare(0, expected.size(), expected) == 0 &&
                       (build_number.size() == expected.size() || build_number[expected.size()] == '-');
  if (!matches) {
    dlclose(handle);
    return "OpenVINO runtime " + build_number + " at " + library_path + " does not match the headers the addon was built with (" +
           expected + "); rebuild with `npm run build:addon` against the same wheel";
  }
  ov = table;
  loaded = true;
  loaded_path = library_path;
  runtime_build_number = build_number;
  return "";
}

}  // namespace ps
