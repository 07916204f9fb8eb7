//===- ImageData.cpp - Caffe's ImageData layer and image decoding ---------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// decodeImage: PNG (libpng) and JPEG (libjpeg) held in memory, as OpenCV's
// imdecode gives them to Caffe: C x H x W bytes, color in BGR order, alpha
// dropped (not composited), 16-bit PNG samples cut to their high byte,
// palettes and 1/2/4-bit gray expanded, no gamma correction. Gray from color
// is round(0.299 R + 0.587 G + 0.114 B) (OpenCV's weights; its fixed-point
// arithmetic may differ by one), except for JPEGs, whose gray is libjpeg's
// luma as in OpenCV. CMYK JPEGs (Adobe's inverted CMYK) convert as OpenCV.
// Corrupt or truncated data returns false with a message: libpng and libjpeg
// errors longjmp back here (libjpeg's warnings of cut or corrupt data are
// errors too), nothing calls exit(). Images are refused from their header,
// before their pixels are allocated, when a side is over 65535 pixels or the
// image over 2^28 pixels (kMaxSide, kMaxPixels).
//
// ImageData, as Caffe's ImageDataLayer: `source` lists one "path label" per
// line (split at the last space, so that paths may hold spaces; empty lines
// skipped); an image is root_folder + path, looked for as given, then beside
// the list, then in SourceOptions::baseDir. With `shuffle` the list is
// shuffled at the start and at every wrap-around; rand_skip skips
// uniformInt(rand_skip) lines (modulo the list) at the start, in TRAIN only
// as dlc's Data layer. Images decode in color (BGR) or, with is_color false,
// gray; with new_height and new_width they are resized with OpenCV's
// INTER_LINEAR: source coordinate sx = (x + 0.5) * W / new_width - 0.5, taps
// floor(sx) and floor(sx) + 1 clamped to the image (a coordinate left of the
// first or right of the last pixel takes that pixel), weights linear in
// sx - floor(sx), the same along y, rounded to nearest. Then transform_param
// (the legacy scale, mean_file, crop_size and mirror of image_data_param
// moved into it, as Caffe's upgrade does). The first image gives the shape;
// every image must have it after the resize.
//
//===----------------------------------------------------------------------===//

#include "DataInternal.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <new>

#include <jerror.h>
#include <jpeglib.h>
#include <png.h>

namespace fs = std::filesystem;

