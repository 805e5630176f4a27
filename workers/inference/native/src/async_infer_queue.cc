// AsyncInferQueue: N infer requests run jobs from a bounded FIFO.
//
// Threading: OpenVINO calls OnInferenceDone on its own thread; that only posts the slot to a thread-safe
// function with a non-blocking call, so OpenVINO never waits on JS. On the JS thread, Complete() calls
// ov_infer_request_wait (which returns at once: OpenVINO sets its promise right after the callback returns),
// copies the outputs into fresh Float32Arrays, settles the job's promise and starts the next waiting job.
// The input's JS memory is wrapped without copying and stays referenced until its request completes.
#include <chrono>
#include <deque>
#include <memory>
#include <numeric>
#include <optional>
#include <vector>

#include "addon_data.h"
#include "convert.h"
#include "errors.h"
#include "handles.h"

namespace ps {

namespace {

class AsyncInferQueueWrap;

struct Job {
  Napi::Promise::Deferred deferred;
  Napi::ObjectReference holder;  // {input, userData}: keeps the input memory and user data alive
  ov_tensor_t* tensor = nullptr;
  bool owns_tensor = false;  // created here over a typed array (vs. a Tensor object the caller owns)

  explicit Job(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
  Job(Job&& other) noexcept
      : deferred(other.deferred), holder(std::move(other.holder)), tensor(other.tensor), owns_tensor(other.owns_tensor) {
    other.tensor = nullptr;
    other.owns_tensor = false;
  }
  Job& operator=(Job&& other) noexcept {
    if (this != &other) {
      FreeTensor();
      deferred = other.deferred;
      holder = std::move(other.holder);
      tensor = other.tensor;
      owns_tensor = other.owns_tensor;
      other.tensor = nullptr;
      other.owns_tensor = false;
    }
    return *this;
  }
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;
  ~Job() { FreeTensor(); }
  void FreeTensor() {
    if (owns_tensor && tensor != nullptr) ov.ov_tensor_free(tensor);
    tensor = nullptr;
    owns_tensor = false;
  }
};

struct Slot {
  AsyncInferQueueWrap* queue = nullptr;
  ov_infer_request_t* request = nullptr;
  ov_callback_t callback{};  // OpenVINO keeps a pointer to this: the slot's heap address never changes
  std::optional<Job> job;
  std::chrono::steady_clock::time_point started;
};

void CallJs(Napi::Env env, Napi::Function, AsyncInferQueueWrap* queue, Slot* slot);
using CompletionTsfn = Napi::TypedThreadSafeFunction<AsyncInferQueueWrap, Slot, CallJs>;

class AsyncInferQueueWrap : public Napi::ObjectWrap<AsyncInferQueueWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "AsyncInferQueue",
                       {
                           InstanceMethod("startAsync", &AsyncInferQueueWrap::StartAsync),
                           InstanceMethod("release", &AsyncInferQueueWrap::Release),
                           InstanceAccessor("size", &AsyncInferQueueWrap::Size, nullptr),
                           InstanceAccessor("pending", &AsyncInferQueueWrap::Pending, nullptr),
                           InstanceAccessor("inFlight", &AsyncInferQueueWrap::InFlight, nullptr),
                           InstanceAccessor("maxQueued", &AsyncInferQueueWrap::MaxQueued, nullptr),
                       });
  }

