//===- Filler.cpp - Caffe fillers, deterministic under a seed -------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Executor.h"

#include <cmath>

using namespace dlc::rt;

static uint64_t splitmix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

uint64_t dlc::rt::streamSeed(uint64_t seed, const std::string &name) {
  uint64_t h = 0xcbf29ce484222325ULL; // FNV-1a 64
  for (unsigned char c : name) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return splitmix64(seed ^ h);
}

double Random::uniform() { return double(gen_() >> 11) * 0x1.0p-53; }

double Random::uniform(double a, double b) { return a + (b - a) * uniform(); }

double Random::gaussian(double mean, double std) {
  if (haveSpare_) {
    haveSpare_ = false;
    return mean + std * spare_;
  }
  double u1;
  do
    u1 = uniform();
  while (u1 <= 0.0);
  double u2 = uniform();
  double r = std::sqrt(-2.0 * std::log(u1));
  double theta = 2.0 * M_PI * u2;
  spare_ = r * std::sin(theta);
  haveSpare_ = true;
  return mean + std * r * std::cos(theta);
}

void dlc::rt::fillParam(const dlc::module::Filler &filler, const Shape &shape, uint64_t seed,
                        const std::string &name, float *data) {
  const int64_t count = numElements(shape);
  const std::string &type = filler.type();
  auto fail = [&](const std::string &what) {
    throw Error("param '" + name + "' (" + shapeToString(shape) + "): " + type + " filler: " + what);
  };
  Random rng(streamSeed(seed, name));

  auto fanN = [&]() -> double {
    if (shape.empty() || count == 0 || shape[0] == 0)
      fail("needs a non-empty param of rank >= 1");
    double fanIn = double(count / shape[0]);
    double fanOut = double(count);
    if (shape.size() > 1) {
      if (shape[1] == 0)
        fail("needs a non-empty param");
      fanOut = double(count / shape[1]);
    }
    const std::string &vn = filler.variance_norm();
    if (vn == "fan_in")
      return fanIn;
    if (vn == "fan_out")
      return fanOut;
    if (vn == "average")
      return (fanIn + fanOut) / 2.0;
    fail("unknown variance_norm '" + vn + "'");
    return 0;
  };
  auto noSparse = [&]() {
    if (filler.sparse() != -1)
      fail("sparse is only supported by the gaussian filler (Caffe)");
  };

  if (type == "constant") {
    for (int64_t i = 0; i < count; ++i)
      data[i] = float(filler.value());
  } else if (type == "uniform") {
    if (!(filler.min() <= filler.max()))
      fail("min > max");
    for (int64_t i = 0; i < count; ++i)
      data[i] = float(rng.uniform(filler.min(), filler.max()));
  } else if (type == "gaussian") {
    if (!(filler.std() >= 0))
      fail("negative std");
    for (int64_t i = 0; i < count; ++i)
      data[i] = float(rng.gaussian(filler.mean(), filler.std()));
    if (filler.sparse() >= 0) {
      if (shape.empty() || shape[0] == 0)
        fail("sparse needs a param of rank >= 1");
      double p = double(filler.sparse()) / double(shape[0]);
      if (p > 1)
        fail("sparse " + std::to_string(filler.sparse()) + " exceeds the number of outputs " +
             std::to_string(shape[0]));
      // Bernoulli mask drawn from the same stream, after the values.
      for (int64_t i = 0; i < count; ++i)
        if (!(rng.uniform() < p))
          data[i] = 0.0f;
    }
  } else if (type == "xavier") {
    noSparse();
    double scale = std::sqrt(3.0 / fanN());
    for (int64_t i = 0; i < count; ++i)
      data[i] = float(rng.uniform(-scale, scale));
  } else if (type == "msra") {
    noSparse();
    double std = std::sqrt(2.0 / fanN());
    for (int64_t i = 0; i < count; ++i)
      data[i] = float(rng.gaussian(0.0, std));
  } else if (type == "positive_unitball") {
    noSparse();
    if (shape.empty() || shape[0] == 0)
      fail("needs a param of rank >= 1");
    for (int64_t i = 0; i < count; ++i)
      data[i] = float(rng.uniform());
    int64_t num = shape[0], dim = count / num;
    for (int64_t r = 0; r < num; ++r) {
      double sum = 0;
      for (int64_t j = 0; j < dim; ++j)
        sum += data[r * dim + j];
      if (sum > 0)
        for (int64_t j = 0; j < dim; ++j)
          data[r * dim + j] = float(data[r * dim + j] / sum);
    }
  } else if (type == "bilinear") {
    noSparse();
    if (shape.size() != 4)
      fail("needs a 4-D param");
    if (shape[2] != shape[3])
      fail("needs a square kernel");
    const int64_t width = shape[3], height = shape[2];
    if (width == 0)
      return;
    const double f = std::ceil(double(width) / 2.0);
    const double c = double(width - 1) / (2.0 * f);
    for (int64_t i = 0; i < count; ++i) {
      double x = double(i % width);
      double y = double((i / width) % height);
      data[i] = float((1.0 - std::fabs(x / f - c)) * (1.0 - std::fabs(y / f - c)));
    }
  } else {
    fail("unknown filler type");
  }
}
