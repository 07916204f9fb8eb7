//===- ImageDataTest.cpp - PNG/JPEG decoding and the ImageData layer ------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// decodeImage on PNGs and JPEGs written here with libpng and libjpeg (exact
// round trips in BGR order, gray, alpha, 16-bit, palettes, corrupt and
// oversized data), and ImageData layers on lists of such files (pixels and
// labels, wrap-around, resize, crop, gray, shuffling, errors).
//
//===----------------------------------------------------------------------===//

#include "DataInternal.h"

#include "dlc/Data/DataLayer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <jpeglib.h>
#include <png.h>

namespace fs = std::filesystem;
using dlc::data::detail::decodeImage;

namespace {

//===--- Writing images ---------------------------------------------------===//

void pngAppend(png_structp png, png_bytep data, png_size_t n) {
  static_cast<std::string *>(png_get_io_ptr(png))->append(reinterpret_cast<char *>(data), n);
}
void pngFlush(png_structp) {}

/// A w x h PNG of `type` and `depth`; `samples` interleaved as the PNG
/// stores them (RGB order, palette indices; 16-bit values as integers).
std::string encodePng(int w, int h, int type, int depth, const std::vector<int> &samples,
                      const std::vector<png_color> &palette = {}, bool interlace = false) {
  std::string out;
  std::vector<uint8_t> row;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    ADD_FAILURE() << "libpng could not write the test image";
    return std::string();
  }
  png_set_write_fn(png, &out, pngAppend, pngFlush);
  png_set_IHDR(png, info, png_uint_32(w), png_uint_32(h), depth, type,
               interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  if (!palette.empty())
    png_set_PLTE(png, info, palette.data(), int(palette.size()));
  png_write_info(png, info);
  const int ch = png_get_channels(png, info);
  const size_t perRow = size_t(w) * size_t(ch);
  EXPECT_EQ(samples.size(), perRow * size_t(h));
  int passes = png_set_interlace_handling(png);
  for (int pass = 0; pass < passes; ++pass)
    for (int y = 0; y < h; ++y) {
      row.assign(png_get_rowbytes(png, info), 0);
      for (size_t i = 0; i < perRow; ++i) {
        int v = samples[size_t(y) * perRow + i];
        if (depth == 16) {
          row[2 * i] = uint8_t(v >> 8);
          row[2 * i + 1] = uint8_t(v & 0xFF);
        } else if (depth == 8) {
          row[i] = uint8_t(v);
        } else { // packed, first sample in the high bits
          size_t bit = i * size_t(depth);
          row[bit / 8] |= uint8_t(v << (8 - depth - int(bit % 8)));
        }
      }
      png_write_row(png, row.data());
    }
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return out;
}

/// An 8-bit RGB PNG whose pixel (x, y) is f(x, y, channel) (channel 0 = R).
std::string rgbPng(int w, int h, const std::function<int(int, int, int)> &f) {
  std::vector<int> s;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c)
        s.push_back(f(x, y, c));
  return encodePng(w, h, PNG_COLOR_TYPE_RGB, 8, s);
}

/// Only the signature, an IHDR of w x h and the start of an IDAT chunk.
std::string pngHeader(uint32_t w, uint32_t h) {
  std::string out;
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    ADD_FAILURE() << "libpng could not write the test header";
    return std::string();
  }
  png_set_write_fn(png, &out, pngAppend, pngFlush);
  png_set_IHDR(png, info, w, h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  static const png_byte idat[5] = {'I', 'D', 'A', 'T', 0};
  static const png_byte zeros[16] = {};
  png_write_chunk(png, idat, zeros, sizeof(zeros));
  png_destroy_write_struct(&png, &info);
  return out;
}

