//===- MakeTestModule.cpp - dlc-make-test-module (lit test helper) ---------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// dlc-make-test-module KIND OUT.dlcm
// Writes a small valid module, or a deliberately broken one, for the lit
// tests of dlrun. Broken files bypass the writer's validation.
//
//===----------------------------------------------------------------------===//

#include "TestModules.h"

#include <cstdio>
#include <cstring>
#include <random>
#include <string>

using namespace dlc;
namespace pb = dlc::module;

static int usage() {
  std::fprintf(stderr,
               "usage: dlc-make-test-module KIND OUT\n"
               "KIND: tiny | tiny-arena | classifier | linear-grad | classifier-grad |\n"
               "      bad-magic | version=N | truncate=N |\n"
               "      garbage | header-too-big | bad-protobuf | bad-input-index | not-produced |\n"
               "      dup-producer | dup-attr | bad-data-offset | huge-shape | bad-arena |\n"
               "      bad-filler | bad-kernel | grad-role-order | grad-forward-reads-grad |\n"
               "      grad-bad-kernel\n");
  return 2;
}

int main(int argc, char **argv) {
  if (argc != 3)
    return usage();
  std::string kind = argv[1], path = argv[2];
  std::string bytes, error;
  const bool grad = kind == "classifier-grad" || kind.rfind("grad-", 0) == 0;
  rt::ModuleWriter w = kind == "tiny-arena"    ? test::tinyCnn(true)
                       : kind == "classifier"  ? test::tinyClassifier()
                       : kind == "linear-grad" ? test::tinyLinearGradient()
                       : grad                  ? test::tinyClassifierGradient()
                                               : test::tinyCnn(false);
  if (!w.serialize(bytes, error)) {
    std::fprintf(stderr, "dlc-make-test-module: %s\n", error.c_str());
    return 1;
  }
  pb::Module m = w.header();
  std::string weights = bytes.substr((16 + m.ByteSizeLong() + 63) / 64 * 64);
  auto eq = kind.find('=');
  std::string arg = eq == std::string::npos ? "" : kind.substr(eq + 1);
  kind = kind.substr(0, eq);

  if (kind == "tiny" || kind == "tiny-arena" || kind == "classifier" || kind == "linear-grad" ||
      kind == "classifier-grad") {
    // bytes as serialized
  } else if (kind == "grad-role-order") {
    // The forward accuracy kernel (#5) moved after the backward kernels.
    pb::Kernel acc = m.kernels(5);
    m.mutable_kernels()->DeleteSubrange(5, 1);
    *m.add_kernels() = acc;
    bytes = test::rawModuleBytes(m, weights, rt::kFormatVersion);
  } else if (kind == "grad-forward-reads-grad") {
    // A forward kernel at the end that reads a gradient.
    int dip = -1, out = m.tensors_size();
    for (int t = 0; t < m.tensors_size(); ++t)
      if (m.tensors(t).name() == "ip@grad")
        dip = t;
    pb::Tensor *t = m.add_tensors();
    *t = m.tensors(dip);
    t->set_name("relu_of_grad");
    pb::Kernel *k = test::addKernel(m, "relu", "relu_of_grad", {dip}, {out});
    test::addFloatAttr(*k, "negative_slope", 0.0);
    bytes = test::rawModuleBytes(m, weights, rt::kFormatVersion);
  } else if (kind == "grad-bad-kernel") {
    // Structurally valid, but the pooling gradient's wrt names no operand.
    for (pb::Kernel &k : *m.mutable_kernels())
      if (k.op() == "pooling_grad")
        for (pb::Attr &a : *k.mutable_attrs())
          if (a.name() == "wrt")
            a.mutable_ints()->set_v(0, 3);
    bytes = test::rawModuleBytes(m, weights, rt::kFormatVersion);
  } else if (kind == "bad-magic") {
    bytes[3] = 'X';
  } else if (kind == "version") {
    uint32_t v = uint32_t(std::stoul(arg));
    m.set_version(v);
    bytes = test::rawModuleBytes(m, weights, v);
  } else if (kind == "truncate") {
    // truncate=N keeps N bytes; truncate=-N drops the last N bytes.
    long n = std::stol(arg);
    size_t keep = n < 0 ? bytes.size() - std::min<size_t>(bytes.size(), size_t(-n)) : size_t(n);
    bytes.resize(std::min(bytes.size(), keep));
  } else if (kind == "garbage") {
    std::mt19937 gen(7);
    bytes.clear();
    for (int i = 0; i < 1000; ++i)
      bytes += char(gen() & 0xff);
  } else if (kind == "header-too-big") {
    uint64_t n = uint64_t(1) << 40;
    for (int i = 0; i < 8; ++i)
      bytes[8 + i] = char((n >> (8 * i)) & 0xff);
  } else if (kind == "bad-protobuf") {
    for (size_t i = 16; i < 40 && i < bytes.size(); ++i)
      bytes[i] = char(0xff);
  } else if (kind == "bad-input-index") {
    m.mutable_kernels(1)->set_inputs(0, 99);
    bytes = test::rawModuleBytes(m, weights, rt::kFormatVersion);
  } else if (kind == "not-produced") {
    // relu reads pool1, which is produced later.
    m.mutable_kernels(1)->set_inputs(0, m.kernels(2).outputs(0));
    bytes = test::rawModuleBytes(m, weights, rt::kFormatVersion);
  } else if (kind == "dup-producer") {
    m.mutable_kernels(2)->set_outputs(0, m.kernels(1).outputs(0));
    bytes = test::rawModuleBytes(m, weights, rt::kFormatVersion);
  } else if (kind == "dup-attr") {
    test::addIntAttr(*m.mutable_kernels(0), "group", 2);
    bytes = test::rawModuleBytes(m, weights, rt::kFormatVersion);
  } else if (kind == "bad-data-offset") {
    m.mutable_params(0)->set_data_offset(uint64_t(1) << 50);
    bytes = test::rawModuleBytes(m, weights, rt::kFormatVersion);
  } else if (kind == "huge-shape") {
    pb::Tensor *t = m.mutable_tensors(m.params(1).tensor()); // conv1_b, filler
    t->clear_shape();
    t->add_shape(int64_t(1) << 30);
    t->add_shape(int64_t(1) << 30);
    t->add_shape(4);
    bytes = test::rawModuleBytes(m, weights, rt::kFormatVersion);
  } else if (kind == "bad-arena") {
    rt::ModuleWriter a = test::tinyCnn(true);
    a.serialize(bytes, error);
    m = a.header();
    weights = bytes.substr((16 + m.ByteSizeLong() + 63) / 64 * 64);
    // conv1 overlaps the data input, which is also a net output (so live).
    for (pb::Tensor &t : *m.mutable_tensors())
      if (t.name() == "conv1")
        t.set_offset(512);
    m.add_outputs(0);
    bytes = test::rawModuleBytes(m, weights, rt::kFormatVersion);
  } else if (kind == "bad-filler") {
    m.mutable_params(1)->mutable_filler()->set_type("gaussian_blur");
    bytes = test::rawModuleBytes(m, weights, rt::kFormatVersion);
  } else if (kind == "bad-kernel") {
    // Structurally valid, but the convolution's num_output disagrees with
    // its weight: kernel creation must fail and name the layer.
    for (pb::Attr &a : *m.mutable_kernels(0)->mutable_attrs())
      if (a.name() == "num_output")
        a.set_i(7);
    bytes = test::rawModuleBytes(m, weights, rt::kFormatVersion);
  } else {
    return usage();
  }
  std::FILE *f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size() || std::fclose(f) != 0) {
    std::fprintf(stderr, "dlc-make-test-module: cannot write %s\n", path.c_str());
    return 1;
  }
  return 0;
}
