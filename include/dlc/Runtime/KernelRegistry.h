//===- KernelRegistry.h - Backends and their kernels ------------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Every backend (the reference interpreter, oneDNN, later the GPU) registers
// itself and each of its kernels from the file that implements them:
//
//   DLC_REGISTER_BACKEND({"onednn", "oneDNN", 10, makeDnnlContext});
//   DLC_REGISTER_KERNELS({"onednn", "pooling", KernelKind::Forward, whyNot, create},
//                        {"onednn", "pooling", KernelKind::Backward, nullptr, createGrad});
//
// A kernel is keyed by (backend, op, kind): the forward kernel of an op or
// its backward kernel "<op>_grad" (docs/autodiff.md), which serves both the
// backward-data and the backward-weights roles. `whyNot` says, before
// anything is built, why the implementation does not apply to a description
// ("" when it does); `create` may still refuse by throwing NotApplicable for
// what only the library finds out. The executor asks for a kernel with a
// list of backends in preference order and records why the preferred ones
// were passed over; nothing dispatches on op names.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_RUNTIME_KERNELREGISTRY_H
#define DLC_RUNTIME_KERNELREGISTRY_H

#include "dlc/Runtime/Kernel.h"

#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace dlc::rt {

/// Per-executor state of a backend (a oneDNN engine and stream, a CUDA
/// stream...), created on first use.
class BackendContext {
public:
  virtual ~BackendContext() = default;
};

enum class KernelKind { Forward, Backward };

struct BackendInfo {
  const char *name;        ///< "ref", "onednn"
  const char *displayName; ///< "reference", "oneDNN"
  /// Higher first in the default preference order; the reference backend
  /// (0) is the fallback of every other.
  int priority;
  std::unique_ptr<BackendContext> (*makeContext)();
  /// A backend with kernels for some descriptions only (the "generated"
  /// backend runs the fused kernels the compiler made native code for,
  /// docs/codegen.md): where it has none, or declines, the next backend is
  /// not a fallback and nothing is noted.
  bool supplementary = false;
};

struct KernelFactory {
  const char *backend;
  const char *op; ///< forward op name
  KernelKind kind;
  /// Why this implementation cannot run `desc`, or "" (nullptr: always applies).
  std::string (*whyNot)(const KernelDesc &desc);
  std::unique_ptr<Kernel> (*create)(const KernelDesc &desc, BackendContext &ctx);
  /// The kernel reads and writes its tensors in the layouts of the
  /// description (KernelDesc::inBlocks / outBlocks, docs/layouts.md).
  /// Otherwise, when a tensor is blocked and the op is not element-wise
  /// (ops::LayoutClass::Any), the registry creates it for plain tensors and
  /// converts around each run (plainLayoutKernel).
  bool layouts = false;
};

/// Thrown by a factory that finds out only while building that it cannot
/// run a description (e.g. the library has no primitive for it).
struct NotApplicable {
  std::string why;
};

class KernelRegistry {
public:
  static KernelRegistry &instance();
  void addBackend(const BackendInfo &backend);
  void addKernel(const KernelFactory &factory);
  const BackendInfo *backend(const std::string &name) const;
  /// Backend names, highest priority first.
  std::vector<std::string> backends() const;
  const KernelFactory *find(const std::string &backend, const std::string &op,
                            KernelKind kind) const;
  /// True when `backend` has a kernel for `op` ("<op>_grad" for a backward one).
  bool has(const std::string &backend, const std::string &op) const;
  /// The (op, kind) pairs `backend` implements.
  std::vector<std::pair<std::string, KernelKind>> kernelsOf(const std::string &backend) const;

private:
  std::map<std::string, BackendInfo> backends_;
  std::map<std::string, std::map<std::pair<std::string, KernelKind>, KernelFactory>> kernels_;
};

/// Static registration objects (see the macros).
struct RegisterBackend {
  explicit RegisterBackend(const BackendInfo &b) { KernelRegistry::instance().addBackend(b); }
};
struct RegisterKernels {
  RegisterKernels(std::initializer_list<KernelFactory> fs) {
    for (const KernelFactory &f : fs)
      KernelRegistry::instance().addKernel(f);
  }
};
#define DLC_REGISTRY_CONCAT2(a, b) a##b
#define DLC_REGISTRY_CONCAT(a, b) DLC_REGISTRY_CONCAT2(a, b)
#define DLC_REGISTER_BACKEND(...)                                                     \
  static ::dlc::rt::RegisterBackend DLC_REGISTRY_CONCAT(dlcBackend_, __LINE__)(__VA_ARGS__)