/// A JPEG of w x h pixels of `components` interleaved samples (1 gray, 3
/// RGB, 4 CMYK), no chroma subsampling.
std::string encodeJpeg(int w, int h, int components, const std::vector<uint8_t> &samples,
                       int quality = 100) {
  jpeg_compress_struct cinfo;
  jpeg_error_mgr err;
  cinfo.err = jpeg_std_error(&err);
  jpeg_create_compress(&cinfo);
  unsigned char *buffer = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buffer, &size);
  cinfo.image_width = JDIMENSION(w);
  cinfo.image_height = JDIMENSION(h);
  cinfo.input_components = components;
  cinfo.in_color_space = components == 1 ? JCS_GRAYSCALE : components == 3 ? JCS_RGB : JCS_CMYK;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  for (int i = 0; i < cinfo.num_components; ++i)
    cinfo.comp_info[i].h_samp_factor = cinfo.comp_info[i].v_samp_factor = 1;
  jpeg_start_compress(&cinfo, TRUE);
  EXPECT_EQ(samples.size(), size_t(w * h * components));
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<uint8_t *>(samples.data()) +
                   size_t(cinfo.next_scanline) * size_t(w * components);
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  std::string out(reinterpret_cast<char *>(buffer), size);
  std::free(buffer);
  jpeg_destroy_compress(&cinfo);
  return out;
}

std::vector<uint8_t> rgbSamples(int w, int h, const std::function<int(int, int, int)> &f) {
  std::vector<uint8_t> s;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c)
        s.push_back(uint8_t(f(x, y, c)));
  return s;
}

int gray(int r, int g, int b) { return int(0.299 * r + 0.587 * g + 0.114 * b + 0.5); }

struct Decoded {
  bool ok = false;
  std::vector<uint8_t> px;
  int64_t c = -1, h = -1, w = -1;
  std::string error;
  int at(int64_t ch, int64_t y, int64_t x) const { return px[size_t((ch * h + y) * w + x)]; }
};

Decoded decode(const std::string &bytes, int channels) {
  Decoded d;
  d.ok = decodeImage(bytes, channels, d.px, d.c, d.h, d.w, d.error);
  return d;
}

//===--- decodeImage ------------------------------------------------------===//

int pattern(int x, int y, int c) { return (37 * x + 91 * y + 71 * c + 5) % 256; }

TEST(DecodeImage, PngRgbRoundTripInBgrOrder) {
  std::string png = rgbPng(5, 3, pattern);
  for (int channels : {3, 0}) {
    Decoded d = decode(png, channels);
    ASSERT_TRUE(d.ok) << d.error;
    ASSERT_EQ(d.c, 3);
    ASSERT_EQ(d.h, 3);
    ASSERT_EQ(d.w, 5);
    ASSERT_EQ(d.px.size(), 45u);
    for (int y = 0; y < 3; ++y)
      for (int x = 0; x < 5; ++x) {
        EXPECT_EQ(d.at(0, y, x), pattern(x, y, 2)) << "B at " << x << "," << y;
        EXPECT_EQ(d.at(1, y, x), pattern(x, y, 1)) << "G at " << x << "," << y;
        EXPECT_EQ(d.at(2, y, x), pattern(x, y, 0)) << "R at " << x << "," << y;
      }
  }
}

TEST(DecodeImage, PngInterlaced) {
  std::vector<int> s;
  for (int y = 0; y < 9; ++y)
    for (int x = 0; x < 10; ++x)
      for (int c = 0; c < 3; ++c)
        s.push_back(pattern(x, y, c));
  Decoded d = decode(encodePng(10, 9, PNG_COLOR_TYPE_RGB, 8, s, {}, true), 3);
  ASSERT_TRUE(d.ok) << d.error;
  ASSERT_EQ(d.h, 9);
  ASSERT_EQ(d.w, 10);
  for (int y = 0; y < 9; ++y)
    for (int x = 0; x < 10; ++x)
      ASSERT_EQ(d.at(0, y, x), pattern(x, y, 2)) << x << "," << y;
}

TEST(DecodeImage, PngGrayAsStoredGrayAndColor) {
  std::vector<int> s = {0, 17, 128, 200, 255, 3};
  std::string png = encodePng(3, 2, PNG_COLOR_TYPE_GRAY, 8, s);
  for (int channels : {0, 1}) {
    Decoded d = decode(png, channels);
    ASSERT_TRUE(d.ok) << d.error;
    ASSERT_EQ(d.c, 1);
    ASSERT_EQ(d.h, 2);
    ASSERT_EQ(d.w, 3);
    EXPECT_EQ(d.px, std::vector<uint8_t>(s.begin(), s.end()));
  }
  Decoded d = decode(png, 3);
  ASSERT_TRUE(d.ok) << d.error;
  ASSERT_EQ(d.c, 3);
  for (int ch = 0; ch < 3; ++ch)
    for (int i = 0; i < 6; ++i)
      EXPECT_EQ(d.at(ch, i / 3, i % 3), s[size_t(i)]);
}

