//===- Npy.cpp - NumPy .npy reading and writing ----------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Npy.h"
#include "dlc/Support/AtomicFile.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

using namespace dlc::rt;

namespace {

const char kNpyMagic[] = "\x93NUMPY";
constexpr uint64_t kMaxNpyElements = uint64_t(1) << 40;

/// A tiny cursor-based parser of the header dictionary, e.g.
/// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
class DictParser {
public:
  explicit DictParser(const std::string &s) : s_(s) {}

  bool parse(std::string &descr, bool &fortran, Shape &shape, std::string &error) {
    bool haveDescr = false, haveFortran = false, haveShape = false;
    skipWs();
    if (!eat('{'))
      return err(error, "header is not a dictionary");
    while (true) {
      skipWs();
      if (eat('}'))
        break;
      std::string key;
      if (!parseString(key))
        return err(error, "expected a quoted key in the header dictionary");
      skipWs();
      if (!eat(':'))
        return err(error, "expected ':' after key '" + key + "'");
      skipWs();
      if (key == "descr") {
        if (haveDescr || !parseString(descr))
          return err(error, "bad or repeated 'descr'");
        haveDescr = true;
      } else if (key == "fortran_order") {
        if (haveFortran)
          return err(error, "repeated 'fortran_order'");
        if (eatWord("False"))
          fortran = false;
        else if (eatWord("True"))
          fortran = true;
        else
          return err(error, "'fortran_order' must be True or False");
        haveFortran = true;
      } else if (key == "shape") {
        if (haveShape || !parseShape(shape))
          return err(error, "bad or repeated 'shape' (expected a tuple of non-negative integers)");
        haveShape = true;
      } else {
        return err(error, "unexpected key '" + key + "' in the header");
      }
      skipWs();
      if (eat(','))
        continue;
      skipWs();
      if (eat('}'))
        break;
      return err(error, "expected ',' or '}' in the header dictionary");
    }
    skipWs();
    if (pos_ != s_.size())
      return err(error, "trailing characters after the header dictionary");
    if (!haveDescr || !haveFortran || !haveShape)
      return err(error, "header lacks one of 'descr', 'fortran_order', 'shape'");
    return true;
  }

private:
  static bool err(std::string &error, const std::string &what) {
    error = what;
    return false;
  }
  void skipWs() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\n' || s_[pos_] == '\t'))
      ++pos_;
  }
  bool eat(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool eatWord(const char *w) {
    size_t n = std::strlen(w);
    if (s_.compare(pos_, n, w) == 0) {
      pos_ += n;
      return true;
    }
    return false;
  }
  bool parseString(std::string &out) {
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"'))
      return false;
    char q = s_[pos_++];
    size_t end = s_.find(q, pos_);
    if (end == std::string::npos)
      return false;
    out = s_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return true;
  }
  bool parseShape(Shape &shape) {
    shape.clear();
    if (!eat('('))
      return false;
    while (true) {
      skipWs();
      if (eat(')'))
        return true;
      if (pos_ >= s_.size() || s_[pos_] < '0' || s_[pos_] > '9')
        return false;
      uint64_t v = 0;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') {
        v = v * 10 + uint64_t(s_[pos_++] - '0');
        if (v > kMaxNpyElements)
          return false;
      }
      shape.push_back(int64_t(v));
      skipWs();
      if (eat(','))
        continue;
      skipWs();
      if (eat(')'))
        return true;
      return false;
    }
  }
  const std::string &s_;
  size_t pos_ = 0;
};

} // namespace

