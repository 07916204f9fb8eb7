//===- Kernel.cpp - Runtime kernel interface basics -----------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Shape helpers and the typed attribute getters of dlc/Runtime/Kernel.h.
//
//===----------------------------------------------------------------------===//
#include "dlc/Runtime/Kernel.h"

namespace dlc::rt {

int64_t numElements(const Shape &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

std::string shapeToString(const Shape &shape) {
  if (shape.empty())
    return "scalar";
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += 'x';
    s += std::to_string(shape[i]);
  }
  return s;
}

namespace {
const char *typeName(const Attrs::Value &v) {
  switch (v.index()) {
  case 0: return "an integer";
  case 1: return "a float";
  case 2: return "a string";
  case 3: return "an integer array";
  case 4: return "a float array";
  }
  return "an unknown type";
}

[[noreturn]] void mismatch(const std::string &name, const char *expected,
                           const Attrs::Value &v) {
  throw Error("attribute '" + name + "' must be " + expected + ", but it is " +
              typeName(v));
}
} // namespace

int64_t Attrs::getInt(const std::string &name, int64_t def) const {
  auto it = values_.find(name);
  if (it == values_.end())
    return def;
  if (auto *v = std::get_if<int64_t>(&it->second))
    return *v;
  mismatch(name, "an integer", it->second);
}

double Attrs::getFloat(const std::string &name, double def) const {
  auto it = values_.find(name);
  if (it == values_.end())
    return def;
  if (auto *v = std::get_if<double>(&it->second))
    return *v;
  if (auto *v = std::get_if<int64_t>(&it->second))
    return static_cast<double>(*v);
  mismatch(name, "a float", it->second);
}

std::string Attrs::getString(const std::string &name, const std::string &def) const {
  auto it = values_.find(name);
  if (it == values_.end())
    return def;
  if (auto *v = std::get_if<std::string>(&it->second))
    return *v;
  mismatch(name, "a string", it->second);
}

std::vector<int64_t> Attrs::getInts(const std::string &name,
                                    const std::vector<int64_t> &def) const {
  auto it = values_.find(name);
  if (it == values_.end())
    return def;
  if (auto *v = std::get_if<std::vector<int64_t>>(&it->second))
    return *v;
  // An empty array carries no element type: accept an empty float array.
  if (auto *v = std::get_if<std::vector<double>>(&it->second); v && v->empty())
    return {};
  mismatch(name, "an integer array", it->second);
}

std::vector<double> Attrs::getFloats(const std::string &name,
                                     const std::vector<double> &def) const {
  auto it = values_.find(name);
  if (it == values_.end())
    return def;
  if (auto *v = std::get_if<std::vector<double>>(&it->second))
    return *v;
  if (auto *v = std::get_if<std::vector<int64_t>>(&it->second))
    return std::vector<double>(v->begin(), v->end());
  mismatch(name, "a float array", it->second);
}

} // namespace dlc::rt
