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
// Which implementation is created is decided by the kernel registry
// (KernelRegistry.h); every description is validated once, against the op
// library's rules (dlc/Ops), before any backend sees it.
//
// This header is part of the runtime: it must not include MLIR or LLVM.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_KERNEL_H
#define DLC_RUNTIME_KERNEL_H

#include "dlc/Ops/Ops.h"

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace dlc::rt {

using ops::Shape;
using ops::numElements;
using ops::shapeToString;

/// "12.0 KiB", "3.5 MiB" (powers of 1024) for messages about memory.
std::string formatBytes(uint64_t bytes);

/// Error in a kernel description (bad attribute, inconsistent shapes), an
/// unsupported op, or a failure while running. The message names the layer.
class Error : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Typed attribute bag mirroring a `dl` op's attributes (booleans are
/// integers 0/1). Kernels read an op's attributes through the op library's
/// `<Op>Attrs::read` (attrsOf below), which applies the ODS defaults and
/// checks the types; the getters here (the op library's readers, throwing
/// Error on a type mismatch) are for the runtime's own attributes.
class Attrs : public ops::AttrMap {
public:
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
};

struct FusedStep;

/// Native code of a module (docs/codegen.md), loaded by the runtime
/// (lib/Runtime/Generated) and shared by the kernels that call it.
class NativeCode {
public:
  virtual ~NativeCode() = default;
  /// The address of the function named `symbol`, or nullptr.
  virtual void *function(const std::string &symbol) const = 0;
  /// The CPU it was compiled for ("znver4", "x86-64-v3"), for reports.
  virtual std::string cpu() const = 0;
};

/// Everything needed to instantiate a kernel.
struct KernelDesc {
  /// `dl` op name without the prefix ("convolution", "relu", ...), or
  /// "<op>_grad" for the backward kernel of op (docs/autodiff.md).
  std::string op;
  std::string layer; ///< prototxt layer name, for messages and per-layer timings
  /// The op's attributes; a backward kernel also has `wrt`. Reserved:
  /// `impl` (an implementation the compiler asked for, e.g. a convolution
  /// algorithm), `gen_symbol` (a fused kernel's generated function) and
  /// `gen_<cell>` (a recurrent layer's generated cell functions,
  /// dlc/Ops/RecurrentCells.h), both naming functions of nativeCode.
  Attrs attrs;
  std::vector<Shape> inputs;  ///< operand shapes, in the dl op's operand order
  std::vector<Shape> outputs; ///< result shapes
  /// inputs[i] is a parameter (weight): its contents only change between
  /// runs when the caller says so (Kernel::paramsChanged), so a kernel may
  /// cache a reordered copy.
  std::vector<bool> isParam;
  /// Storage layouts (docs/layouts.md, dlc/Ops/Layout.h): the channel block
  /// of each input / output (0 = plain row-major; empty = all plain). Only a
  /// kernel whose factory says it handles layouts (KernelFactory::layouts)
  /// or of an element-wise op (LayoutClass::Any) sees a blocked one; the
  /// registry runs every other kernel on plain copies.
  std::vector<int> inBlocks, outBlocks;
  /// op "fused" (docs/fusion.md): the fused layers in order. Values are
  /// numbered as the fused kernel's inputs [0, inputs.size()), then each
  /// step's outputs in order; output o of the fused kernel is value
  /// results[o]. Empty for every other op.
  std::vector<FusedStep> body;
  std::vector<int> results;
  /// The module's native code when it has some (docs/codegen.md): a fused
  /// kernel whose attribute `gen_symbol` names one of its functions can run
  /// the body with it (the "generated" backend); the lstm and rnn kernels
  /// call the cell functions their `gen_<cell>` attributes name. Null
  /// otherwise.
  std::shared_ptr<const NativeCode> nativeCode;
  /// Bytes the kernel may allocate for itself (workspace) at most: what the
  /// executor's memory limit leaves after the module's tensors; 0 = no
  /// limit. A kernel that knows its workspace beforehand (a convolution
  /// algorithm, ops::ConvWork) refuses to be created over it.
  uint64_t memoryLimit = 0;

  /// True for "<op>_grad".
  bool isGradient() const;
  /// True for op "fused".
  bool isFused() const { return op == "fused"; }
  /// The forward op's name ("convolution" for "convolution_grad").
  std::string forwardOp() const;
  /// "layer '<layer>' (<op>): ".
  std::string errorPrefix() const;
  /// Throws Error(errorPrefix() + msg).
  [[noreturn]] void fail(const std::string &msg) const;
  /// The requested implementation (`impl` attribute), "" when none.
  std::string requestedImpl() const;
  /// Whether inputs[i] is a parameter.
  bool param(size_t i) const { return i < isParam.size() && isParam[i]; }
  /// The channel block of input / output i (0 when plain or unset).
  int inBlock(size_t i) const { return i < inBlocks.size() ? inBlocks[i] : 0; }
  int outBlock(size_t i) const { return i < outBlocks.size() ? outBlocks[i] : 0; }
  /// True when an input or output is not plain.
  bool hasBlocked() const;
};

/// One layer of a fused kernel: its own description (op, attributes,
/// shapes; isParam from the fused kernel's inputs it reads) and the values it
/// reads (KernelDesc::body).
struct FusedStep {
  KernelDesc desc;
  std::vector<int> args;
};

/// The typed attributes of desc (of its forward op for a backward kernel).
/// Descriptions are validated before a factory runs, so this only fails
/// for an unvalidated description (Error naming the layer).
template <typename AttrsT>
AttrsT attrsOf(const KernelDesc &desc) {
  AttrsT a;
  if (Status s = AttrsT::read(desc.attrs, a); s.failed())
    desc.fail(s.message());
  return a;
}
/// Throws Error naming desc's layer when `s` failed.
void check(const KernelDesc &desc, const Status &s);

/// The parts of a validated backward kernel "<op>_grad" (docs/autodiff.md):
/// its inputs are the forward operands, the forward results, then one
/// gradient per result; its outputs the gradients of the `wrt` operands.
struct GradDesc {
  KernelDesc fwd;           ///< the forward op: op name, attrs, operands, results
  std::vector<int64_t> wrt; ///< forward operand indices, strictly ascending
  size_t numOperands = 0, numResults = 0;
  /// Output index of the gradient of operand i, or -1 when i is not in wrt.
  int outputOf(int64_t i) const;
  bool wants(int64_t i) const { return outputOf(i) >= 0; }
  /// Index in the kernel's inputs of forward result r / of its gradient.
  size_t resultIn(size_t r = 0) const { return numOperands + r; }
  size_t gradIn(size_t r = 0) const { return numOperands + numResults + r; }
};
/// Splits a validated backward description (validateKernelDesc).
GradDesc gradDesc(const KernelDesc &desc);

/// One executable op instance. Buffers are dense, row-major float32 in the
/// shapes of the KernelDesc; inputs and outputs never alias unless the plan
/// says so (in-place ops receive the same pointer for in[i] and out[0] only
/// when i == inPlaceInput()).
class Kernel {
public:
  virtual ~Kernel() = default;
  virtual void forward(const float *const *in, float *const *out) = 0;
  /// True when forward() is correct with out[0] == in[0].
  virtual bool supportsInPlace() const { return false; }
  /// The input i for which forward() is correct with out[0] == in[i], or -1
  /// (by default 0 when supportsInPlace()). A fused kernel whose sum
  /// post-op accumulates into a blob names that blob's input.
  virtual int inPlaceInput() const { return supportsInPlace() ? 0 : -1; }
  /// Parameters were rewritten; drop any cached copy of them.
  virtual void paramsChanged() {}
  /// The training step about to run (docs/training.md): kernels that draw
  /// random numbers per run (train-mode dropout) draw a fresh stream for
  /// each step, the same one for the same step, so that a forward kernel and
  /// its backward kernel agree. Step 0 is the stream of the kernel's seed.
  virtual void setStep(uint64_t step) { (void)step; }
  /// Short implementation name for reports ("ref", "onednn:jit:avx2", ...).
  virtual std::string implName() const = 0;
  /// For an op whose result sizes depend on operand values
  /// (OpSchema::dataDependent, e.g. filter): the result shapes the last
  /// forward() produced, which the executor reads after every run. The
  /// buffers are sized for the shapes of the KernelDesc, the largest.
  virtual std::vector<Shape> producedShapes() const { return {}; }
  /// The parts of its work a kernel times itself (an LSTM: input
  /// projection, recurrence, weight gradients), as the names and times of
  /// the last forward() call, in order; empty for most kernels. dlrun
  /// --bench shows them under the layer's row.
  struct Phase {
    std::string name;
    double ms = 0;
  };
  virtual std::vector<Phase> phases() const { return {}; }
};

/// The reference implementation of every op (plain loops, float64
/// accumulation), through the registry. Throws Error for an op without a
/// reference kernel or an invalid description.
std::unique_ptr<Kernel> createReferenceKernel(const KernelDesc &desc);

/// True if the reference backend has a kernel for `op` (or "<op>_grad").
bool hasReferenceKernel(const std::string &op);

} // namespace dlc::rt

#endif // DLC_RUNTIME_KERNEL_H
