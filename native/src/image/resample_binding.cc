// Node-API entry points of the RGB resampler: resampleRgb and its async
// twin. Every index the kernels will use is checked first (image_checks.h), so
// bad tables from JavaScript raise a RangeError instead of reading out of bounds.
#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "../promise_task.h"
#include "axis_args.h"
#include "resample_rgb.h"

namespace crossmodal {
namespace {

struct ResampleJob {
  Napi::Uint8Array src;
  size_t width, height;
  std::unique_ptr<AxisArrays> horizontal, vertical;
  RgbRegion region;
  unsigned threads;
  Napi::Uint8Array out;
  int orientation;  // 1, or 5-8: resize the image this EXIF orientation makes of src

  void run() {
    const ResampleAxis* h = horizontal ? &horizontal->axis() : nullptr;
    const ResampleAxis* v = vertical ? &vertical->axis() : nullptr;
    if (orientation == 1)
      resample_rgb(src.Data(), width, h, v, region, threads, out.Data());
    else
      resample_rgb_transposed(src.Data(), width, height, orientation, h, v, region, threads, out.Data());
  }
};

// (src, width, height, horizontal|null, vertical|null, left, top, regionWidth, regionHeight, threads, orientation?)
ResampleJob parse(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(env, "src must be a Uint8Array");
  ResampleJob job{info[0].As<Napi::Uint8Array>(), index_arg(info[1], "width"), index_arg(info[2], "height"), nullptr, nullptr,
                  {index_arg(info[5], "left"), index_arg(info[6], "top"), index_arg(info[7], "regionWidth"), index_arg(info[8], "regionHeight")},
                  static_cast<unsigned>(std::max<size_t>(1, index_arg(info[9], "threads"))), Napi::Uint8Array(), 1};
  if (!info[10].IsUndefined()) job.orientation = static_cast<int>(std::min<size_t>(index_arg(info[10], "orientation"), 9));
  job.horizontal = axis_tables_arg(info[3], "horizontal");
  job.vertical = axis_tables_arg(info[4], "vertical");
  const ResampleArgs args{job.src.ElementLength(), job.width, job.height, job.orientation,
                          job.horizontal ? &job.horizontal->tables : nullptr, job.vertical ? &job.vertical->tables : nullptr,
                          job.region};
  size_t out_bytes = 0;
  const char* axis_name = nullptr;
  if (const char* why = check_resample(args, out_bytes, axis_name))
    throw Napi::RangeError::New(env, axis_name ? std::string(axis_name) + " " + why : std::string(why));
  job.out = Napi::Uint8Array::New(env, out_bytes);
  return job;
}

Napi::Value ResampleRgb(const Napi::CallbackInfo& info) {
  ResampleJob job = parse(info);
  job.run();
  return job.out;
}

class ResampleTask : public PromiseTask {
 public:
  ResampleTask(Napi::Env env, ResampleJob job) : PromiseTask(env), job_(std::move(job)) {
    for (Napi::Value v : {Napi::Value(job_.src), Napi::Value(job_.out)}) refs_.push_back(Napi::Persistent(v.As<Napi::Object>()));
    for (const auto* a : {job_.horizontal.get(), job_.vertical.get()})
      if (a)
        for (Napi::Value v : {Napi::Value(a->first), Napi::Value(a->count), Napi::Value(a->weights)})
          refs_.push_back(Napi::Persistent(v.As<Napi::Object>()));
  }
  void Execute() override { job_.run(); }
  void OnOK() override { deferred_.Resolve(refs_[1].Value()); }

 private:
  ResampleJob job_;
  std::vector<Napi::ObjectReference> refs_;
};

Napi::Value ResampleRgbAsync(const Napi::CallbackInfo& info) {
  return queue_task<ResampleTask>(info.Env(), parse(info));
}

}  // namespace

void register_resample(Napi::Env env, Napi::Object exports) {
  exports.Set("resampleRgb", Napi::Function::New(env, ResampleRgb));
  exports.Set("resampleRgbAsync", Napi::Function::New(env, ResampleRgbAsync));
}

}  // namespace crossmodal
