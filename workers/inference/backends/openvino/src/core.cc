// Core: devices, versions, properties, and model read/compile. Read and compile run on the libuv pool
// (Napi::AsyncWorker) in their async forms; the *Sync forms run the same code on the JS thread.
#include <utility>
#include <vector>

#include "addon_data.h"
#include "convert.h"
#include "errors.h"
#include "handles.h"

namespace ps {

namespace {

using Properties = std::vector<std::pair<std::string, std::string>>;

std::vector<std::string> AvailableDevices(const ov_core_t* core) {
  std::vector<std::string> devices;
  ov_available_devices_t list{};
  if (ov.ov_core_get_available_devices(core, &list) != OK) return devices;
  for (size_t i = 0; i < list.size; ++i) devices.emplace_back(list.devices[i]);
  ov.ov_available_devices_free(&list);
  return devices;
}

struct ReadOutcome {
  ov_model_t* model = nullptr;
  OvFailure failure;
};

ReadOutcome DoRead(const ov_core_t* core, const std::string& path, const std::string& weights) {
  ReadOutcome outcome;
  ov_status_e status = ov.ov_core_read_model(core, path.c_str(), weights.empty() ? nullptr : weights.c_str(), &outcome.model);
  if (status != OK) {
    outcome.failure = OvFailure::Capture("ov_core_read_model", status, "PS_OV_READ_FAILED");
    outcome.failure.message = "cannot read model " + path + ": " + outcome.failure.message;
    outcome.model = nullptr;
  }
  return outcome;
}

struct CompileOutcome {
  ov_compiled_model_t* compiled = nullptr;
  OvFailure failure;
};

// `model` may be null, then `path` is compiled straight from file (lets OpenVINO use its model cache).
CompileOutcome DoCompile(const ov_core_t* core, const ov_model_t* model, const std::string& path, const std::string& device,
                         const Properties& properties) {
  std::vector<ov_property_t> props;
  props.reserve(properties.size());
  for (const auto& [key, value] : properties) props.push_back(ov_property_t{key.c_str(), value.c_str()});
  // The *_props functions take an array, so any number of properties passes without the variadic
  // "argument count, not pairs" pitfall of ov_core_compile_model.
  CompileOutcome outcome;
  ov_status_e status = model != nullptr
      ? ov.ov_core_compile_model_props(core, model, device.c_str(), props.size(), props.data(), &outcome.compiled)
      : ov.ov_core_compile_model_from_file_props(core, path.c_str(), device.c_str(), props.size(), props.data(), &outcome.compiled);
  if (status == OK) return outcome;
  outcome.compiled = nullptr;
  outcome.failure = OvFailure::Capture(model != nullptr ? "ov_core_compile_model_props" : "ov_core_compile_model_from_file_props",
                                       status, "PS_OV_COMPILE_FAILED");
  // Only after the message is captured: listing devices may overwrite the process-wide last error.
  const std::string base = device.substr(0, device.find_first_of(":."));
  const std::vector<std::string> available = AvailableDevices(core);
  bool known = base == "AUTO" || base == "MULTI" || base == "HETERO" || base == "BATCH";
  for (const auto& name : available) known = known || name == device || name.substr(0, name.find('.')) == base;
  if (!known) {
    std::string list;
    for (const auto& name : available) list += (list.empty() ? "" : ", ") + name;
    outcome.failure.code = "PS_OV_UNKNOWN_DEVICE";
    outcome.failure.message = "unknown OpenVINO device \"" + device + "\" (available: " + list + "); " + outcome.failure.message;
  } else if (model == nullptr) {
    outcome.failure.message = "cannot compile " + path + " for " + device + ": " + outcome.failure.message;
  } else {
    outcome.failure.message = "cannot compile model for " + device + ": " + outcome.failure.message;
  }
  return outcome;
}

class ReadModelWorker : public Napi::AsyncWorker {
 public:
  ReadModelWorker(Napi::Env env, Napi::Object core_object, const ov_core_t* core, std::string path, std::string weights)
      : Napi::AsyncWorker(env, "posestream:ov:readModel"), deferred_(Napi::Promise::Deferred::New(env)), core_(core),
        path_(std::move(path)), weights_(std::move(weights)) {
    core_object_ = Napi::Persistent(core_object);
    CoreWrap::Unwrap(core_object)->BeginUse();
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override { outcome_ = DoRead(core_, path_, weights_); }
  void OnOK() override {
    Napi::Env env = Env();
    CoreWrap::Unwrap(core_object_.Value())->EndUse();
    if (outcome_.failure.failed()) {
      deferred_.Reject(MakeError(env, outcome_.failure.code, outcome_.failure.message).Value());
      return;
    }
    deferred_.Resolve(ModelWrap::Wrap(env, outcome_.model, core_object_.Value()));
  }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference core_object_;
  const ov_core_t* core_;
  std::string path_, weights_;
  ReadOutcome outcome_;
};

class CompileModelWorker : public Napi::AsyncWorker {
 public:
  CompileModelWorker(Napi::Env env, Napi::Object core_object, const ov_core_t* core, Napi::Value model_object,
                     const ov_model_t* model, std::string path, std::string device, Properties properties)
      : Napi::AsyncWorker(env, "posestream:ov:compileModel"), deferred_(Napi::Promise::Deferred::New(env)), core_(core),
        model_(model), path_(std::move(path)), device_(std::move(device)), properties_(std::move(properties)) {
    core_object_ = Napi::Persistent(core_object);
    if (model_object.IsObject()) model_object_ = Napi::Persistent(model_object.As<Napi::Object>());
    CoreWrap::Unwrap(core_object)->BeginUse();
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override { outcome_ = DoCompile(core_, model_, path_, device_, properties_); }
  void OnOK() override {
    Napi::Env env = Env();
    CoreWrap::Unwrap(core_object_.Value())->EndUse();
    if (outcome_.failure.failed()) {
      deferred_.Reject(MakeError(env, outcome_.failure.code, outcome_.failure.message).Value());
      return;
    }
    deferred_.Resolve(CompiledModelWrap::Wrap(env, outcome_.compiled, core_object_.Value()));
  }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference core_object_, model_object_;
  const ov_core_t* core_;
  const ov_model_t* model_;
  std::string path_, device_;
  Properties properties_;
  CompileOutcome outcome_;
};

std::string StringArg(const Napi::CallbackInfo& info, size_t index, const char* what) {
  if (!info[index].IsString()) ThrowError(info.Env(), "PS_OV_BAD_ARGUMENT", std::string(what) + " must be a string");
  return info[index].As<Napi::String>().Utf8Value();
}

std::string OptionalStringArg(const Napi::CallbackInfo& info, size_t index) {
  return info[index].IsString() ? info[index].As<Napi::String>().Utf8Value() : std::string();
}

}  // namespace

void CoreWrap::Init(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "Core",
                                    {
                                        InstanceMethod("getAvailableDevices", &CoreWrap::GetAvailableDevices),
                                        InstanceMethod("getVersions", &CoreWrap::GetVersions),
                                        InstanceMethod("readModel", &CoreWrap::ReadModel),
                                        InstanceMethod("readModelSync", &CoreWrap::ReadModelSync),
                                        InstanceMethod("compileModel", &CoreWrap::CompileModel),
                                        InstanceMethod("compileModelSync", &CoreWrap::CompileModelSync),
                                        InstanceMethod("setProperty", &CoreWrap::SetProperty),
                                        InstanceMethod("getProperty", &CoreWrap::GetProperty),
                                        InstanceMethod("dispose", &CoreWrap::Dispose),
                                    });
  exports.Set("Core", ctor);
}

CoreWrap::CoreWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<CoreWrap>(info) {
  if (!IsOpenVinoLoaded()) ThrowError(info.Env(), "PS_OV_NOT_LOADED", "OpenVINO is not loaded (call load() first)");
  PS_OV_CALL(info.Env(), "PS_OV_CORE_FAILED", ov_core_create, &core_);
}

CoreWrap::~CoreWrap() {
  if (core_ != nullptr) ov.ov_core_free(core_);
}

ov_core_t* CoreWrap::handle(Napi::Env env) const {
  if (core_ == nullptr || dispose_pending_) ThrowError(env, "PS_OV_DISPOSED", "Core was disposed");
  return core_;
}

Napi::Value CoreWrap::GetAvailableDevices(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ov_available_devices_t list{};
  PS_OV_CALL(env, "PS_OV_CORE_FAILED", ov_core_get_available_devices, handle(env), &list);
  Napi::Array devices = Napi::Array::New(env, list.size);
  for (size_t i = 0; i < list.size; ++i) devices.Set(static_cast<uint32_t>(i), list.devices[i]);
  ov.ov_available_devices_free(&list);
  return devices;
}

Napi::Value CoreWrap::GetVersions(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string device = StringArg(info, 0, "device");
  ov_core_version_list_t list{};
  PS_OV_CALL(env, "PS_OV_UNKNOWN_DEVICE", ov_core_get_versions_by_device_name, handle(env), device.c_str(), &list);
  Napi::Object result = Napi::Object::New(env);
  for (size_t i = 0; i < list.size; ++i) {
    Napi::Object version = Napi::Object::New(env);
    version.Set("buildNumber", list.versions[i].version.buildNumber ? list.versions[i].version.buildNumber : "");
    version.Set("description", list.versions[i].version.description ? list.versions[i].version.description : "");
    result.Set(list.versions[i].device_name, version);
  }
  ov.ov_core_versions_free(&list);
  return result;
}

Napi::Value CoreWrap::ReadModel(const Napi::CallbackInfo& info) {
  auto* worker = new ReadModelWorker(info.Env(), info.This().As<Napi::Object>(), handle(info.Env()),
                                     StringArg(info, 0, "model path"), OptionalStringArg(info, 1));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value CoreWrap::ReadModelSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ReadOutcome outcome = DoRead(handle(env), StringArg(info, 0, "model path"), OptionalStringArg(info, 1));
  if (outcome.failure.failed()) ThrowFailure(env, outcome.failure);
  return ModelWrap::Wrap(env, outcome.model, info.This());
}

namespace {
struct CompileArgs {
  Napi::Value model_object;
  const ov_model_t* model = nullptr;
  std::string path, device;
  Properties properties;
};

CompileArgs ParseCompileArgs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CompileArgs args;
  args.model_object = info[0];
  if (info[0].IsString()) {
    args.path = info[0].As<Napi::String>().Utf8Value();
  } else if (info[0].IsObject() && info[0].As<Napi::Object>().InstanceOf(Data(env).model_constructor.Value())) {
    args.model = ModelWrap::Unwrap(info[0].As<Napi::Object>())->handle(env);
  } else {
    ThrowError(env, "PS_OV_BAD_ARGUMENT", "compileModel expects a Model or a model file path");
  }
  args.device = StringArg(info, 1, "device");
  args.properties = PropertiesFromObject(env, info[2]);
  return args;
}
}  // namespace

Napi::Value CoreWrap::CompileModel(const Napi::CallbackInfo& info) {
  CompileArgs args = ParseCompileArgs(info);
  auto* worker = new CompileModelWorker(info.Env(), info.This().As<Napi::Object>(), handle(info.Env()), args.model_object,
                                        args.model, args.path, args.device, std::move(args.properties));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value CoreWrap::CompileModelSync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CompileArgs args = ParseCompileArgs(info);
  CompileOutcome outcome = DoCompile(handle(env), args.model, args.path, args.device, args.properties);
  if (outcome.failure.failed()) ThrowFailure(env, outcome.failure);
  return CompiledModelWrap::Wrap(env, outcome.compiled, info.This());
}

Napi::Value CoreWrap::SetProperty(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string device = StringArg(info, 0, "device");
  Properties properties = PropertiesFromObject(env, info[1]);
  std::vector<ov_property_t> props;
  for (const auto& [key, value] : properties) props.push_back(ov_property_t{key.c_str(), value.c_str()});
  PS_OV_CALL(env, "PS_OV_PROPERTY_FAILED", ov_core_set_properties, handle(env), device.c_str(), props.size(), props.data());
  return env.Undefined();
}

Napi::Value CoreWrap::GetProperty(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::string device = StringArg(info, 0, "device");
  const std::string key = StringArg(info, 1, "property key");
  char* value = nullptr;
  PS_OV_CALL(env, "PS_OV_PROPERTY_FAILED", ov_core_get_property, handle(env), device.c_str(), key.c_str(), &value);
  std::string result = value ? value : "";
  if (value) ov.ov_free(value);
  return Napi::String::New(env, result);
}

Napi::Value CoreWrap::Dispose(const Napi::CallbackInfo& info) {
  // Models and compiled models hold their own shared ownership inside OpenVINO, and keep this JS object
  // alive; freeing the core handle early only releases the core's own state.
  if (in_use_ > 0) {
    dispose_pending_ = true;
  } else if (core_ != nullptr) {
    ov.ov_core_free(core_);
    core_ = nullptr;
  }
  return info.Env().Undefined();
}

void CoreWrap::EndUse() {
  if (--in_use_ == 0 && dispose_pending_ && core_ != nullptr) {
    ov.ov_core_free(core_);
    core_ = nullptr;
  }
}

}  // namespace ps
