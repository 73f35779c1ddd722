// Node-API entry point of the JPEG decoder: decodeJpegRgbAsync(bytes,
// maxPixels, orientation, threads) resolves to { data, width, height }, or to
// { declined: reason } for a file the fast decoder leaves to libjpeg.
#include <napi.h>

#include <string>

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

class DecodeWorker : public Napi::AsyncWorker {
 public:
  DecodeWorker(Napi::Env env, Napi::Uint8Array bytes, size_t max_pixels, int orientation, unsigned threads)
      : Napi::AsyncWorker(env),
        deferred_(Napi::Promise::Deferred::New(env)),
        bytes_ref_(Napi::Persistent(bytes.As<Napi::Object>())),
        bytes_(bytes.Data()),
        size_(bytes.ByteLength()),
        max_pixels_(max_pixels),
        orientation_(orientation),
        threads_(threads) {}
  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      declined_ = jpeg::decode_rgb(bytes_, size_, max_pixels_, orientation_, threads_, image_);
    } catch (const std::bad_alloc&) {
      SetError("out of memory decoding the JPEG");
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::Object result = Napi::Object::New(env);
    if (declined_) {
      result.Set("declined", declined_);
    } else {
      const size_t length = static_cast<size_t>(image_.width) * image_.height * 3;
      uint8_t* data = image_.data.release();
      result.Set("data", Napi::Buffer<uint8_t>::New(env, data, length, [](Napi::Env, uint8_t* p) { delete[] p; }));
      result.Set("width", image_.width);
      result.Set("height", image_.height);
    }
    deferred_.Resolve(result);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference bytes_ref_;
  const uint8_t* bytes_;
  size_t size_;
  size_t max_pixels_;
  int orientation_;
  unsigned threads_;
  const char* declined_ = nullptr;
  jpeg::RgbImage image_;
};

Napi::Value DecodeJpegRgbAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(env, "bytes must be a Uint8Array");
  const auto max_pixels = static_cast<size_t>(number_arg(info[1], "maxPixels", 1, 9007199254740991.0));
  const auto orientation = static_cast<int>(number_arg(info[2], "orientation", 1, 8));
  const auto threads = static_cast<unsigned>(number_arg(info[3], "threads", 1, 1024));
  auto* worker = new DecodeWorker(env, info[0].As<Napi::Uint8Array>(), max_pixels, orientation, threads);
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

}  // namespace

void register_jpeg(Napi::Env env, Napi::Object exports) {
  exports.Set("decodeJpegRgbAsync", Napi::Function::New(env, DecodeJpegRgbAsync));
}

}  // namespace crossmodal