namespace dlc::data::detail {

namespace {

constexpr uint64_t kMaxSide = 65535;
constexpr uint64_t kMaxPixels = uint64_t(1) << 28;

/// False with a message when a w x h image is empty or over the limits.
bool checkSize(uint64_t w, uint64_t h, std::string &error) {
  if (w == 0 || h == 0 || w > kMaxSide || h > kMaxSide || w * h > kMaxPixels) {
    error = "the image is " + std::to_string(w) + "x" + std::to_string(h) +
            " (width x height); dlc decodes images of 1 to 65535 pixels a side and at most "
            "2^28 pixels";
    return false;
  }
  return true;
}

uint8_t grayOf(unsigned r, unsigned g, unsigned b) {
  return uint8_t((299 * r + 587 * g + 114 * b + 500) / 1000);
}

/// Interleaved pixels of `sc` channels (1 gray, 2 gray + alpha, 3 RGB, 4
/// RGBA), rows `stride` bytes apart, into `oc` (1 or 3) planes, BGR.
void toPlanar(const uint8_t *src, size_t stride, int sc, int64_t h, int64_t w, int oc,
              uint8_t *out) {
  const size_t plane = size_t(h) * size_t(w);
  const bool gray = sc <= 2;
  for (int64_t y = 0; y < h; ++y) {
    const uint8_t *row = src + size_t(y) * stride;
    for (int64_t x = 0; x < w; ++x) {
      const uint8_t *p = row + size_t(x) * size_t(sc);
      size_t o = size_t(y) * size_t(w) + size_t(x);
      if (oc == 1) {
        out[o] = gray ? p[0] : grayOf(p[0], p[1], p[2]);
      } else {
        out[o] = gray ? p[0] : p[2];
        out[plane + o] = gray ? p[0] : p[1];
        out[2 * plane + o] = p[0];
      }
    }
  }
}

//===--- PNG --------------------------------------------------------------===//

/// Everything a PNG decode touches lives here, outside the frame that
/// setjmp returns to twice; the destructor frees libpng's structures.
struct PngState {
  std::string_view bytes;
  size_t pos = 0;
  std::string error;
  png_structp png = nullptr;
  png_infop info = nullptr;
  std::vector<uint8_t> pixels;
  std::vector<png_bytep> rows;
  ~PngState() {
    if (png)
      png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
  }
};

void pngError(png_structp png, png_const_charp message) {
  auto *s = static_cast<PngState *>(png_get_error_ptr(png));
  s->error.assign("PNG: ").append(message ? message : "error");
  png_longjmp(png, 1);
}

void pngWarning(png_structp, png_const_charp) {}

void pngRead(png_structp png, png_bytep data, png_size_t n) {
  auto *s = static_cast<PngState *>(png_get_io_ptr(png));
  if (s->bytes.size() - s->pos < n)
    png_error(png, "the data ends early (truncated)");
  std::memcpy(data, s->bytes.data() + s->pos, n);
  s->pos += n;
}

bool decodePng(PngState &s, int channels, std::vector<uint8_t> &out, int64_t &c, int64_t &h,
               int64_t &w) {
  s.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &s, pngError, pngWarning);
  if (s.png)
    s.info = png_create_info_struct(s.png);
  if (!s.png || !s.info) {
    s.error = "PNG: out of memory";
    return false;
  }
  if (setjmp(png_jmpbuf(s.png)))
    return false; // s.error holds libpng's message
  png_set_read_fn(s.png, &s, pngRead);
  png_read_info(s.png, s.info);
  const png_uint_32 width = png_get_image_width(s.png, s.info);
  const png_uint_32 height = png_get_image_height(s.png, s.info);
  const int depth = png_get_bit_depth(s.png, s.info);
  const int type = png_get_color_type(s.png, s.info);
  if (!checkSize(width, height, s.error))
    return false;
  if (depth == 16)
    png_set_strip_16(s.png); // the high byte, as OpenCV
  if (type == PNG_COLOR_TYPE_PALETTE)
    png_set_palette_to_rgb(s.png); // RGB, or RGBA with a tRNS chunk
  if (type == PNG_COLOR_TYPE_GRAY && depth < 8)
    png_set_expand_gray_1_2_4_to_8(s.png);
  png_set_interlace_handling(s.png);
  png_read_update_info(s.png, s.info);
  const int sc = png_get_channels(s.png, s.info);
  const size_t stride = png_get_rowbytes(s.png, s.info);
  if (sc < 1 || sc > 4 || png_get_bit_depth(s.png, s.info) != 8 || stride != size_t(width) * sc) {
    s.error = "PNG: unexpected sample layout";
    return false;
  }
  s.pixels.resize(stride * height);
  s.rows.resize(height);
  for (png_uint_32 y = 0; y < height; ++y)
    s.rows[y] = s.pixels.data() + size_t(y) * stride;
  png_read_image(s.png, s.rows.data());
  png_read_end(s.png, nullptr);
  const int oc = channels ? channels : (sc <= 2 ? 1 : 3);
  c = oc;
  h = height;
  w = width;
  out.resize(size_t(oc) * height * width);
  toPlanar(s.pixels.data(), stride, sc, h, w, oc, out.data());
  return true;
}

//===--- JPEG -------------------------------------------------------------===//

struct JpegError {
  jpeg_error_mgr mgr; // first: libjpeg hands back a pointer to it
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

[[noreturn]] void jpegErrorExit(j_common_ptr cinfo) {
  auto *e = reinterpret_cast<JpegError *>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, e->message);
  std::longjmp(e->jump, 1);
}

/// Warnings are silent, except those of cut or corrupt data: errors (libjpeg
/// would go on with made-up pixels).
void jpegEmitMessage(j_common_ptr cinfo, int level) {
  if (level >= 0)
    return;
  int code = cinfo->err->msg_code;
  if (code == JWRN_JPEG_EOF || code == JWRN_HUFF_BAD_CODE || code == JWRN_HIT_MARKER)
    jpegErrorExit(cinfo);
  cinfo->err->num_warnings++;
}

/// As PngState: what the decode touches, outside the frame setjmp returns to.
struct JpegState {
  jpeg_decompress_struct cinfo{};
  JpegError err{};
  std::vector<uint8_t> pixels;
  ~JpegState() { jpeg_destroy_decompress(&cinfo); }
};

bool decodeJpeg(JpegState &s, std::string_view bytes, int channels, std::vector<uint8_t> &out,
                int64_t &c, int64_t &h, int64_t &w, std::string &error) {
  s.cinfo.err = jpeg_std_error(&s.err.mgr);
  s.err.mgr.error_exit = jpegErrorExit;
  s.err.mgr.emit_message = jpegEmitMessage;
  if (setjmp(s.err.jump)) {
    error = std::string("JPEG: ") + s.err.message;
    return false;
  }
  jpeg_create_decompress(&s.cinfo);
  jpeg_mem_src(&s.cinfo, reinterpret_cast<const unsigned char *>(bytes.data()),
               static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&s.cinfo, TRUE);
  if (!checkSize(s.cinfo.image_width, s.cinfo.image_height, error))
    return false;
  const J_COLOR_SPACE stored = s.cinfo.jpeg_color_space;
  const bool cmyk = stored == JCS_CMYK || stored == JCS_YCCK;
  const int oc = channels ? channels : (stored == JCS_GRAYSCALE ? 1 : 3);
  s.cinfo.out_color_space = cmyk ? JCS_CMYK : oc == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&s.cinfo);
  const int sc = s.cinfo.output_components;
  const size_t width = s.cinfo.output_width, height = s.cinfo.output_height;
  if (sc != (cmyk ? 4 : oc == 1 ? 1 : 3)) {
    error = "JPEG: unexpected number of components";
    return false;
  }
  const size_t stride = width * size_t(sc);
  s.pixels.resize(stride * height);
  while (s.cinfo.output_scanline < s.cinfo.output_height) {
    JSAMPROW row = s.pixels.data() + size_t(s.cinfo.output_scanline) * stride;
    jpeg_read_scanlines(&s.cinfo, &row, 1);
  }
  jpeg_finish_decompress(&s.cinfo);
  c = oc;
  h = int64_t(height);
  w = int64_t(width);
  out.resize(size_t(oc) * height * width);
  if (!cmyk) {
    toPlanar(s.pixels.data(), stride, sc, h, w, oc, out.data());
    return true;
  }
  // Adobe's inverted CMYK to RGB, in place (3 bytes of every 4), as OpenCV.
  uint8_t *p = s.pixels.data();
  for (size_t i = 0; i < width * height; ++i) {
    int k = p[4 * i + 3];
    for (int j = 0; j < 3; ++j)
      p[3 * i + size_t(j)] = uint8_t(k - ((255 - p[4 * i + size_t(j)]) * k >> 8));
  }
  toPlanar(p, width * 3, 3, h, w, oc, out.data());
  return true;
}

} // namespace