TEST(DecodeImage, PngLowBitDepthsAndPaletteExpand) {
  // 1-bit gray: 0 and 1 are black and white.
  Decoded g = decode(encodePng(4, 1, PNG_COLOR_TYPE_GRAY, 1, {1, 0, 0, 1}), 0);
  ASSERT_TRUE(g.ok) << g.error;
  ASSERT_EQ(g.c, 1);
  EXPECT_EQ(g.px, (std::vector<uint8_t>{255, 0, 0, 255}));
  // A 2-bit palette of 4 colors.
  std::vector<png_color> palette = {{10, 20, 30}, {200, 100, 50}, {0, 255, 1}, {7, 8, 9}};
  std::vector<int> idx = {3, 0, 1, 2, 2, 1};
  std::string png = encodePng(3, 2, PNG_COLOR_TYPE_PALETTE, 2, idx, palette);
  Decoded d = decode(png, 0);
  ASSERT_TRUE(d.ok) << d.error;
  ASSERT_EQ(d.c, 3);
  for (int i = 0; i < 6; ++i) {
    const png_color &p = palette[size_t(idx[size_t(i)])];
    EXPECT_EQ(d.at(0, i / 3, i % 3), p.blue);
    EXPECT_EQ(d.at(1, i / 3, i % 3), p.green);
    EXPECT_EQ(d.at(2, i / 3, i % 3), p.red);
  }
}

TEST(DecodeImage, PngAlphaIsDroppedNotComposited) {
  std::vector<int> rgba = {10, 20, 30, 0, 200, 150, 100, 128, 1, 2, 3, 255};
  Decoded d = decode(encodePng(3, 1, PNG_COLOR_TYPE_RGBA, 8, rgba), 0);
  ASSERT_TRUE(d.ok) << d.error;
  ASSERT_EQ(d.c, 3);
  EXPECT_EQ(d.px, (std::vector<uint8_t>{30, 100, 3, 20, 150, 2, 10, 200, 1}));
  // Gray + alpha is gray as stored.
  Decoded ga = decode(encodePng(2, 1, PNG_COLOR_TYPE_GRAY_ALPHA, 8, {90, 0, 180, 7}), 0);
  ASSERT_TRUE(ga.ok) << ga.error;
  ASSERT_EQ(ga.c, 1);
  EXPECT_EQ(ga.px, (std::vector<uint8_t>{90, 180}));
}

TEST(DecodeImage, Png16BitKeepsTheHighByte) {
  std::vector<int> s = {0x1234, 0xFFFF, 0x00FF, 0xAB01, 0x8080, 0x0100};
  Decoded d = decode(encodePng(2, 1, PNG_COLOR_TYPE_RGB, 16, s), 3);
  ASSERT_TRUE(d.ok) << d.error;
  ASSERT_EQ(d.c, 3);
  // Pixel 0: R 0x12, G 0xFF, B 0x00; pixel 1: R 0xAB, G 0x80, B 0x01.
  EXPECT_EQ(d.px, (std::vector<uint8_t>{0x00, 0x01, 0xFF, 0x80, 0x12, 0xAB}));
  Decoded g = decode(encodePng(2, 1, PNG_COLOR_TYPE_GRAY, 16, {0x7F80, 0x0203}), 0);
  ASSERT_TRUE(g.ok) << g.error;
  EXPECT_EQ(g.px, (std::vector<uint8_t>{0x7F, 0x02}));
}

TEST(DecodeImage, ColorToGrayWithOpenCVWeights) {
  std::vector<int> s = {255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 200, 30, 100, 100, 100, 1, 2, 250};
  Decoded d = decode(encodePng(6, 1, PNG_COLOR_TYPE_RGB, 8, s), 1);
  ASSERT_TRUE(d.ok) << d.error;
  ASSERT_EQ(d.c, 1);
  // round(0.299 R + 0.587 G + 0.114 B), worked by hand.
  EXPECT_EQ(d.px, (std::vector<uint8_t>{76, 150, 29, 124, 100, 30}));
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(d.px[size_t(i)], gray(s[3 * i], s[3 * i + 1], s[3 * i + 2]));
}

