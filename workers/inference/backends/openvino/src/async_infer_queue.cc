// AsyncInferQueue: N infer requests run jobs from a bounded FIFO.
//
// Threads:
//  - JS thread: startAsync() accepts a job and starts it at once on an idle request, or queues it; settles
//    promises; release().
//  - OpenVINO's callback thread: OnInferenceDone only hands the finished request to the queue's completion
//    thread (a short locked push and a notify), so OpenVINO never waits on JS or on copying.
//  - The queue's completion thread: reads the request's status (ov_infer_request_wait returns as soon as the
//    callback has returned), copies the outputs into native buffers, starts the next waiting job on the same
//    request, and posts the finished job to the JS thread with a non-blocking thread-safe-function call.
// Why a native thread restarts requests rather than the JS thread: a request must not sit idle while its
// completion waits for the event loop (behind decoding, padding, GC and I/O). On a 2-core CPU that gap cost
// 5-13% of benchmark_app's throughput (see `posestream bench engine`).
//
// Jobs hold JS references (promise, input memory): they move between threads under the mutex but are created
// and destroyed on the JS thread only. The input's JS memory is wrapped without copying and stays referenced
// until its job is settled. Outputs: a job may bring its own Float32Arrays, which the request writes into
// directly (no copy, no allocation: what PoseEngine does with pooled buffers); otherwise the completion thread
// copies them into native buffers that become the result's Float32Arrays.
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <numeric>
#include <optional>
#include <thread>
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
  std::vector<ov_tensor_t*> outputs;  // over the caller's output arrays (owned); empty: outputs are copied

  explicit Job(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
  Job(Job&& other) noexcept
      : deferred(other.deferred),
        holder(std::move(other.holder)),
        tensor(other.tensor),
        owns_tensor(other.owns_tensor),
        outputs(std::move(other.outputs)) {
    other.tensor = nullptr;
    other.owns_tensor = false;
    other.outputs.clear();
  }
  Job& operator=(Job&& other) noexcept {
    if (this != &other) {
      FreeTensor();
      deferred = other.deferred;
      holder = std::move(other.holder);
      tensor = other.tensor;
      owns_tensor = other.owns_tensor;
      outputs = std::move(other.outputs);
      other.tensor = nullptr;
      other.owns_tensor = false;
      other.outputs.clear();
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
    for (ov_tensor_t* output : outputs) ov.ov_tensor_free(output);
    outputs.clear();
  }
};

struct OutputCopy {
  std::unique_ptr<float[]> data;
  size_t count = 0;
  std::vector<int64_t> dims;
};

// A finished job on its way to the JS thread: outputs copied, or the failure that ended it.
struct Completion {
  Job job;
  OvFailure failure;
  std::vector<OutputCopy> outputs;  // copies, or only dims when the job brought its own output arrays
  double infer_ms = 0;

  explicit Completion(Job&& finished) : job(std::move(finished)) {}
};

struct Slot {
  AsyncInferQueueWrap* queue = nullptr;
  ov_infer_request_t* request = nullptr;
  ov_callback_t callback{};  // OpenVINO keeps a pointer to this: the slot's heap address never changes
  // Touched only by whoever holds the slot: the starter until start_async succeeds, then the completion thread.
  std::optional<Job> job;
  std::chrono::steady_clock::time_point started;
  // The request's own output tensors, put back after a job that brought its own arrays.
  std::vector<ov_tensor_t*> own_outputs;
  bool outputs_lent = false;  // the request currently writes into the last job's arrays
};

void CallJs(Napi::Env env, Napi::Function, AsyncInferQueueWrap* queue, Completion* completion);
using CompletionTsfn = Napi::TypedThreadSafeFunction<AsyncInferQueueWrap, Completion, CallJs>;

// Starts `job` on the slot's request. On failure the job is handed back in `job` with the failure returned.
OvFailure Launch(Slot* slot, Job& job) {
  ov_status_e status = ov.ov_infer_request_set_input_tensor_by_index(slot->request, 0, job.tensor);
  if (status != OK) return OvFailure::Capture("ov_infer_request_set_input_tensor_by_index", status, "PS_OV_INFER_FAILED");
  if (!job.outputs.empty() || slot->outputs_lent) {
    const std::vector<ov_tensor_t*>& outputs = job.outputs.empty() ? slot->own_outputs : job.outputs;
    for (size_t i = 0; i < outputs.size(); ++i) {
      status = ov.ov_infer_request_set_output_tensor_by_index(slot->request, i, outputs[i]);
      if (status != OK) {
        OvFailure failure = OvFailure::Capture("ov_infer_request_set_output_tensor_by_index", status, "PS_OV_BAD_OUTPUT");
        failure.message = "output " + std::to_string(i) + ": " + failure.message;
        slot->outputs_lent = true;  // some outputs may point at this job's arrays: the next job resets them all
        return failure;
      }
    }
    slot->outputs_lent = !job.outputs.empty();
  }
  slot->started = std::chrono::steady_clock::now();
  slot->job.emplace(std::move(job));
  status = ov.ov_infer_request_start_async(slot->request);
  if (status == OK) return {};  // the slot now belongs to OpenVINO and then the completion thread
  OvFailure failure = OvFailure::Capture("ov_infer_request_start_async", status, "PS_OV_INFER_FAILED");
  job = std::move(*slot->job);
  slot->job.reset();
  return failure;
}

// Runs on the completion thread: the slot's job with its outputs copied out of the request (or its failure).
std::unique_ptr<Completion> Collect(Slot* slot, size_t output_count) {
  auto completion = std::make_unique<Completion>(std::move(*slot->job));
  slot->job.reset();
  ov_status_e status = ov.ov_infer_request_wait(slot->request);
  completion->infer_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - slot->started).count();
  const char* function = "ov_infer_request_wait";
  for (size_t i = 0; status == OK && i < output_count; ++i) {
    ov_tensor_t* tensor = nullptr;
    function = "ov_infer_request_get_output_tensor_by_index";
    status = ov.ov_infer_request_get_output_tensor_by_index(slot->request, i, &tensor);
    if (status != OK) break;
    std::unique_ptr<ov_tensor_t, void (*)(ov_tensor_t*)> owned(tensor, ov.ov_tensor_free);
    ov_element_type_e type = DYNAMIC;
    ov_shape_t shape{};
    void* data = nullptr;
    OutputCopy copy;
    function = "ov_tensor_get_element_type";
    if ((status = ov.ov_tensor_get_element_type(tensor, &type)) != OK) break;
    if (type != F32) {
      completion->failure = OvFailure{"PS_OV_UNSUPPORTED_OUTPUT", "output " + std::to_string(i) + " is " + ElementTypeName(type) +
                                                                     ", AsyncInferQueue copies f32 outputs only"};
      return completion;
    }
    function = "ov_tensor_get_shape";
    if ((status = ov.ov_tensor_get_shape(tensor, &shape)) != OK) break;
    copy.dims.assign(shape.dims, shape.dims + shape.rank);
    ov.ov_shape_free(&shape);
    if (!completion->job.outputs.empty()) {  // already in the caller's array
      completion->outputs.push_back(std::move(copy));
      continue;
    }
    function = "ov_tensor_get_size";
    if ((status = ov.ov_tensor_get_size(tensor, &copy.count)) != OK) break;
    function = "ov_tensor_data";
    if ((status = ov.ov_tensor_data(tensor, &data)) != OK) break;
    copy.data.reset(new float[copy.count]);
    std::memcpy(copy.data.get(), data, copy.count * sizeof(float));
    completion->outputs.push_back(std::move(copy));
  }
  if (status != OK) completion->failure = OvFailure::Capture(function, status, "PS_OV_INFER_FAILED");
  return completion;
}

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
    output_count_ = compiled_.Get("outputs").As<Napi::Array>().Length();

    for (size_t i = 0; i < jobs; ++i) {
      auto slot = std::make_unique<Slot>();
      slot->queue = this;
      PS_OV_CALL(env, "PS_OV_INFER_FAILED", ov_compiled_model_create_infer_request, compiled->handle(env), &slot->request);
      slot->callback.callback_func = &AsyncInferQueueWrap::OnInferenceDone;
      slot->callback.args = slot.get();
      PS_OV_CALL(env, "PS_OV_INFER_FAILED", ov_infer_request_set_callback, slot->request, &slot->callback);
      for (size_t o = 0; o < output_count_; ++o) {
        slot->own_outputs.push_back(nullptr);
        PS_OV_CALL(env, "PS_OV_INFER_FAILED", ov_infer_request_get_output_tensor_by_index, slot->request, o, &slot->own_outputs.back());
      }
      idle_.push_back(slot.get());
      slots_.push_back(std::move(slot));
    }
    tsfn_ = CompletionTsfn::New(env, "posestream:ov:inferDone", 0, 1, this);
    tsfn_.Unref(env);  // an idle queue must never keep the process alive
    completion_thread_ = std::thread(&AsyncInferQueueWrap::CompletionLoop, this);
  }

  ~AsyncInferQueueWrap() override { Shutdown(); }

  // JS thread: settles one finished job.
  void Settle(Napi::Env env, std::unique_ptr<Completion> completion) {
    --unsettled_;
    Job& job = completion->job;
    try {
      if (completion->failure.failed()) {
        job.deferred.Reject(MakeError(env, completion->failure.code, completion->failure.message).Value());
      } else {
        job.deferred.Resolve(ResultObject(env, *completion));
      }
    } catch (const Napi::Error& error) {
      job.deferred.Reject(error.Value());
    }
    completion.reset();  // drops the input memory reference here, on the JS thread
    if (released_ && unsettled_ == 0) {
      FinishRelease(env);
    } else {
      UpdateActivity(env);
    }
  }

 private:
  static void OnInferenceDone(void* args) {
    Slot* slot = static_cast<Slot*>(args);
    AsyncInferQueueWrap* queue = slot->queue;
    {
      std::lock_guard<std::mutex> lock(queue->mutex_);
      queue->finished_.push_back(slot);
    }
    queue->wake_.notify_one();
  }

  void CompletionLoop() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [this] { return !finished_.empty() || stopping_; });
      if (finished_.empty()) return;  // stopping, and every request is idle (Shutdown waits for that)
      Slot* slot = finished_.front();
      finished_.pop_front();
      lock.unlock();
      std::unique_ptr<Completion> done = Collect(slot, output_count_);
      lock.lock();
      // The outputs are out of the request (copied, or already in the job's own arrays): it can take the next
      // waiting job before JS hears of this one.
      while (!released_ && !waiting_.empty()) {
        Job next = std::move(waiting_.front());
        waiting_.pop_front();
        lock.unlock();
        OvFailure failure = Launch(slot, next);
        lock.lock();
        if (!failure.failed()) break;
        auto rejected = std::make_unique<Completion>(std::move(next));
        rejected->failure = std::move(failure);
        Post(std::move(rejected));
      }
      if (!slot->job) {
        idle_.push_back(slot);
        --running_;
        if (running_ == 0) all_idle_.notify_all();
      }
      Post(std::move(done));
    }
  }

  // Any thread. Never blocks: the TSFN queue is unbounded and holds at most one entry per accepted job.
  void Post(std::unique_ptr<Completion> completion) {
    if (tsfn_.NonBlockingCall(completion.get()) == napi_ok) {
      completion.release();
    } else {
      // The environment is shutting down: its JS references die with it, so the job is dropped, not freed here.
      (void)completion.release();
    }
  }

  Napi::Value StartAsync(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Job job(env);
    Napi::Promise promise = job.deferred.Promise();
    try {
      if (released_) ThrowError(env, "PS_OV_QUEUE_RELEASED", "AsyncInferQueue was released");
      PrepareInput(env, job, info[0], info[1], info[2]);
      std::unique_lock<std::mutex> lock(mutex_);
      if (idle_.empty()) {
        if (waiting_.size() >= max_queued_) {
          ThrowError(env, "PS_OV_QUEUE_FULL",
                     "AsyncInferQueue is full: " + std::to_string(running_) + " requests in flight and " +
                         std::to_string(waiting_.size()) + " jobs waiting (maxQueued " + std::to_string(max_queued_) + ")");
        }
        waiting_.push_back(std::move(job));
      } else {
        Slot* slot = idle_.back();
        idle_.pop_back();
        ++running_;
        lock.unlock();
        OvFailure failure = Launch(slot, job);
        if (failure.failed()) {
          lock.lock();
          idle_.push_back(slot);
          --running_;
          lock.unlock();
          ThrowFailure(env, failure);
        }
      }
    } catch (const Napi::Error& error) {
      job.deferred.Reject(error.Value());
      return promise;
    }
    ++unsettled_;
    UpdateActivity(env);
    return promise;
  }

  void PrepareInput(Napi::Env env, Job& job, Napi::Value input, Napi::Value user_data, Napi::Value outputs) {
    Napi::Object holder = Napi::Object::New(env);
    holder.Set("input", input);
    holder.Set("userData", user_data);
    holder.Set("outputs", outputs);
    job.holder = Napi::Persistent(holder);
    if (!outputs.IsUndefined() && !outputs.IsNull()) {
      if (!outputs.IsArray() || outputs.As<Napi::Array>().Length() != output_count_) {
        ThrowError(env, "PS_OV_BAD_OUTPUT", "startAsync outputs must be an array of " + std::to_string(output_count_) +
                                                " {data: Float32Array, shape: number[]} (one per model output)");
      }
      Napi::Array list = outputs.As<Napi::Array>();
      for (uint32_t i = 0; i < output_count_; ++i) {
        job.outputs.push_back(HostTensor(env, list.Get(i), ("output " + std::to_string(i)).c_str(), "PS_OV_BAD_OUTPUT", false));
      }
    }
    if (TensorWrap::IsTensor(env, input)) {
      job.tensor = TensorWrap::Unwrap(input.As<Napi::Object>())->handle(env);
      return;
    }
    job.tensor = HostTensor(env, input, "input", "PS_OV_BAD_INPUT", true);
    job.owns_tensor = true;
  }

  // A tensor over a JS {data, shape} without copying (f32, or also u8 for inputs).
  static ov_tensor_t* HostTensor(Napi::Env env, Napi::Value value, const char* what, const char* code, bool allow_u8) {
    const std::string kinds = allow_u8 ? "Uint8Array|Float32Array" : "Float32Array";
    if (!value.IsObject() || !value.As<Napi::Object>().Get("data").IsTypedArray()) {
      ThrowError(env, code, std::string("startAsync ") + what + " must be " + (allow_u8 ? "a Tensor or " : "") + "{data: " + kinds + ", shape: number[]}");
    }
    Napi::TypedArray data = value.As<Napi::Object>().Get("data").As<Napi::TypedArray>();
    const ov_element_type_e type = ElementTypeOfTypedArray(env, data);
    if (type != F32 && !(allow_u8 && type == U8)) ThrowError(env, code, std::string("startAsync ") + what + " data must be a " + kinds);
    const std::vector<int64_t> dims = DimsFromArray(env, value.As<Napi::Object>().Get("shape"), what);
    const size_t elements = std::accumulate(dims.begin(), dims.end(), size_t{1}, [](size_t a, int64_t d) { return a * static_cast<size_t>(d); });
    if (elements != data.ElementLength()) {
      ThrowError(env, code, std::string(what) + " data has " + std::to_string(data.ElementLength()) + " elements but shape needs " +
                                std::to_string(elements));
    }
    OwnedShape shape(env, dims);
    void* pointer = static_cast<uint8_t*>(data.ArrayBuffer().Data()) + data.ByteOffset();
    ov_tensor_t* tensor = nullptr;
    PS_OV_CALL(env, code, ov_tensor_create_from_host_ptr, type, shape.get(), pointer, &tensor);
    return tensor;
  }

  Napi::Object ResultObject(Napi::Env env, Completion& completion) {
    const uint32_t count = static_cast<uint32_t>(completion.outputs.size());
    Napi::Array outputs = Napi::Array::New(env, count);
    Napi::Array shapes = Napi::Array::New(env, count);
    const bool lent = !completion.job.outputs.empty();
    Napi::Array lent_outputs = lent ? completion.job.holder.Get("outputs").As<Napi::Array>() : Napi::Array();
    for (uint32_t i = 0; i < count; ++i) {
      OutputCopy& copy = completion.outputs[i];
      shapes.Set(i, DimsToArray(env, copy.dims.data(), static_cast<int64_t>(copy.dims.size())));
      if (lent) {
        outputs.Set(i, lent_outputs.Get(i).As<Napi::Object>().Get("data"));
        continue;
      }
      const size_t bytes = copy.count * sizeof(float);
      Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(env, copy.data.get(), bytes, [](Napi::Env, void* data) {
        delete[] static_cast<float*>(data);
      });
      copy.data.release();  // owned by the ArrayBuffer from here on
      outputs.Set(i, Napi::Float32Array::New(env, copy.count, buffer, 0));
    }
    Napi::Object result = Napi::Object::New(env);
    result.Set("outputs", outputs);
    result.Set("shapes", shapes);
    result.Set("userData", completion.job.holder.Get("userData"));
    result.Set("inferMs", Napi::Number::New(env, completion.infer_ms));
    return result;
  }

  // While jobs are unsettled the TSFN keeps the loop alive and the queue object is pinned against GC,
  // so a completion can never arrive for a collected queue.
  void UpdateActivity(Napi::Env env) {
    const bool busy = unsettled_ > 0;
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

  // release(): waiting jobs are rejected, jobs in flight finish normally, then requests, the completion thread
  // and the TSFN are freed. Resolves when that is done; calling it again is harmless.
  Napi::Value Release(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!release_deferred_) release_deferred_.emplace(Napi::Promise::Deferred::New(env));
    Napi::Promise promise = release_deferred_->Promise();
    if (released_) return promise;
    std::deque<Job> rejected;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      released_ = true;
      rejected.swap(waiting_);
    }
    unsettled_ -= rejected.size();
    for (Job& job : rejected) {
      job.deferred.Reject(MakeError(env, "PS_OV_QUEUE_RELEASED", "AsyncInferQueue was released before this job started").Value());
    }
    rejected.clear();
    if (unsettled_ == 0) {
      FinishRelease(env);
    } else {
      UpdateActivity(env);
    }
    return promise;
  }

  void FinishRelease(Napi::Env env) {
    if (active_) {
      tsfn_.Unref(env);
      Unref();
      active_ = false;
    }
    Shutdown();
    if (release_deferred_) release_deferred_->Resolve(env.Undefined());
  }

  // Stops taking work, waits until no request runs (only ever waits at environment teardown: otherwise every
  // job has settled), then stops the completion thread and frees the requests and the TSFN.
  void Shutdown() {
    if (completion_thread_.joinable()) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        released_ = true;
        all_idle_.wait(lock, [this] { return running_ == 0; });
        stopping_ = true;
      }
      wake_.notify_one();
      completion_thread_.join();
    }
    for (auto& slot : slots_) {
      for (ov_tensor_t* output : slot->own_outputs) {
        if (output != nullptr) ov.ov_tensor_free(output);
      }
      slot->own_outputs.clear();
      if (slot->request == nullptr) continue;
      ov.ov_infer_request_free(slot->request);
      slot->request = nullptr;
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
  Napi::Value Pending(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(unsettled_)); }
  Napi::Value InFlight(const Napi::CallbackInfo& info) {
    std::lock_guard<std::mutex> lock(mutex_);
    return Napi::Number::New(info.Env(), static_cast<double>(running_));
  }
  Napi::Value MaxQueued(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(max_queued_)); }

  Napi::ObjectReference compiled_;
  std::vector<std::unique_ptr<Slot>> slots_;
  size_t max_queued_ = 0;
  size_t output_count_ = 0;

  // Shared with OpenVINO's callback thread and the completion thread.
  std::mutex mutex_;
  std::condition_variable wake_;      // finished_ grew, or stopping_
  std::condition_variable all_idle_;  // running_ reached 0
  std::vector<Slot*> idle_;
  std::deque<Job> waiting_;
  std::deque<Slot*> finished_;
  size_t running_ = 0;  // requests not idle (running or being collected)
  bool released_ = false;
  bool stopping_ = false;
  std::thread completion_thread_;

  // JS thread only.
  size_t unsettled_ = 0;  // accepted jobs whose promise is not settled yet
  CompletionTsfn tsfn_;
  bool tsfn_released_ = false;
  bool active_ = false;
  std::optional<Napi::Promise::Deferred> release_deferred_;
};

void CallJs(Napi::Env env, Napi::Function, AsyncInferQueueWrap* queue, Completion* completion) {
  if (env == nullptr || queue == nullptr || completion == nullptr) return;  // environment is shutting down
  try {
    queue->Settle(env, std::unique_ptr<Completion>(completion));
  } catch (...) {
    // Settle() settles the job itself; nothing may escape into the TSFN dispatcher.
  }
}

}  // namespace

void InitAsyncInferQueue(Napi::Env env, Napi::Object exports) {
  exports.Set("AsyncInferQueue", AsyncInferQueueWrap::Define(env));
}

}  // namespace ps