bool decodeImage(std::string_view bytes, int channels, std::vector<uint8_t> &out, int64_t &c,
                 int64_t &h, int64_t &w, std::string &error) {
  if (channels != 0 && channels != 1 && channels != 3) {
    error = "images decode to 0 (as stored), 1 or 3 channels, not " + std::to_string(channels);
    return false;
  }
  const auto *u = reinterpret_cast<const unsigned char *>(bytes.data());
  try {
    if (bytes.size() >= 8 && png_sig_cmp(u, 0, 8) == 0) {
      PngState s;
      s.bytes = bytes;
      if (decodePng(s, channels, out, c, h, w))
        return true;
      error = s.error;
      return false;
    }
    if (bytes.size() >= 2 && u[0] == 0xFF && u[1] == 0xD8) {
      JpegState s;
      return decodeJpeg(s, bytes, channels, out, c, h, w, error);
    }
  } catch (const std::bad_alloc &) {
    error = "out of memory decoding the image";
    return false;
  }
  error = "not a PNG or JPEG image";
  return false;
}

namespace {

std::string dims(int64_t c, int64_t h, int64_t w) {
  return std::to_string(c) + "x" + std::to_string(h) + "x" + std::to_string(w);
}

/// Bilinear taps along one axis (OpenCV's INTER_LINEAR, see the header).
struct Tap {
  int64_t i0, i1;
  double f;
};

std::vector<Tap> taps(int64_t src, int64_t dst) {
  std::vector<Tap> t(static_cast<size_t>(dst));
  const double scale = double(src) / double(dst);
  for (int64_t d = 0; d < dst; ++d) {
    double s = (double(d) + 0.5) * scale - 0.5;
    int64_t i = int64_t(std::floor(s));
    double f = s - double(i);
    if (i < 0) {
      i = 0;
      f = 0;
    }
    if (i >= src - 1) {
      i = src - 1;
      f = 0;
    }
    t[size_t(d)] = {i, std::min(i + 1, src - 1), f};
  }
  return t;
}

/// C x h x w bytes resized to C x nh x nw.
void resizeBilinear(const std::vector<uint8_t> &in, int64_t c, int64_t h, int64_t w, int64_t nh,
                    int64_t nw, std::vector<uint8_t> &out) {
  std::vector<Tap> ty = taps(h, nh), tx = taps(w, nw);
  out.resize(size_t(c * nh * nw));
  for (int64_t ch = 0; ch < c; ++ch) {
    const uint8_t *plane = in.data() + ch * h * w;
    uint8_t *o = out.data() + ch * nh * nw;
    for (int64_t y = 0; y < nh; ++y) {
      const Tap &a = ty[size_t(y)];
      const uint8_t *r0 = plane + a.i0 * w, *r1 = plane + a.i1 * w;
      for (int64_t x = 0; x < nw; ++x) {
        const Tap &b = tx[size_t(x)];
        double top = (1 - b.f) * r0[b.i0] + b.f * r0[b.i1];
        double bottom = (1 - b.f) * r1[b.i0] + b.f * r1[b.i1];
        double v = (1 - a.f) * top + a.f * bottom;
        o[y * nw + x] = uint8_t(std::clamp(std::lround(v), 0L, 255L));
      }
    }
  }
}

/// transform_param with the legacy fields of image_data_param moved in.
caffe::TransformationParameter transformParam(const caffe::LayerParameter &layer) {
  caffe::TransformationParameter t = layer.transform_param();
  const caffe::ImageDataParameter &p = layer.image_data_param();
  if (p.has_scale())
    t.set_scale(p.scale());
  if (p.has_mean_file())
    t.set_mean_file(p.mean_file());
  if (p.has_crop_size())
    t.set_crop_size(p.crop_size());
  if (p.has_mirror())
    t.set_mirror(p.mirror());
  return t;
}

class ImageDataSource : public BatchSource {
public:
  ImageDataSource(const caffe::LayerParameter &layer, const SourceOptions &options)
      : options_(options), transformer_(transformParam(layer), options, layer.name()),
        rng_(options.seed, "imagedata:" + layer.name()) {
    const caffe::ImageDataParameter &p = layer.image_data_param();
    const std::string ref = layerRef(layer);
    if (!p.has_source() || p.source().empty())
      throw Error(ref + ": image_data_param has no 'source'");
    if (p.batch_size() == 0)
      throw Error(ref + ": image_data_param's batch_size must be positive");
    if (layer.top_size() < 1 || layer.top_size() > 2)
      throw Error(ref + ": an ImageData layer has 1 or 2 tops (data, label)");
    if ((p.new_height() > 0) != (p.new_width() > 0))
      throw Error(ref + ": image_data_param's new_height (" + std::to_string(p.new_height()) +
                  ") and new_width (" + std::to_string(p.new_width()) +
                  ") must be given together");
    std::string sizeError;
    if (p.new_height() > 0 && !checkSize(p.new_width(), p.new_height(), sizeError))
      throw Error(ref + ": new_height x new_width: " + sizeError);
    newH_ = p.new_height();
    newW_ = p.new_width();
    channels_ = p.is_color() ? 3 : 1;
    shuffle_ = p.shuffle();
    root_ = p.root_folder();
    source_ = resolvePath(p.source(), options);
    listDir_ = fs::path(source_).parent_path();
    readList(ref);
    if (shuffle_)
      shuffle(lines_, rng_);
    if (options.train && p.rand_skip() > 0) {
      Random skip(options.seed, "skip:" + layer.name());
      pos_ = size_t(skip.uniformInt(p.rand_skip()) % lines_.size());
    }
    // The shape comes from the first image.
    load(lines_[pos_], c_, h_, w_);
    firstPath_ = lines_[pos_].path;
    const int64_t batch = p.batch_size();
    Shape one = transformer_.outputShape(c_, h_, w_);
    shapes_.push_back({batch, one[0], one[1], one[2]});
    if (layer.top_size() > 1)
      shapes_.push_back({batch});
  }

