// The addon's async calls: a task that runs on libuv's thread pool and settles a promise.
#pragma once
#include <napi.h>

#include <utility>

namespace crossmodal {

// Napi::AsyncWorker is Node-API's name for such a task: Execute() runs on a pool thread, where no
// Napi handle may be touched; then, on the JavaScript thread, OnOK() resolves `deferred_`, or an
// error Execute() set (SetError, or an exception) rejects it.
class PromiseTask : public Napi::AsyncWorker {
 public:
  explicit PromiseTask(Napi::Env env) : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }
  Napi::Promise::Deferred deferred_;
};

// Creates a Task from `args`, queues it and returns its promise.
template <class Task, class... Args>
Napi::Value queue_task(Napi::Env env, Args&&... args) {
  auto* task = new Task(env, std::forward<Args>(args)...);
  Napi::Promise promise = task->promise();
  task->Queue();  // the task deletes itself after OnOK/OnError
  return promise;
}

}  // namespace crossmodal
