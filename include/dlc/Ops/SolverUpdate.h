//===- SolverUpdate.h - The update function of a Caffe solver ---*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The parameter update of a trained module (docs/training.md) as a function
// with a C signature, declared once for the two sides: dl-codegen-update
// (lib/Conversion/DLToLLVM) generates it for the module's solver type and
// regularization and the target CPU; the runtime's SolverUpdate
// (lib/Runtime/Training) calls it over ranges of each parameter, or runs
// its built-in loops (the same formulas, dlc/Runtime/Training.h) when the
// module has no native code. One call reads the gradient, the weight and
// the history once and writes the weight and the history once.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_OPS_SOLVERUPDATE_H
#define DLC_OPS_SOLVERUPDATE_H

#include <cstdint>
#include <string>

namespace dlc::ops {

/// Caffe's solver types, in the order of caffe.SolverParameter.SolverType
/// (and of dlcm.proto's Solver.Type).
enum class SolverType { Sgd, Nesterov, AdaGrad, RmsProp, AdaDelta, Adam };
inline constexpr int kNumSolverTypes = 6;
/// Their names in code and options ("sgd", ...), in enum order.
inline constexpr const char *kSolverTypeNames[kNumSolverTypes] = {
    "sgd", "nesterov", "adagrad", "rmsprop", "adadelta", "adam"};

/// History slots: h only, or h and h2 (AdaDelta, Adam).
inline constexpr int updateHistorySlots(SolverType t) {
  return t == SolverType::AdaDelta || t == SolverType::Adam ? 2 : 1;
}

/// The coefficients of one parameter's update, the array `c` of the
/// function, the same for all its elements:
enum UpdateCoefficient : int {
  kGradScale, ///< clip_gradients / ||grad|| (or 1), divided by iter_size
  kDecay,     ///< weight_decay * decay_mult
  kRate,      ///< learning rate * lr_mult (Adam: times its bias correction)
  kMomentum,  ///< momentum (Adam's beta1, AdaDelta's decay)
  kMomentum2, ///< Adam's beta2
  kDelta,     ///< delta
  kRmsDecay,  ///< RMSProp's rms_decay
  kNumUpdateCoefficients
};

/// Updates elements [begin, end) of one parameter: w the weights, grad the
/// summed gradient, h and h2 the history slots (h2 unused with one slot).
/// With g = c[kGradScale] grad + c[kDecay] (L2: w, L1: sign(w)):
///   sgd       h = m h + rate g;                 w -= h
///   nesterov  h' = m h + rate g;                w -= (1 + m) h' - m h
///   adagrad   h += g^2;                         w -= rate g / (sqrt(h) + delta)
///   rmsprop   h = r h + (1 - r) g^2;            w -= rate g / (sqrt(h) + delta)
///   adadelta  h = m h + (1 - m) g^2; u = g sqrt((h2 + delta) / (h + delta));
///             h2 = m h2 + (1 - m) u^2;          w -= rate u
///   adam      h = m h + (1 - m) g; h2 = m2 h2 + (1 - m2) g^2;
///             w -= rate h / (sqrt(h2) + delta)
/// (m = c[kMomentum], m2 = c[kMomentum2], r = c[kRmsDecay]), each in float
/// and in this order of operations.
using UpdateFunction = void (*)(float *w, const float *grad, float *h, float *h2,
                                const float *c, int64_t begin, int64_t end);

/// The symbol dl-codegen-update gives the function: "dlc_update_<type>_l2"
/// or "..._l1".
inline std::string updateSymbol(SolverType t, bool l1) {
  return std::string("dlc_update_") + kSolverTypeNames[int(t)] + (l1 ? "_l1" : "_l2");
}

} // namespace dlc::ops

#endif // DLC_OPS_SOLVERUPDATE_H