  const std::vector<Shape> &shapes() const override { return shapes_; }
  int64_t records() const override { return int64_t(lines_.size()); }

  void next(const std::vector<float *> &tops) override {
    const Shape &s = shapes_[0];
    const int64_t per = s[1] * s[2] * s[3];
    for (int64_t i = 0; i < s[0]; ++i) {
      const Line &line = lines_[pos_];
      int64_t c, h, w;
      load(line, c, h, w);
      if (c != c_ || h != h_ || w != w_)
        throw Error(where(line) + ": error: image '" + line.path + "' is " + dims(c, h, w) +
                    (newH_ ? " after the resize" : "") + "; the first image '" + firstPath_ +
                    "' is " + dims(c_, h_, w_) + " (every image must have its size)");
      transformer_.apply(image_.data(), nullptr, c, h, w, tops[0] + i * per);
      if (tops.size() > 1 && shapes_.size() > 1 && tops[1])
        tops[1][i] = float(line.label);
      advance();
    }
  }

private:
  struct Line {
    std::string path;
    int label;
    int64_t number; // in the list file, from 1
  };

  std::string where(const Line &line) const {
    return source_ + ":" + std::to_string(line.number);
  }

  void readList(const std::string &ref) {
    std::ifstream in(source_);
    if (!in)
      throw Error(ref + ": cannot open the image list '" + source_ + "': " +
                  std::strerror(errno));
    std::string text;
    for (int64_t number = 1; std::getline(in, text); ++number) {
      // Trailing blanks (and a CR of Windows line ends) are no part of the line.
      size_t end = text.find_last_not_of(" \t\r");
      if (end == std::string::npos)
        continue;
      text.resize(end + 1);
      size_t space = text.find_last_of(" \t");
      size_t pathEnd = space == std::string::npos ? 0 : text.find_last_not_of(" \t", space);
      const std::string bad = source_ + ":" + std::to_string(number) + ": error: ";
      if (space == std::string::npos || pathEnd == std::string::npos)
        throw Error(bad + "expected 'path label', got '" + text + "'");
      int label = 0;
      const char *first = text.data() + space + 1, *last = text.data() + text.size();
      auto [ptr, ec] = std::from_chars(first, last, label);
      if (ec != std::errc() || ptr != last)
        throw Error(bad + "the label '" + std::string(first, last) + "' is not an integer");
      lines_.push_back({text.substr(0, pathEnd + 1), label, number});
    }
    if (in.bad())
      throw Error(ref + ": error reading the image list '" + source_ + "'");
    if (lines_.empty())
      throw Error(ref + ": the image list '" + source_ + "' lists no images");
  }