TEST(DecodeImage, JpegWithinTolerance) {
  auto f = [](int x, int y, int c) { return 40 + 10 * x + 6 * y + 50 * c; };
  std::string jpg = encodeJpeg(8, 8, 3, rgbSamples(8, 8, f));
  ASSERT_EQ(uint8_t(jpg[0]), 0xFF);
  Decoded d = decode(jpg, 0);
  ASSERT_TRUE(d.ok) << d.error;
  ASSERT_EQ(d.c, 3);
  ASSERT_EQ(d.h, 8);
  ASSERT_EQ(d.w, 8);
  Decoded g = decode(jpg, 1);
  ASSERT_TRUE(g.ok) << g.error;
  ASSERT_EQ(g.c, 1);
  for (int y = 0; y < 8; ++y)
    for (int x = 0; x < 8; ++x) {
      for (int ch = 0; ch < 3; ++ch)
        EXPECT_NEAR(d.at(ch, y, x), f(x, y, 2 - ch), 3) << "plane " << ch << " " << x << "," << y;
      EXPECT_NEAR(g.at(0, y, x), gray(f(x, y, 0), f(x, y, 1), f(x, y, 2)), 3);
    }
  // A gray JPEG: 1 channel as stored, 3 equal planes in color.
  std::vector<uint8_t> s;
  for (int i = 0; i < 64; ++i)
    s.push_back(uint8_t(3 * i));
  std::string gj = encodeJpeg(8, 8, 1, s);
  Decoded g0 = decode(gj, 0), g3 = decode(gj, 3);
  ASSERT_TRUE(g0.ok && g3.ok) << g0.error << g3.error;
  ASSERT_EQ(g0.c, 1);
  ASSERT_EQ(g3.c, 3);
  for (int i = 0; i < 64; ++i) {
    EXPECT_NEAR(g0.px[size_t(i)], s[size_t(i)], 2);
    for (int ch = 0; ch < 3; ++ch)
      EXPECT_EQ(g3.px[size_t(ch * 64 + i)], g0.px[size_t(i)]);
  }
}

TEST(DecodeImage, JpegCmykAsOpenCV) {
  std::vector<uint8_t> cmyk;
  for (int i = 0; i < 64; ++i)
    for (int v : {200, 100, 30, 180})
      cmyk.push_back(uint8_t(v));
  Decoded d = decode(encodeJpeg(8, 8, 4, cmyk), 0);
  ASSERT_TRUE(d.ok) << d.error;
  ASSERT_EQ(d.c, 3);
  // OpenCV: v = k - ((255 - v) * k >> 8); C -> R, M -> G, Y -> B.
  int r = 180 - ((255 - 200) * 180 >> 8), g = 180 - ((255 - 100) * 180 >> 8),
      b = 180 - ((255 - 30) * 180 >> 8);
  EXPECT_NEAR(d.at(0, 4, 4), b, 3);
  EXPECT_NEAR(d.at(1, 4, 4), g, 3);
  EXPECT_NEAR(d.at(2, 4, 4), r, 3);
}

TEST(DecodeImage, GarbageAndTruncatedDataFail) {
  Decoded d = decode("hello, world", 3);
  EXPECT_FALSE(d.ok);
  EXPECT_NE(d.error.find("not a PNG or JPEG"), std::string::npos) << d.error;
  EXPECT_FALSE(decode("", 0).ok);
  Decoded two = decode(rgbPng(2, 2, pattern), 2);
  EXPECT_FALSE(two.ok);
  EXPECT_NE(two.error.find("not 2"), std::string::npos) << two.error;

  std::string png = rgbPng(6, 5, pattern);
  std::string sig(png, 0, 8);
  Decoded junk = decode(sig + "this is no chunk at all", 3);
  EXPECT_FALSE(junk.ok);
  EXPECT_FALSE(junk.error.empty());
  // A flipped bit in IHDR's data: its CRC no longer matches.
  std::string bad = png;
  bad[18] ^= 0x40;
  Decoded crc = decode(bad, 3);
  EXPECT_FALSE(crc.ok);
  EXPECT_NE(crc.error.find("PNG"), std::string::npos) << crc.error;
  // Every cut of a PNG or a JPEG fails with a message, none crashes.
  std::string jpg = encodeJpeg(8, 8, 3, rgbSamples(8, 8, pattern));
  for (const std::string *full : {&png, &jpg})
    for (size_t n = 2; n < full->size(); ++n) {
      Decoded cut = decode(full->substr(0, n), 3);
      EXPECT_FALSE(cut.ok) << n << " of " << full->size() << " bytes";
      EXPECT_FALSE(cut.error.empty()) << n;
    }
  Decoded cut = decode(jpg.substr(0, jpg.size() / 2), 3);
  EXPECT_NE(cut.error.find("JPEG"), std::string::npos) << cut.error;
  EXPECT_TRUE(decode(png, 3).ok);
  EXPECT_TRUE(decode(jpg, 3).ok);
}

