//===- CodeBuilder.h - Element-wise loops for generated kernels -*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Internal to lib/Conversion/DLToLLVM: what dl-codegen-pointwise and
// dl-codegen-recurrent (docs/codegen.md) build their functions from. One
// function body on `!llvm.ptr` loads and stores with arith / math / scf ops:
// constants hoisted to the entry (one per value), Caffe's formulas on f32 or
// on vectors of f32, and the element loop (unrolled vectors, single vectors,
// a scalar tail). Also the nested module that holds the functions and the
// target's default vector shape.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_LIB_CONVERSION_DLTOLLVM_CODEBUILDER_H
#define DLC_LIB_CONVERSION_DLTOLLVM_CODEBUILDER_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/STLFunctionalExtras.h"

#include <map>
#include <string>
#include <utility>

namespace dlc::codegen {

/// Builds the body of one generated function (`fn` must have no body yet;
/// beginBody() adds its entry block).
class CodeBuilder {
public:
  explicit CodeBuilder(mlir::func::FuncOp fn);

protected:
  /// Adds the entry block; the builder then inserts at its end.
  mlir::Block *beginBody();
  /// An i64 constant.
  mlir::Value index(int64_t v);
  /// `v` as a value of `t` (f32 or a vector of f32, splat).
  mlir::Value cst(mlir::Type t, double v);
  /// Constants live at the function entry, one per value.
  mlir::Value constant(mlir::Type t, mlir::TypedAttr attr);
  /// The pointer array[k] (a `float *const *` argument).
  mlir::Value pointerAt(mlir::Value array, int64_t k);
  /// &base[i] for a float pointer.
  mlir::Value elementAddress(mlir::Value base, mlir::Value i);
  /// base[i .. i + lanes) as a value of `t` (f32 or a vector), and back.
  mlir::Value load(mlir::Type t, mlir::Value base, mlir::Value i);
  void store(mlir::Value v, mlir::Value base, mlir::Value i);
  /// The scalar `s` as a value of `t` (broadcast to a vector).
  mlir::Value splat(mlir::Type t, mlir::Value s);

  // Caffe's formulas on a value of type t (f32 or a vector of f32).
  mlir::Value add(mlir::Value x, mlir::Value y);
  mlir::Value sub(mlir::Value x, mlir::Value y);
  mlir::Value mul(mlir::Value x, mlir::Value y);
  mlir::Value div(mlir::Value x, mlir::Value y);
  mlir::Value less(mlir::Value x, mlir::Value y);
  mlir::Value select(mlir::Value c, mlir::Value x, mlir::Value y);
  /// std::max(x, y) = x < y ? y : x;  std::min(x, y) = y < x ? y : x.
  mlir::Value stdMax(mlir::Value x, mlir::Value y);
  mlir::Value stdMin(mlir::Value x, mlir::Value y);
  /// a * x, with a == 1 omitted.
  mlir::Value scaled(mlir::Value x, double a);
  /// shift + scale * x, the trivial parts omitted.
  mlir::Value affine(mlir::Value x, double scale, double shift);
  mlir::Value exp(mlir::Value x);
  /// exp(x) - 1 without the cancellation near 0: for |x| < 1/2 its Taylor
  /// polynomial to x^8 (truncation below 6e-9 of the value), else exp(x) - 1
  /// (at least 0.39 in magnitude there). Cheaper than math.expm1's
  /// approximation, which needs a log and a division.
  mlir::Value expm1(mlir::Value x);
  /// 1 / (1 + exp(-x)).
  mlir::Value sigmoid(mlir::Value x);
  mlir::Value tanh(mlir::Value x);
  /// The correctly rounded square root (IEEE, as std::sqrt).
  mlir::Value sqrt(mlir::Value x);

  /// body(i, t) for the elements [lo, hi): a loop over `unroll` vectors of
  /// `width` lanes (t a vector of unroll * width; the independent chains
  /// keep the out-of-order core busy), one over single vectors, then a
  /// scalar loop (t = f32). `body` loads at i and stores at i.
  void emitRange(mlir::Value lo, mlir::Value hi, int64_t width, int64_t unroll,
                 llvm::function_ref<void(mlir::Value i, mlir::Type t)> body);

  mlir::func::FuncOp fn;
  mlir::Location loc;
  mlir::OpBuilder b;
  mlir::Type f32, i64, ptr;

private:
  /// The whole steps of [lo, hi); returns where the loop stopped.
  mlir::Value emitLoop(mlir::Value lo, mlir::Value hi, int64_t step, mlir::Type t,
                       llvm::function_ref<void(mlir::Value, mlir::Type)> body);

  std::map<std::pair<const void *, const void *>, mlir::Value> constants;
  mlir::Operation *lastConstant = nullptr;
};

/// The nested module of generated functions (`@dl_codegen`, marked
/// `dl.codegen_kernels`), created at the end of `top` when there is none.
mlir::ModuleOp codegenModule(mlir::ModuleOp top);

/// A new symbol in `kernels`: `prefix` followed by the first free number
/// from `next` on (which moves past it, so a pass numbers its functions in
/// one sweep).
std::string freshSymbol(mlir::ModuleOp kernels, const std::string &prefix, int &next);

/// The vector shape of `pass`'s target: `width` and `unroll` keep values
/// given as options (> 0), else the target's defaults (TargetSpec). Returns
/// false when no code is to be generated: with an error emitted (and
/// `failed` set) for a bad option or an unknown CPU, with a warning for a
/// host without a code generator when `cpu` is empty.
bool vectorShape(mlir::ModuleOp top, const char *pass, const std::string &cpu, int64_t &width,
                 int64_t &unroll, bool &failed);

} // namespace dlc::codegen

#endif // DLC_LIB_CONVERSION_DLTOLLVM_CODEBUILDER_H
