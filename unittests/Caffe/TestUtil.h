//===- TestUtil.h - Helpers for the Caffe loader tests ----------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_UNITTESTS_CAFFE_TESTUTIL_H
#define DLC_UNITTESTS_CAFFE_TESTUTIL_H

#include "dlc/Caffe/NetLoader.h"

#include <string>
#include <vector>

namespace dlc::caffe_fe::test {

// An Input layer producing "data" (1x3), used as the first lines of many nets.
inline const char *const kInputLayer = R"(layer {
  name: "in"
  type: "Input"
  top: "data"
  input_param { shape { dim: 1 dim: 3 } }
}
)";

struct LoadResult {
  std::optional<LoadedNet> net;
  std::vector<Diagnostic> diags;
  /// formatDiagnostic() of each diagnostic.
  std::vector<std::string> lines;
  std::string all() const {
    std::string s;
    for (const std::string &l : lines)
      s += l + "\n";
    return s;
  }
  size_t errorCount() const {
    size_t n = 0;
    for (const Diagnostic &d : diags)
      n += d.kind == Diagnostic::Kind::Error;
    return n;
  }
};

inline LoadResult finish(std::optional<LoadedNet> net, std::vector<Diagnostic> diags) {
  LoadResult r;
  r.net = std::move(net);
  r.diags = std::move(diags);
  for (const Diagnostic &d : r.diags)
    r.lines.push_back(formatDiagnostic(d));
  return r;
}

inline LoadResult loadText(const std::string &text, const LoadOptions &options = {},
                           const std::string &file = "t.prototxt") {
  std::vector<Diagnostic> diags;
  auto net = loadNetFromString(text, file, options, diags);
  return finish(std::move(net), std::move(diags));
}

inline LoadResult loadPath(const std::string &path, const LoadOptions &options = {}) {
  std::vector<Diagnostic> diags;
  auto net = loadNetFile(path, options, diags);
  return finish(std::move(net), std::move(diags));
}

inline std::vector<std::string> layerNames(const LoadedNet &net) {
  std::vector<std::string> names;
  for (const caffe::LayerParameter &l : net.net.layer())
    names.push_back(l.name());
  return names;
}

} // namespace dlc::caffe_fe::test

#endif // DLC_UNITTESTS_CAFFE_TESTUTIL_H