TEST(DecodeImage, HugeImagesAreRefusedFromTheHeader) {
  Decoded d = decode(pngHeader(100000, 100000), 3);
  EXPECT_FALSE(d.ok);
  EXPECT_NE(d.error.find("100000x100000"), std::string::npos) << d.error;
  EXPECT_NE(d.error.find("65535"), std::string::npos) << d.error;
  // A side over 65535 with few pixels, and 2^28 pixels exceeded in a square.
  EXPECT_FALSE(decode(pngHeader(70000, 1), 3).ok);
  Decoded sq = decode(pngHeader(20000, 20000), 3);
  EXPECT_FALSE(sq.ok);
  EXPECT_NE(sq.error.find("20000x20000"), std::string::npos) << sq.error;
  // The header alone of a small image is no refusal of its size: it fails later.
  Decoded small = decode(pngHeader(4, 4), 3);
  EXPECT_FALSE(small.ok);
  EXPECT_EQ(small.error.find("65535"), std::string::npos) << small.error;
  // A JPEG whose frame header claims 60000 x 60000.
  std::string jpg = encodeJpeg(8, 8, 3, rgbSamples(8, 8, pattern));
  size_t sof = jpg.find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  for (size_t i : {sof + 5, sof + 7}) {
    jpg[i] = char(60000 >> 8);
    jpg[i + 1] = char(60000 & 0xFF);
  }
  Decoded j = decode(jpg, 3);
  EXPECT_FALSE(j.ok);
  EXPECT_NE(j.error.find("60000x60000"), std::string::npos) << j.error;
}

//===--- ImageData --------------------------------------------------------===//

class ImageDataTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("dlc_imagedata_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "cwd");
    // Relative image paths are looked for from the current directory first:
    // an empty one keeps the tests from finding files of the same names.
    cwd_ = fs::current_path();
    fs::current_path(dir_ / "cwd");
  }
  void TearDown() override {
    fs::current_path(cwd_);
    fs::remove_all(dir_);
  }

  std::string write(const std::string &name, const std::string &bytes) {
    fs::path p = dir_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << bytes;
    return p.string();
  }
  caffe::LayerParameter layer(const std::string &source, int batch, bool label = true) {
    caffe::LayerParameter l;
    l.set_name("images");
    l.set_type("ImageData");
    l.add_top("data");
    if (label)
      l.add_top("label");
    l.mutable_image_data_param()->set_source(source);
    l.mutable_image_data_param()->set_batch_size(uint32_t(batch));
    return l;
  }
  static std::unique_ptr<dlc::data::BatchSource>
  open(const caffe::LayerParameter &l, bool train = true, uint64_t seed = 1,
       const std::string &baseDir = "") {
    dlc::data::SourceOptions o;
    o.train = train;
    o.seed = seed;
    o.baseDir = baseDir;
    return dlc::data::openDataLayer(l, o);
  }
  static std::string errorOf(const std::function<void()> &f) {
    try {
      f();
    } catch (const dlc::data::Error &e) {
      return e.what();
    }
    return "(no error)";
  }
  /// The next batch: data and labels.
  static std::pair<std::vector<float>, std::vector<float>> batch(dlc::data::BatchSource &s) {
    int64_t n = 1;
    for (int64_t d : s.shapes()[0])
      n *= d;
    std::vector<float> data(size_t(n), -1.0f), labels(size_t(s.shapes()[0][0]), -1.0f);
    s.next({data.data(), labels.data()});
    return {data, labels};
  }
  fs::path dir_, cwd_;
};

/// Pixel (x, y) of channel c (0 = R) of test image k.
int value(int k, int x, int y, int c) { return 60 * c + 20 * k + 3 * y + x; }

