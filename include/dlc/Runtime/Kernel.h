//===- Kernel.h - Runtime kernel interface ----------------------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The runtime executes a compiled plan as a sequence of kernels. A kernel is
// created once (at module load) from a KernelDesc - the op name and attributes
// of a `dl` dialect op (see docs/dialect.md) plus the static shapes of its
// operands and results - and then run many times on caller-owned buffers.
//
// This header is part of the runtime: it must not include MLIR or LLVM.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_KERNEL_H
#define DLC_RUNTIME_KERNEL_H

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace dlc::rt {

using Shape = std::vector<int64_t>;

/// Number of elements of a shape (1 for rank 0).
int64_t numElements(const Shape &shape);
/// "64x1x28x28" (or "scalar").
std::string shapeToString(const Shape &shape);

/// Error in a kernel description (bad attribute, inconsistent shapes) or an
/// unsupported op. The message names the layer.
class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Typed attribute bag mirroring a `dl` op's attributes. Booleans are stored
/// as integers (0/1).
class Attrs {
public:
  using Value = std::variant<int64_t, double, std::string, std::vector<int64_t>,
                             std::vector<double>>;

  void set(const std::string &name, Value value) { values_[name] = std::move(value); }
  bool has(const std::string &name) const { return values_.count(name) != 0; }
  int64_t getInt(const std::string &name, int64_t def) const;
  bool getBool(const std::string &name, bool def) const { return getInt(name, def) != 0; }
  /// Accepts an integer value as well.
  double getFloat(const std::string &name, double def) const;
  std::string getString(const std::string &name, const std::string &def) const;
  std::vector<int64_t> getInts(const std::string &name,
                               const std::vector<int64_t> &def = {}) const;
  /// Accepts an integer vector as well.
  std::vector<double> getFloats(const std::string &name,
                                const std::vector<double> &def = {}) const;
  const std::map<std::string, Value> &all() const { return values_; }

private:
  std::map<std::string, Value> values_;
};

/// Everything needed to instantiate a kernel.
struct KernelDesc {
  std::string op;    ///< `dl` op name without the prefix: "convolution", "relu", ...
  std::string layer; ///< prototxt layer name, for messages and per-layer timings
  Attrs attrs;
  std::vector<Shape> inputs;  ///< operand shapes, in the dl op's operand order
  std::vector<Shape> outputs; ///< result shapes
  /// inputs[i] is a parameter (weight): its contents only change between
  /// runs when the caller says so (Kernel::paramsChanged), so a kernel may
  /// cache a reordered copy.
  std::vector<bool> isParam;
};

/// One executable op instance. Buffers are dense, row-major float32 in the
/// shapes of the KernelDesc; inputs and outputs never alias unless the plan
/// says so (in-place ops receive the same pointer for in[0] and out[0] only
/// when supportsInPlace() is true).
class Kernel {
public:
  virtual ~Kernel() = default;
  virtual void forward(const float *const *in, float *const *out) = 0;
  /// True when forward() is correct with out[0] == in[0].
  virtual bool supportsInPlace() const { return false; }
  /// Parameters were rewritten; drop any cached copy of them.
  virtual void paramsChanged() {}
  /// Short implementation name for reports ("ref", "onednn:jit:avx2", ...).
  virtual std::string implName() const = 0;
};

/// The reference implementation of every op: plain loops, float64
/// accumulation. Throws Error for an unknown op or an invalid description.
std::unique_ptr<Kernel> createReferenceKernel(const KernelDesc &desc);

/// True if the reference implementation knows `op`.
bool hasReferenceKernel(const std::string &op);

} // namespace dlc::rt

#endif // DLC_RUNTIME_KERNEL_H