#define DLC_REGISTER_KERNELS(...)                                                     \
  static ::dlc::rt::RegisterKernels DLC_REGISTRY_CONCAT(dlcKernels_, __LINE__)({__VA_ARGS__})

/// The backend contexts of one executor.
class BackendContexts {
public:
  BackendContext &get(const std::string &backend);

private:
  std::map<std::string, std::unique_ptr<BackendContext>> contexts_;
};

/// Checks `desc` against the op library before any backend sees it: op
/// known, attribute types and values, operand count, the op's shape rule
/// (result shapes); for "<op>_grad" the layout of docs/autodiff.md (forward
/// operands, results and result gradients; `wrt` ascending, naming only
/// differentiable operands; one output per `wrt` entry with its operand's
/// shape). Throws Error ("layer 'l' (op): ...").
void validateKernelDesc(const KernelDesc &desc);

/// The output shapes of `desc` for its input shapes (its outputs are
/// ignored): the forward op's shape rule, with a data-dependent size (a
/// filter's count) at its largest, the corresponding operand's; for
/// "<op>_grad" the shapes of the `wrt` operands. Throws Error as
/// validateKernelDesc does.
std::vector<Shape> inferKernelOutputs(const KernelDesc &desc);
/// The multiply-adds of one run of the kernel `desc` describes: its op's
/// work rule (dlc/Ops/OpSchema.h, ops::Work), the direction a backward
/// kernel computes (weight gradients when every `wrt` operand is a weight),
/// the sum over a fused body; 0 for ops without a rule or an invalid
/// description.
double kernelMacs(const KernelDesc &desc);
/// For a fused kernel: recomputes the shapes of every step from the
/// kernel's input shapes (after they changed at run time); no-op otherwise.
void reshapeFusedBody(KernelDesc &desc);

/// Whether a kernel from `chosen` is a fallback given the preference order
/// `backends`: a backend before it that is not supplementary passed it over.
bool isFallback(const std::string &chosen, const std::vector<std::string> &backends);

/// A created kernel and how it was chosen.
struct KernelChoice {
  std::unique_ptr<Kernel> kernel;
  std::string backend;
  /// Why the backends preferred to `backend` were passed over
  /// ("onednn: pooling 'stochastic' has no oneDNN primitive"), "; "-joined.
  std::string notes;
};

/// Validates `desc` and creates its kernel from the first backend of
/// `backends` that has an applicable one. Throws Error when none does (the
/// message lists why), or when a factory rejects the description. A fused
/// kernel is createFusedKernel's.
KernelChoice createKernel(const KernelDesc &desc, const std::vector<std::string> &backends,
                          BackendContexts &contexts);

/// The layout class of a description: its op's (a backward kernel's forward
/// op's); for a fused kernel Any when every step is Any, else ChannelBlocked
/// when every step is Any or ChannelBlocked, else Plain.
ops::LayoutClass layoutClassOf(const KernelDesc &desc);
/// `desc` with every tensor (and every fused step's) in the plain layout.
KernelDesc plainLayoutDesc(const KernelDesc &desc);
/// Runs `inner` (created for plainLayoutDesc(desc)) on `desc`'s layouts:
/// blocked inputs are converted to plain copies before each run, blocked
/// outputs written from plain temporaries after it. `inner` itself when
/// every tensor of `desc` is plain.
std::unique_ptr<Kernel> plainLayoutKernel(const KernelDesc &desc, std::unique_ptr<Kernel> inner);

namespace detail {
/// The registry's search shared by createKernel and createFusedKernel: the
/// first backend of `backends` whose (op, kind) kernel applies and builds
/// fills `choice` (true); every other one passed over adds a note
/// ("no kernel for ..." only with `noteMissing`).
bool tryBackends(const KernelDesc &desc, const std::string &op, KernelKind kind,
                 const std::vector<std::string> &backends, BackendContexts &contexts,
                 bool noteMissing, KernelChoice &choice);
} // namespace detail

/// A fused kernel (op "fused", docs/fusion.md): the first backend of
/// `backends` with an applicable "fused" kernel (one that runs the whole
/// body at once, e.g. a convolution with its activation as a post-op);
/// otherwise the steps run one by one, each the kernel createKernel gives
/// for it, on temporaries the composed kernel owns (the backend reported is
/// the steps' backend, or "mixed").
KernelChoice createFusedKernel(const KernelDesc &desc, const std::vector<std::string> &backends,
                               BackendContexts &contexts);

} // namespace dlc::rt

#endif // DLC_RUNTIME_KERNELREGISTRY_H