TEST_F(ImageDataTest, PixelsLabelsAndWrapAround) {
  for (int k = 0; k < 3; ++k)
    write(k == 2 ? "c image.png" : std::string(1, char('a' + k)) + ".png",
          rgbPng(3, 2, [k](int x, int y, int c) { return value(k, x, y, c); }));
  // The list's paths are relative to its directory; one holds a space.
  std::string list = write("list.txt", "a.png 5\nb.png  -2\r\n\nc image.png 9\n");
  auto src = open(layer(list, 2));
  ASSERT_EQ(src->shapes().size(), 2u);
  EXPECT_EQ(src->shapes()[0], (dlc::data::Shape{2, 3, 2, 3}));
  EXPECT_EQ(src->shapes()[1], (dlc::data::Shape{2}));
  EXPECT_EQ(src->records(), 3);
  const int order[3][2] = {{0, 1}, {2, 0}, {1, 2}};
  const float labels[3] = {5, -2, 9};
  for (int b = 0; b < 3; ++b) {
    auto [data, label] = batch(*src);
    for (int i = 0; i < 2; ++i) {
      int k = order[b][i];
      EXPECT_EQ(label[size_t(i)], labels[k]) << "batch " << b << " item " << i;
      for (int ch = 0; ch < 3; ++ch)
        for (int y = 0; y < 2; ++y)
          for (int x = 0; x < 3; ++x)
            ASSERT_EQ(data[size_t(((i * 3 + ch) * 2 + y) * 3 + x)], value(k, x, y, 2 - ch))
                << "batch " << b << " item " << i << " plane " << ch << " " << x << "," << y;
    }
  }
  // A layer without a label top fills the data alone.
  auto one = open(layer(list, 1, false));
  ASSERT_EQ(one->shapes().size(), 1u);
  std::vector<float> data(18);
  one->next({data.data()});
  EXPECT_EQ(data[0], value(0, 0, 0, 2));
}

TEST_F(ImageDataTest, ResizeIsBilinearWithHalfPixelCenters) {
  // B: 0 100 / 200 40; G = 255 - B; R = 7.
  const int b2[2][2] = {{0, 100}, {200, 40}};
  write("small.png", rgbPng(2, 2, [&](int x, int y, int c) {
          return c == 0 ? 7 : c == 1 ? 255 - b2[y][x] : b2[y][x];
        }));
  write("big.png", rgbPng(4, 4, [](int x, int y, int) { return 10 * (4 * y + x); }));
  std::string list = write("list.txt", "small.png 0\nbig.png 1\n");
  caffe::LayerParameter l = layer(list, 2);
  l.mutable_image_data_param()->set_new_height(4);
  l.mutable_image_data_param()->set_new_width(4);
  auto src = open(l);
  EXPECT_EQ(src->shapes()[0], (dlc::data::Shape{2, 3, 4, 4}));
  auto [data, label] = batch(*src);
  // By hand: taps at -0.25 (clamped), 0.25, 0.75, 1.25 (clamped).
  const int expect[4][4] = {
      {0, 25, 75, 100}, {50, 59, 76, 85}, {150, 126, 79, 55}, {200, 160, 80, 40}};
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) {
      EXPECT_EQ(data[size_t(y * 4 + x)], expect[y][x]) << x << "," << y;
      EXPECT_EQ(data[size_t(16 + y * 4 + x)], 255 - expect[y][x]) << x << "," << y;
      EXPECT_EQ(data[size_t(32 + y * 4 + x)], 7);
      // 4x4 to 4x4 is the image itself.
      EXPECT_EQ(data[size_t(48 + y * 4 + x)], 10 * (4 * y + x));
    }
  // Down to 2x2: each pixel the mean of a 2x2 block.
  l.mutable_image_data_param()->set_source(write("big.txt", "big.png 1\n"));
  l.mutable_image_data_param()->set_new_height(2);
  l.mutable_image_data_param()->set_new_width(2);
  l.mutable_image_data_param()->set_batch_size(1);
  auto down = open(l);
  auto [d2, l2] = batch(*down);
  EXPECT_EQ(d2[0], 25);
  EXPECT_EQ(d2[1], 45);
  EXPECT_EQ(d2[2], 105);
  EXPECT_EQ(d2[3], 125);
}

