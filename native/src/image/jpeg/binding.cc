// Node-API entry points of the JPEG decoder. Both resolve to
// { data, width, height }, or to { declined: reason } for a file the fast
// decoder leaves to libjpeg:
//   decodeJpegRgbAsync(bytes, maxPixels, threads): the pixels as stored
//   decodeJpegResizedAsync(bytes, maxPixels, orientation, threads, ...): see decode_resized
//     (..., width, height, horizontal|null, vertical|null, left, top, regionWidth, regionHeight)
#include <napi.h>

#include <string>
#include <vector>

#include "../../promise_task.h"
#include "../axis_args.h"
#include "decoder.h"

namespace crossmodal {
namespace {

double number_arg(const Napi::Value& v, const char* name, double lo, double hi) {
  if (!v.IsNumber()) throw Napi::TypeError::New(v.Env(), std::string(name) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= lo && d <= hi) || d != static_cast<double>(static_cast<int64_t>(d)))
    throw Napi::RangeError::New(v.Env(), std::string(name) + " is out of range");
  return d;
}

// { data, width, height } for decoded pixels (their ownership passes to the Buffer), or { declined }.
Napi::Object decode_result(Napi::Env env, const char* declined, std::unique_ptr<uint8_t[]> pixels, size_t width,
                           size_t height) {
  Napi::Object result = Napi::Object::New(env);
  if (declined) {
    result.Set("declined", declined);
    return result;
  }
  result.Set("data", Napi::Buffer<uint8_t>::New(env, pixels.release(), width * height * 3, [](Napi::Env, uint8_t* p) { delete[] p; }));
  result.Set("width", static_cast<double>(width));
  result.Set("height", static_cast<double>(height));
  return result;
}

class JpegDecodeTask : public PromiseTask {
 public:
  JpegDecodeTask(Napi::Env env, Napi::Uint8Array bytes, size_t max_pixels, unsigned threads)
      : PromiseTask(env),
        bytes_ref_(Napi::Persistent(bytes.As<Napi::Object>())),
        bytes_(bytes.Data()),
        size_(bytes.ByteLength()),
        max_pixels_(max_pixels),
        threads_(threads) {}

  void Execute() override {
    try {
      declined_ = jpeg::decode_rgb(bytes_, size_, max_pixels_, threads_, image_);
    } catch (const std::bad_alloc&) {
      SetError("out of memory decoding the JPEG");
    }
  }
  void OnOK() override {
    deferred_.Resolve(decode_result(Env(), declined_, std::move(image_.data), static_cast<size_t>(image_.width),
                                    static_cast<size_t>(image_.height)));
  }

 private:
  Napi::ObjectReference bytes_ref_;
  const uint8_t* bytes_;
  size_t size_;
  size_t max_pixels_;
  unsigned threads_;
  const char* declined_ = nullptr;
  jpeg::RgbImage image_;
};

Napi::Uint8Array bytes_arg(const Napi::Value& v) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(v.Env(), "bytes must be a Uint8Array");
  return v.As<Napi::Uint8Array>();
}

size_t max_pixels_arg(const Napi::Value& v) { return static_cast<size_t>(number_arg(v, "maxPixels", 1, 9007199254740991.0)); }
unsigned threads_arg(const Napi::Value& v) { return static_cast<unsigned>(number_arg(v, "threads", 1, 1024)); }

struct DecodeArgs {
  Napi::Uint8Array bytes;
  size_t max_pixels;
  int orientation;
  unsigned threads;
};

class JpegDecodeResizedTask : public PromiseTask {
 public:
  JpegDecodeResizedTask(Napi::Env env, DecodeArgs args, jpeg::ResizePlan plan, std::unique_ptr<AxisArrays> horizontal,
                      std::unique_ptr<AxisArrays> vertical)
      : PromiseTask(env),
        args_(args),
        bytes_(args.bytes.Data()),
        size_(args.bytes.ByteLength()),
        plan_(plan),
        horizontal_(std::move(horizontal)),
        vertical_(std::move(vertical)) {
    refs_.push_back(Napi::Persistent(args_.bytes.As<Napi::Object>()));
    for (const auto* a : {horizontal_.get(), vertical_.get()})
      if (a)
        for (Napi::Value v : {Napi::Value(a->first), Napi::Value(a->count), Napi::Value(a->weights)})
          refs_.push_back(Napi::Persistent(v.As<Napi::Object>()));
    plan_.horizontal = horizontal_ ? &horizontal_->axis() : nullptr;
    plan_.vertical = vertical_ ? &vertical_->axis() : nullptr;
  }

  void Execute() override {
    try {
      out_.reset(new uint8_t[plan_.region.width * plan_.region.height * 3]);
      declined_ = jpeg::decode_resized(bytes_, size_, args_.max_pixels, args_.orientation, args_.threads, plan_, out_.get());
    } catch (const std::bad_alloc&) {
      SetError("out of memory decoding the JPEG");
    }
  }
  void OnOK() override {
    deferred_.Resolve(decode_result(Env(), declined_, std::move(out_), plan_.region.width, plan_.region.height));
  }

 private:
  DecodeArgs args_;
  const uint8_t* bytes_;  // read on libuv's thread, where no Napi handle may be used
  size_t size_;
  jpeg::ResizePlan plan_;
  std::unique_ptr<AxisArrays> horizontal_, vertical_;
  std::vector<Napi::ObjectReference> refs_;
  std::unique_ptr<uint8_t[]> out_;
  const char* declined_ = nullptr;
};

Napi::Value DecodeJpegResizedAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const DecodeArgs args{bytes_arg(info[0]), max_pixels_arg(info[1]), static_cast<int>(number_arg(info[2], "orientation", 1, 8)),
                        threads_arg(info[3])};
  jpeg::ResizePlan plan{};
  const size_t width = index_arg(info[4], "width"), height = index_arg(info[5], "height");
  if (width == 0 || height == 0 || width > 65535 || height > 65535) throw Napi::RangeError::New(env, "width and height must be in [1, 65535]");
  plan.width = static_cast<int>(width);
  plan.height = static_cast<int>(height);
  plan.region = {index_arg(info[8], "left"), index_arg(info[9], "top"), index_arg(info[10], "regionWidth"),
                 index_arg(info[11], "regionHeight")};
  const RgbRegion& r = plan.region;
  auto horizontal = axis_arg(info[6], "horizontal", width, r.left, r.left + r.width);
  auto vertical = axis_arg(info[7], "vertical", height, r.top, r.top + r.height);
  if (!horizontal && r.left + r.width > width) throw Napi::RangeError::New(env, "region lies outside the image");
  if (!vertical && r.top + r.height > height) throw Napi::RangeError::New(env, "region lies outside the image");
  if (r.width * r.height > (size_t{1} << 28)) throw Napi::RangeError::New(env, "region is too large");
  return queue_task<JpegDecodeResizedTask>(env, args, plan, std::move(horizontal), std::move(vertical));
}

Napi::Value DecodeJpegRgbAsync(const Napi::CallbackInfo& info) {
  return queue_task<JpegDecodeTask>(info.Env(), bytes_arg(info[0]), max_pixels_arg(info[1]), threads_arg(info[2]));
}

}  // namespace

void register_jpeg(Napi::Env env, Napi::Object exports) {
  exports.Set("decodeJpegRgbAsync", Napi::Function::New(env, DecodeJpegRgbAsync));
  exports.Set("decodeJpegResizedAsync", Napi::Function::New(env, DecodeJpegResizedAsync));
}

}  // namespace crossmodal