  explicit AsyncInferQueueWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<AsyncInferQueueWrap>(info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject() || !info[0].As<Napi::Object>().InstanceOf(Data(env).compiled_model_constructor.Value())) {
      ThrowError(env, "PS_OV_BAD_ARGUMENT", "AsyncInferQueue(compiledModel, jobs?, maxQueued?) needs a CompiledModel");
    }
    CompiledModelWrap* compiled = CompiledModelWrap::Unwrap(info[0].As<Napi::Object>());
    size_t jobs = info[1].IsNumber() ? info[1].As<Napi::Number>().Uint32Value() : 0;
    if (jobs == 0) {
      const std::string optimal = compiled->GetPropertyString(env, "OPTIMAL_NUMBER_OF_INFER_REQUESTS");
      jobs = std::max<size_t>(1, std::strtoul(optimal.c_str(), nullptr, 10));
    }
    max_queued_ = info[2].IsNumber() ? info[2].As<Napi::Number>().Uint32Value() : 4 * jobs;
    compiled_ = Napi::Persistent(info[0].As<Napi::Object>());
    Napi::Array outputs = compiled_.Get("outputs").As<Napi::Array>();
    output_count_ = outputs.Length();

    for (size_t i = 0; i < jobs; ++i) {
      auto slot = std::make_unique<Slot>();
      slot->queue = this;
      PS_OV_CALL(env, "PS_OV_INFER_FAILED", ov_compiled_model_create_infer_request, compiled->handle(env), &slot->request);
      slot->callback.callback_func = &AsyncInferQueueWrap::OnInferenceDone;
      slot->callback.args = slot.get();
      PS_OV_CALL(env, "PS_OV_INFER_FAILED", ov_infer_request_set_callback, slot->request, &slot->callback);
      idle_.push_back(slot.get());
      slots_.push_back(std::move(slot));
    }
    tsfn_ = CompletionTsfn::New(env, "posestream:ov:inferDone", 0, 1, this);
    tsfn_.Unref(env);  // an idle queue must never keep the process alive
  }

  ~AsyncInferQueueWrap() override { FreeResources(); }

  void Complete(Napi::Env env, Slot* slot) {
    ov_status_e status = ov.ov_infer_request_wait(slot->request);
    OvFailure failure;
    if (status != OK) failure = OvFailure::Capture("ov_infer_request_wait", status, "PS_OV_INFER_FAILED");
    const double infer_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - slot->started).count();
    Job job = std::move(*slot->job);
    slot->job.reset();
    --in_flight_;
    try {
      if (failure.failed()) {
        job.deferred.Reject(MakeError(env, failure.code, failure.message).Value());
      } else {
        job.deferred.Resolve(CollectResult(env, slot, job, infer_ms));
      }
    } catch (const Napi::Error& error) {
      job.deferred.Reject(error.Value());
    }
    idle_.push_back(slot);
    if (released_ && in_flight_ == 0) {
      FinishRelease(env);
    } else {
      Pump(env);
    }
    UpdateActivity(env);
  }

 private:
  static void OnInferenceDone(void* args) {
    Slot* slot = static_cast<Slot*>(args);
    // Non-blocking: the TSFN queue is unbounded and only ever holds at most `size` entries.
    slot->queue->tsfn_.NonBlockingCall(slot);
  }

  Napi::Value StartAsync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Job job(env);
    Napi::Promise promise = job.deferred.Promise();
    try {
      if (released_) ThrowError(env, "PS_OV_QUEUE_RELEASED", "AsyncInferQueue was released");
      if (idle_.empty() && waiting_.size() >= max_queued_) {
        ThrowError(env, "PS_OV_QUEUE_FULL",
                   "AsyncInferQueue is full: " + std::to_string(in_flight_) + " requests in flight and " +
                       std::to_string(waiting_.size()) + " jobs waiting (maxQueued " + std::to_string(max_queued_) + ")");
      }
      PrepareInput(env, job, info[0], info[1]);
    } catch (const Napi::Error& error) {
      job.deferred.Reject(error.Value());
      return promise;
    }
    waiting_.push_back(std::move(job));
    Pump(env);
    UpdateActivity(env);
    return promise;
  }

  void PrepareInput(Napi::Env env, Job& job, Napi::Value input, Napi::Value user_data) {
    Napi::Object holder = Napi::Object::New(env);
    holder.Set("input", input);
    holder.Set("userData", user_data);
    job.holder = Napi::Persistent(holder);
    if (TensorWrap::IsTensor(env, input)) {
      job.tensor = TensorWrap::Unwrap(input.As<Napi::Object>())->handle(env);
      return;
    }
    if (!input.IsObject() || !input.As<Napi::Object>().Get("data").IsTypedArray()) {
      ThrowError(env, "PS_OV_BAD_INPUT", "startAsync input must be a Tensor or {data: Uint8Array|Float32Array, shape: number[]}");
    }
    Napi::TypedArray data = input.As<Napi::Object>().Get("data").As<Napi::TypedArray>();
    const ov_element_type_e type = ElementTypeOfTypedArray(env, data);
    if (type != U8 && type != F32) ThrowError(env, "PS_OV_BAD_INPUT", "startAsync input data must be a Uint8Array or Float32Array");
    const std::vector<int64_t> dims = DimsFromArray(env, input.As<Napi::Object>().Get("shape"), "input shape");
    const size_t elements = std::accumulate(dims.begin(), dims.end(), size_t{1}, [](size_t a, int64_t d) { return a * static_cast<size_t>(d); });
    if (elements != data.ElementLength()) {
      ThrowError(env, "PS_OV_BAD_INPUT", "input data has " + std::to_string(data.ElementLength()) + " elements but shape needs " +
                                             std::to_string(elements));
    }
    OwnedShape shape(env, dims);
    void* pointer = static_cast<uint8_t*>(data.ArrayBuffer().Data()) + data.ByteOffset();
    PS_OV_CALL(env, "PS_OV_BAD_INPUT", ov_tensor_create_from_host_ptr, type, shape.get(), pointer, &job.tensor);
    job.owns_tensor = true;
  }

  // Starts waiting jobs on idle requests; a job whose start fails is rejected and the request reused.
  void Pump(Napi::Env env) {
    while (!idle_.empty() && !waiting_.empty()) {
      Slot* slot = idle_.back();
      idle_.pop_back();
      Job job = std::move(waiting_.front());
      waiting_.pop_front();
      ov_status_e status = ov.ov_infer_request_set_input_tensor_by_index(slot->request, 0, job.tensor);
      const char* function = "ov_infer_request_set_input_tensor_by_index";
      if (status == OK) {
        slot->started = std::chrono::steady_clock::now();
        slot->job.emplace(std::move(job));
        ++in_flight_;
        status = ov.ov_infer_request_start_async(slot->request);
        function = "ov_infer_request_start_async";
        if (status == OK) continue;
        --in_flight_;
        job = std::move(*slot->job);
        slot->job.reset();
      }
      OvFailure failure = OvFailure::Capture(function, status, "PS_OV_INFER_FAILED");
      job.deferred.Reject(MakeError(env, failure.code, failure.message).Value());
      idle_.push_back(slot);
    }
  }

  Napi::Object CollectResult(Napi::Env env, Slot* slot, Job& job, double infer_ms) {
    Napi::Array outputs = Napi::Array::New(env, output_count_);
    Napi::Array shapes = Napi::Array::New(env, output_count_);
    for (size_t i = 0; i < output_count_; ++i) {
      ov_tensor_t* tensor = nullptr;
      PS_OV_CALL(env, "PS_OV_INFER_FAILED", ov_infer_request_get_output_tensor_by_index, slot->request, i, &tensor);
      std::unique_ptr<ov_tensor_t, void (*)(ov_tensor_t*)> owned(tensor, ov.ov_tensor_free);
      ov_element_type_e type = DYNAMIC;
      PS_OV_CALL(env, "PS_OV_INFER_FAILED", ov_tensor_get_element_type, tensor, &type);
      if (type != F32) {
        ThrowError(env, "PS_OV_UNSUPPORTED_OUTPUT", "output " + std::to_string(i) + " is " + ElementTypeName(type) + ", AsyncInferQueue copies f32 outputs only");
      }
      outputs.Set(static_cast<uint32_t>(i), CopyTensorData(env, tensor));
      std::vector<int64_t> dims = TensorDims(env, tensor);
      shapes.Set(static_cast<uint32_t>(i), DimsToArray(env, dims.data(), static_cast<int64_t>(dims.size())));
    }
    Napi::Object result = Napi::Object::New(env);
    result.Set("outputs", outputs);
    result.Set("shapes", shapes);
    result.Set("userData", job.holder.Get("userData"));
    result.Set("inferMs", Napi::Number::New(env, infer_ms));
    return result;
  }

  // While work is pending the TSFN keeps the loop alive and the queue object is pinned against GC,
  // so a completion can never arrive for a collected queue.
  void UpdateActivity(Napi::Env env) {
    const bool busy = in_flight_ > 0 || !waiting_.empty();
    if (busy == active_ || tsfn_released_) return;
    active_ = busy;
    if (busy) {
      tsfn_.Ref(env);
      Ref();
    } else {
      tsfn_.Unref(env);
      Unref();
    }
  }

  // release(): waiting jobs are rejected, jobs in flight finish normally, then requests and the TSFN are
  // freed. Resolves when that is done; calling it again is harmless.
  Napi::Value Release(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!release_deferred_) release_deferred_.emplace(Napi::Promise::Deferred::New(env));
    Napi::Promise promise = release_deferred_->Promise();
    if (released_) return promise;
    released_ = true;
    while (!waiting_.empty()) {
      Job job = std::move(waiting_.front());
      waiting_.pop_front();
      job.deferred.Reject(MakeError(env, "PS_OV_QUEUE_RELEASED", "AsyncInferQueue was released before this job started").Value());
    }
    if (in_flight_ == 0) FinishRelease(env);
    UpdateActivity(env);
    return promise;
  }

  void FinishRelease(Napi::Env env) {
    if (active_) {
      tsfn_.Unref(env);
      Unref();
      active_ = false;
    }
    FreeResources();
    if (release_deferred_) release_deferred_->Resolve(env.Undefined());
  }

  void FreeResources() {
    for (auto& slot : slots_) {
      if (slot->request == nullptr) continue;
      // Only reachable with work in flight at environment teardown: wait so no callback outlives the slot.
      if (slot->job) ov.ov_infer_request_wait(slot->request);
      ov.ov_infer_request_free(slot->request);
      slot->request = nullptr;
      slot->job.reset();
    }
    waiting_.clear();
    idle_.clear();
    if (!tsfn_released_ && tsfn_) {
      tsfn_.Release();
      tsfn_released_ = true;
    }
    compiled_.Reset();
  }

  Napi::Value Size(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(slots_.size())); }
  Napi::Value Pending(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(in_flight_ + waiting_.size()));
  }
  Napi::Value InFlight(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(in_flight_)); }
  Napi::Value MaxQueued(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(max_queued_)); }

  Napi::ObjectReference compiled_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<Slot*> idle_;
  std::deque<Job> waiting_;
  size_t in_flight_ = 0;
  size_t max_queued_ = 0;
  size_t output_count_ = 0;
  CompletionTsfn tsfn_;
  bool tsfn_released_ = false;
  bool active_ = false;
  bool released_ = false;
  std::optional<Napi::Promise::Deferred> release_deferred_;
};

void CallJs(Napi::Env env, Napi::Function, AsyncInferQueueWrap* queue, Slot* slot) {
  if (env == nullptr || queue == nullptr || slot == nullptr) return;  // environment is shutting down
  try {
    queue->Complete(env, slot);
  } catch (...) {
    // Complete() settles the job itself; nothing may escape into the TSFN dispatcher.
  }
}

}  // namespace

void InitAsyncInferQueue(Napi::Env env, Napi::Object exports) {
  exports.Set("AsyncInferQueue", AsyncInferQueueWrap::Define(env));
}

}  // namespace ps