TEST_F(ImageDataTest, CropInTestIsCentered) {
  write("a.png", rgbPng(5, 4, [](int x, int y, int c) { return value(1, x, y, c); }));
  std::string list = write("list.txt", "a.png 3\n");
  caffe::LayerParameter l = layer(list, 1);
  l.mutable_transform_param()->set_crop_size(2);
  l.mutable_transform_param()->set_scale(0.5f);
  l.mutable_transform_param()->add_mean_value(10);
  auto src = open(l, /*train=*/false);
  EXPECT_EQ(src->shapes()[0], (dlc::data::Shape{1, 3, 2, 2}));
  auto [data, label] = batch(*src);
  // Offsets (4 - 2) / 2 = 1 down, (5 - 2) / 2 = 1 across.
  for (int ch = 0; ch < 3; ++ch)
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 2; ++x)
        EXPECT_FLOAT_EQ(data[size_t((ch * 2 + y) * 2 + x)],
                        (value(1, x + 1, y + 1, 2 - ch) - 10) * 0.5f);
  EXPECT_EQ(label[0], 3);
}

TEST_F(ImageDataTest, GrayWhenNotColor) {
  std::vector<int> s = {255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 200, 30};
  write("a.png", encodePng(4, 1, PNG_COLOR_TYPE_RGB, 8, s));
  caffe::LayerParameter l = layer(write("list.txt", "a.png 0\n"), 1);
  l.mutable_image_data_param()->set_is_color(false);
  auto src = open(l);
  EXPECT_EQ(src->shapes()[0], (dlc::data::Shape{1, 1, 1, 4}));
  auto [data, label] = batch(*src);
  EXPECT_EQ(data, (std::vector<float>{76, 150, 29, 124}));
}

TEST_F(ImageDataTest, JpegRootFolderAndBaseDir) {
  auto f = [](int x, int y, int c) { return 30 + 20 * x + 10 * y + 60 * c; };
  write("imgs/a.jpg", encodeJpeg(4, 4, 3, rgbSamples(4, 4, f)));
  write("lists/list.txt", "a.jpg 4\n");
  // source relative to baseDir, images under root_folder.
  caffe::LayerParameter l = layer("lists/list.txt", 1);
  l.mutable_image_data_param()->set_root_folder((dir_ / "imgs").string() + "/");
  auto src = open(l, true, 1, dir_.string());
  EXPECT_EQ(src->shapes()[0], (dlc::data::Shape{1, 3, 4, 4}));
  auto [data, label] = batch(*src);
  EXPECT_EQ(label[0], 4);
  for (int ch = 0; ch < 3; ++ch)
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 4; ++x)
        EXPECT_NEAR(data[size_t((ch * 4 + y) * 4 + x)], f(x, y, 2 - ch), 3);
}

TEST_F(ImageDataTest, ShuffleIsDeterministicAndVisitsAllOncePerEpoch) {
  std::string text;
  for (int k = 0; k < 6; ++k) {
    write("i" + std::to_string(k) + ".png", rgbPng(1, 1, [k](int, int, int) { return 10 * k; }));
    text += "i" + std::to_string(k) + ".png " + std::to_string(k) + "\n";
  }
  caffe::LayerParameter l = layer(write("list.txt", text), 3);
  l.mutable_image_data_param()->set_shuffle(true);
  auto labelsOf = [&](uint64_t seed) {
    auto src = open(l, true, seed);
    std::vector<int> out;
    for (int b = 0; b < 6; ++b) { // three epochs
      auto [data, label] = batch(*src);
      for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(data[size_t(i * 3)], 10 * label[size_t(i)]); // the image goes with its label
        out.push_back(int(label[size_t(i)]));
      }
    }
    return out;
  };
  std::vector<int> a = labelsOf(1), again = labelsOf(1), other = labelsOf(2);
  EXPECT_EQ(a, again);
  EXPECT_NE(a, other);
  std::vector<int> identity = {0, 1, 2, 3, 4, 5};
  for (const std::vector<int> *run : {&a, &other})
    for (int e = 0; e < 3; ++e) {
      std::vector<int> epoch(run->begin() + 6 * e, run->begin() + 6 * e + 6);
      std::sort(epoch.begin(), epoch.end());
      EXPECT_EQ(epoch, identity) << "epoch " << e;
    }
  // Shuffled at the start, and again at the wrap-around.
  EXPECT_NE(std::vector<int>(a.begin(), a.begin() + 6), identity);
  EXPECT_NE(std::vector<int>(a.begin(), a.begin() + 6), std::vector<int>(a.begin() + 6,
                                                                         a.begin() + 12));
  // Without shuffle: the list's order.
  l.mutable_image_data_param()->set_shuffle(false);
  auto plain = open(l);
  EXPECT_EQ(batch(*plain).second, (std::vector<float>{0, 1, 2}));
}