bool dlc::rt::parseNpy(const std::string &bytes, NpyArray &out, std::string &error) {
  if (bytes.size() < 10 || bytes.compare(0, 6, kNpyMagic, 6) != 0) {
    error = "not a .npy file (bad magic)";
    return false;
  }
  unsigned major = uint8_t(bytes[6]);
  uint64_t headerLen, headerStart;
  if (major == 1) {
    headerLen = uint64_t(uint8_t(bytes[8])) | uint64_t(uint8_t(bytes[9])) << 8;
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) {
      error = "truncated .npy header";
      return false;
    }
    headerLen = 0;
    for (int i = 0; i < 4; ++i)
      headerLen |= uint64_t(uint8_t(bytes[8 + i])) << (8 * i);
    headerStart = 12;
  } else {
    error = "unsupported .npy format version " + std::to_string(major);
    return false;
  }
  if (headerLen > bytes.size() - headerStart) {
    error = "truncated .npy header";
    return false;
  }
  std::string header = bytes.substr(headerStart, headerLen);
  while (!header.empty() && (header.back() == '\n' || header.back() == ' '))
    header.pop_back();
  std::string descr;
  bool fortran = false;
  Shape shape;
  DictParser parser(header);
  if (!parser.parse(descr, fortran, shape, error)) {
    error = "malformed .npy header: " + error;
    return false;
  }
  if (fortran) {
    error = "Fortran-order .npy arrays are not supported (save with C order)";
    return false;
  }
  size_t itemSize;
  if (descr == "<f4")
    itemSize = 4;
  else if (descr == "<f8")
    itemSize = 8;
  else {
    error = "unsupported .npy dtype '" + descr + "' (need little-endian float32 '<f4' or float64 '<f8')";
    return false;
  }
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (d != 0 && n > kMaxNpyElements / uint64_t(d)) {
      error = "absurd .npy shape";
      return false;
    }
    n *= uint64_t(d);
  }
  uint64_t dataStart = headerStart + headerLen;
  uint64_t available = bytes.size() - dataStart;
  if (n > available / itemSize || n * itemSize != available) {
    error = "the .npy data is " + std::to_string(available) + " bytes, but shape " +
            shapeToString(shape) + " of '" + descr + "' needs " + std::to_string(n * itemSize);
    return false;
  }
  out.shape = shape;
  out.data.resize(n);
  const char *src = bytes.data() + dataStart;
  if (itemSize == 4) {
    if (n)
      std::memcpy(out.data.data(), src, n * 4);
  } else {
    for (uint64_t i = 0; i < n; ++i) {
      double d;
      std::memcpy(&d, src + 8 * i, 8);
      out.data[i] = float(d);
    }
  }
  return true;
}

bool dlc::rt::readNpy(const std::string &path, NpyArray &out, std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": error: cannot open: " + std::strerror(errno);
    return false;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) {
    error = path + ": error: read failed";
    return false;
  }
  if (!parseNpy(ss.str(), out, error)) {
    error = path + ": error: " + error;
    return false;
  }
  return true;
}

std::string dlc::rt::serializeNpy(const Shape &shape, const float *data) {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  for (size_t i = 0; i < shape.size(); ++i) {
    dict += std::to_string(shape[i]);
    dict += (shape.size() == 1 || i + 1 < shape.size()) ? "," : "";
    if (i + 1 < shape.size())
      dict += " ";
  }
  dict += "), }";
  // Pad with spaces so that the data starts at a multiple of 64, end with '\n'.
  size_t total = 10 + dict.size() + 1;
  size_t padded = (total + 63) / 64 * 64;
  dict.append(padded - total, ' ');
  dict += '\n';
  std::string out(kNpyMagic, 6);
  out += char(1);
  out += char(0);
  out += char(dict.size() & 0xff);
  out += char((dict.size() >> 8) & 0xff);
  out += dict;
  size_t n = size_t(numElements(shape));
  out.append(reinterpret_cast<const char *>(data), n * 4);
  return out;
}

bool dlc::rt::writeNpy(const std::string &path, const Shape &shape, const float *data,
                       std::string &error) {
  if (Status s = writeFileAtomically(path, serializeNpy(shape, data)); s.failed()) {
    error = s.message();
    return false;
  }
  return true;
}