  /// root_folder + path: as given, beside the list, in options.baseDir.
  std::string imagePath(const std::string &path) const {
    std::string given = root_ + path;
    std::error_code ec;
    if (fs::exists(given, ec))
      return given;
    if (!fs::path(given).is_absolute() && !listDir_.empty()) {
      fs::path beside = listDir_ / given;
      if (fs::exists(beside, ec))
        return beside.string();
    }
    return resolvePath(given, options_);
  }

  /// Reads, decodes and resizes one image into image_.
  void load(const Line &line, int64_t &c, int64_t &h, int64_t &w) {
    const std::string path = imagePath(line.path);
    const std::string at = " (" + where(line) + ")";
    std::error_code ec;
    uint64_t size = fs::file_size(path, ec);
    if (ec)
      throw Error(path + ": error: cannot read the image: " + ec.message() + at);
    if (size >= (uint64_t(1) << 31))
      throw Error(path + ": error: the image file is over 2 GiB" + at);
    bytes_.resize(size_t(size));
    std::ifstream in(path, std::ios::binary);
    if (!in || !in.read(bytes_.data(), std::streamsize(size)))
      throw Error(path + ": error: cannot read the image: " + std::strerror(errno) + at);
    std::string error;
    if (!decodeImage(bytes_, channels_, newH_ ? decoded_ : image_, c, h, w, error))
      throw Error(path + ": error: " + error + at);
    if (newH_) {
      resizeBilinear(decoded_, c, h, w, newH_, newW_, image_);
      h = newH_;
      w = newW_;
    }
  }

  void advance() {
    if (++pos_ < lines_.size())
      return;
    pos_ = 0;
    if (shuffle_)
      shuffle(lines_, rng_);
  }

  SourceOptions options_;
  Transformer transformer_;
  Random rng_;
  std::string source_, root_, firstPath_;
  fs::path listDir_;
  std::vector<Line> lines_;
  size_t pos_ = 0;
  bool shuffle_ = false;
  int channels_ = 3;
  int64_t newH_ = 0, newW_ = 0;
  int64_t c_ = 0, h_ = 0, w_ = 0;
  std::string bytes_;
  std::vector<uint8_t> decoded_, image_;
  std::vector<Shape> shapes_;
};

} // namespace

std::unique_ptr<BatchSource> openImageData(const caffe::LayerParameter &layer,
                                           const SourceOptions &options) {
  return std::make_unique<ImageDataSource>(layer, options);
}

} // namespace dlc::data::detail