TEST_F(ImageDataTest, RandSkipInTrainOnly) {
  std::string text;
  for (int k = 0; k < 5; ++k) {
    write("i" + std::to_string(k) + ".png", rgbPng(1, 1, [k](int, int, int) { return k; }));
    text += "i" + std::to_string(k) + ".png " + std::to_string(k) + "\n";
  }
  caffe::LayerParameter l = layer(write("list.txt", text), 1);
  l.mutable_image_data_param()->set_rand_skip(1000);
  // A seed whose skip is not a whole number of passes over the list.
  uint64_t seed = 1;
  while (dlc::data::detail::Random(seed, "skip:images").uniformInt(1000) % 5 == 0)
    ++seed;
  float first = float(dlc::data::detail::Random(seed, "skip:images").uniformInt(1000) % 5);
  EXPECT_EQ(batch(*open(l, true, seed)).second[0], first);
  EXPECT_EQ(batch(*open(l, false, seed)).second[0], 0);
}

TEST_F(ImageDataTest, Errors) {
  write("a.png", rgbPng(3, 2, pattern));
  write("wide.png", rgbPng(4, 2, pattern));
  write("bad.png", "this is not an image");
  auto fails = [&](const caffe::LayerParameter &l) { return errorOf([&] { open(l); }); };
  auto has = [](const std::string &text, const std::string &part) {
    return text.find(part) != std::string::npos;
  };

  std::string e = fails(layer((dir_ / "nope.txt").string(), 1));
  EXPECT_TRUE(has(e, "nope.txt") && has(e, "cannot open")) << e;
  e = fails(layer(write("empty.txt", "\n  \n"), 1));
  EXPECT_TRUE(has(e, "empty.txt") && has(e, "no images")) << e;
  e = fails(layer(write("l1.txt", "missing.png 0\n"), 1));
  EXPECT_TRUE(has(e, "missing.png") && has(e, "l1.txt:1")) << e;
  e = fails(layer(write("l2.txt", "a.png 0\n\nnolabel\n"), 1));
  EXPECT_TRUE(has(e, "l2.txt:3") && has(e, "path label")) << e;
  e = fails(layer(write("l3.txt", "a.png 0\nb.png x1\n"), 1));
  EXPECT_TRUE(has(e, "l3.txt:2") && has(e, "'x1' is not an integer")) << e;
  e = fails(layer(write("l4.txt", "bad.png 0\n"), 1));
  EXPECT_TRUE(has(e, "bad.png") && has(e, "not a PNG or JPEG")) << e;
  e = fails(layer(write("l5.txt", "a.png 0\n"), 0));
  EXPECT_TRUE(has(e, "batch_size")) << e;
  caffe::LayerParameter half = layer(write("l6.txt", "a.png 0\n"), 1);
  half.mutable_image_data_param()->set_new_height(8);
  e = fails(half);
  EXPECT_TRUE(has(e, "new_height") && has(e, "new_width")) << e;

  // Found at the second image: next() throws.
  auto later = open(layer(write("l7.txt", "a.png 0\ngone.png 1\n"), 2));
  e = errorOf([&] { batch(*later); });
  EXPECT_TRUE(has(e, "gone.png") && has(e, "l7.txt:2")) << e;
  auto mismatch = open(layer(write("l8.txt", "a.png 0\nwide.png 1\n"), 2));
  EXPECT_EQ(mismatch->shapes()[0], (dlc::data::Shape{2, 3, 2, 3}));
  e = errorOf([&] { batch(*mismatch); });
  EXPECT_TRUE(has(e, "wide.png") && has(e, "3x2x4") && has(e, "'a.png' is 3x2x3")) << e;
  auto corrupt = open(layer(write("l9.txt", "a.png 0\nbad.png 1\n"), 2));
  e = errorOf([&] { batch(*corrupt); });
  EXPECT_TRUE(has(e, "bad.png") && has(e, "l9.txt:2")) << e;
}

} // namespace
