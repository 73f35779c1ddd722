// Node-API entry points of the RGB resampler: resampleRgb and its async
// twin. Every index the kernels will use is checked here first, so bad
// tables from JavaScript raise a RangeError instead of reading out of bounds.
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
    const ResampleAxis* h = horizontal ? &horizontal->axis : nullptr;
    const ResampleAxis* v = vertical ? &vertical->axis : nullptr;
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
  if (job.src.ElementLength() != job.width * job.height * 3)
    throw Napi::RangeError::New(env, "src length must be width * height * 3");
  if (!info[10].IsUndefined()) {
    const size_t o = index_arg(info[10], "orientation");
    if (o != 1 && (o < 5 || o > 8)) throw Napi::RangeError::New(env, "orientation must be 1 or 5-8");
    job.orientation = static_cast<int>(o);
  }
  // The axes and the region are in upright coordinates; orientations 5-8 swap the sides.
  const size_t upright_width = job.orientation == 1 ? job.width : job.height;
  const size_t upright_height = job.orientation == 1 ? job.height : job.width;
  const RgbRegion& r = job.region;
  job.horizontal = axis_arg(info[3], "horizontal", upright_width, r.left, r.left + r.width);
  // With a vertical axis, its tables bound the rows; without, the region must lie in the source.
  job.vertical = axis_arg(info[4], "vertical", upright_height, r.top, r.top + r.height);
  if (!job.horizontal && r.left + r.width > upright_width) throw Napi::RangeError::New(env, "region lies outside the image");
  if (!job.vertical && r.top + r.height > upright_height) throw Napi::RangeError::New(env, "region lies outside the image");
  job.out = Napi::Uint8Array::New(env, r.width * r.height * 3);
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
