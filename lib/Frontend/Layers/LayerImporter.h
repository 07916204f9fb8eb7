//===- LayerImporter.h - Per-layer-type Caffe importers ---------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The importer (lib/Frontend/Importer.cpp) walks a net's layers and hands
// each one to the import function registered for its Caffe type. Import
// functions live in one file per op family, mirroring the dialect's
// include/dlc/Dialect/DL/IR/Ops/*.td (Conv.cpp, Pooling.cpp, Neuron.cpp,
// Normalization.cpp, Arithmetic.cpp, Structure.cpp, Recurrent.cpp, Loss.cpp),
// plus Data.cpp for the layers that build no op (data layers, Split).
//
// Adding a layer type
// -------------------
// 1. Define the op in the family's .td file (docs/adding-a-layer.md).
// 2. In the family's file here (its anonymous namespace), write the import
//    function:
//
//      FailureOr<Operation *> importFoo(LayerContext &L) {
//        const auto &p = L.layer.foo_param();
//        // Check the parameters (errors at the layer: L.emitError() << ...),
//        // resolve Caffe's defaults, create weights with L.param(...) in
//        // Caffe's blob order, then build the op with its typed builder:
//        return L.create<mlir::dl::FooOp>(L.bottom(0), L.f64(p.alpha()));
//      }
//
//    and add it to the file's registration list with the number of bottoms
//    it takes (default: exactly 1; the importer resolves and checks them
//    before the function runs):
//
//      DLC_REGISTER_LAYERS({"Foo", importFoo}, {"Bar", importBar, 2, kAnyNumber}, ...);
//
//    `L.create<Op>(operands..., attributes...)` creates the op with unranked
//    f32 results (pass a null Value for an absent optional operand and a null
//    attribute for one left at its default); the importer then checks the
//    number of tops, sets `dl.tops` and `dl.propagate_down`, infers the
//    result types with the dialect's shape rule (which reports errors at the
//    layer) and binds the tops. Never use the builders that infer result
//    types themselves: they abort on a shape error.
//    (A new family gets a new file here, listed in lib/Frontend/CMakeLists.txt.)
// 3. Test it in test/Frontend (and unittests/Frontend).
//
// The family files are linked whole (lib/Frontend/CMakeLists.txt): their
// registrations are static initializers that nothing else references.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_LIB_FRONTEND_LAYERS_LAYERIMPORTER_H
#define DLC_LIB_FRONTEND_LAYERS_LAYERIMPORTER_H

#include "dlc/Caffe/NetLoader.h"
#include "dlc/Dialect/DL/IR/DLOps.h"
#include "dlc/Frontend/CaffeImporter.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"

#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace dlc::frontend {

/// Import state shared by all layers of a net (owned by the importer).
struct NetState {
  NetState(const ImportOptions &options, caffe_fe::Phase phase) : options(options), phase(phase) {}
  const ImportOptions &options;
  caffe_fe::Phase phase;
  /// Current value of each blob (top) name; in-place layers overwrite.
  llvm::StringMap<mlir::Value> blobs;
  /// Blobs produced and not consumed since (Caffe's net outputs), in order.
  std::vector<std::string> available;
  /// Shared parameters by their `param { name }`.
  llvm::StringMap<mlir::Value> sharedParams;

  /// Binds `name` to `value`; it becomes the most recent net output.
  void define(const std::string &name, mlir::Value value);
  /// `name` is consumed: no longer a net output.
  void consume(const std::string &name);
};

/// Fails (with an error at `loc`) when a tensor of `shape` has more than
/// kMaxTensorElements elements; `what` names it ("parameter", "output 'x'").
mlir::LogicalResult checkTensorSize(mlir::Location loc, llvm::ArrayRef<int64_t> shape,
                                    const llvm::Twine &what);

/// Caffe stores most reals as float: keep the decimal the user wrote
/// (0.0001f becomes 1.0e-4, not 9.9999997473787516e-5).
double floatToDouble(float v);

/// What an import function sees: the layer, its location, its bottoms, and
/// the helpers to create its parameters, attributes and op.
class LayerContext {
public:
  LayerContext(NetState &net, const caffe::LayerParameter &layer, mlir::Location loc,
               mlir::OpBuilder &b)
      : layer(layer), loc(loc), b(b), net(net) {}

  const caffe::LayerParameter &layer;
  const mlir::Location loc;
  mlir::OpBuilder &b;

  mlir::InFlightDiagnostic emitError() const { return mlir::emitError(loc); }
  caffe_fe::Phase phase() const { return net.phase; }

  // --- Bottoms and tops ----------------------------------------------------

  /// Looks up the current value of every bottom (each stops being a net
  /// output). The importer does this (with expectBottoms) before the import
  /// function of every layer registered with a bottom count.
  mlir::LogicalResult resolveBottoms();
  /// resolveBottoms(), then checks that there are `lo` to `hi` bottoms
  /// (SIZE_MAX: no upper bound) in Caffe's words.
  mlir::LogicalResult expectBottoms(size_t lo, size_t hi);
  llvm::ArrayRef<mlir::Value> bottoms() const { return bottoms_; }
  mlir::Value bottom(size_t i) const { return bottoms_[i]; }
  /// Binds the layer's tops to `values` (for layers that build no op).
  void defineTops(mlir::ValueRange values);

  /// The static shape of `v` (empty if unranked).
  static llvm::ArrayRef<int64_t> shapeOf(mlir::Value v) {
    auto t = llvm::dyn_cast<mlir::RankedTensorType>(v.getType());
    return t ? t.getShape() : llvm::ArrayRef<int64_t>();
  }
  static int64_t rankOf(mlir::Value v) { return shapeOf(v).size(); }
  /// Caffe's CanonicalAxisIndex: `axis` (negative: from the end) as an index
  /// into a rank-`rank` shape; nullopt when outside [0, rank).
  static std::optional<int64_t> canonicalAxis(int64_t axis, int64_t rank) {
    if (axis < 0)
      axis += rank;
    return axis >= 0 && axis < rank ? std::optional<int64_t>(axis) : std::nullopt;
  }

  // --- Parameters ------------------------------------------------------------

  /// Running statistics (BatchNorm) are never trained: lr_mult and
  /// decay_mult 0, and a non-zero lr_mult is refused as Caffe does.
  enum class ParamKind { Learned, Statistic };
  /// Creates (or reuses, for a shared `param { name }`) the layer's
  /// `index`-th parameter blob, a `dl.param` of `shape` filled by `filler`.
  mlir::FailureOr<mlir::Value> param(unsigned index, llvm::ArrayRef<int64_t> shape,
                                     const caffe::FillerParameter &filler,
                                     ParamKind kind = ParamKind::Learned);
  /// A blob whose values the net file gives (e.g. InfogainLoss's `source`
  /// matrix): a dl.param "<layer>/<suffix>" holding `data`, never trained
  /// (lr_mult and decay_mult 0).
  mlir::Value constant(llvm::StringRef suffix, llvm::ArrayRef<int64_t> shape,
                       llvm::ArrayRef<float> data);
  /// The file the layer was read from ("" when unknown).
  std::string netFile() const;
  /// The filler of a weight blob: the layer's own, or (when the layer gives
  /// none and --random-weights is set) xavier.
  caffe::FillerParameter weightFiller(bool has, const caffe::FillerParameter &f) const;
  static caffe::FillerParameter constantFiller(float value);

  /// Blob 0 (weights of `wshape`) and, with bias_term, blob 1 ([num_output])
  /// of a Convolution/Deconvolution/InnerProduct/Embed layer; `bias` stays
  /// null without bias_term.
  template <typename P>
  mlir::LogicalResult weightAndBias(llvm::ArrayRef<int64_t> wshape, const P &p,
                                    mlir::Value &weight, mlir::Value &bias) {
    auto w = param(0, wshape, weightFiller(p.has_weight_filler(), p.weight_filler()));
    if (mlir::failed(w))
      return mlir::failure();
    weight = *w;
    if (!p.bias_term())
      return mlir::success();
    auto bv = param(1, {int64_t(p.num_output())}, p.bias_filler());
    if (mlir::failed(bv))
      return mlir::failure();
    bias = *bv;
    return mlir::success();
  }

  // --- Attributes --------------------------------------------------------------

  mlir::IntegerAttr i64(int64_t v) { return b.getI64IntegerAttr(v); }
  mlir::FloatAttr f64(double v) { return b.getF64FloatAttr(v); }
  /// A Caffe float, with its decimal kept (floatToDouble).
  mlir::FloatAttr f64(float v) { return f64(floatToDouble(v)); }
  mlir::BoolAttr boolean(bool v) { return b.getBoolAttr(v); }
  mlir::StringAttr str(llvm::StringRef v) { return b.getStringAttr(v); }
  mlir::DenseI64ArrayAttr i64s(llvm::ArrayRef<int64_t> v) { return b.getDenseI64ArrayAttr(v); }
  mlir::DenseF64ArrayAttr f64s(llvm::ArrayRef<double> v) { return b.getDenseF64ArrayAttr(v); }

  // --- The op --------------------------------------------------------------------

  /// Creates the layer's op (one unranked f32 result) with OpT's typed
  /// builder; the importer infers the result type.
  template <typename OpT, typename... Args>
  mlir::Operation *create(Args &&...args) {
    return b.create<OpT>(loc, unranked(), std::forward<Args>(args)...).getOperation();
  }
  /// The same for an op with `numResults` results.
  template <typename OpT, typename... Args>
  mlir::Operation *createWithResults(unsigned numResults, Args &&...args) {
    llvm::SmallVector<mlir::Type> types(numResults, unranked());
    return b.create<OpT>(loc, mlir::TypeRange(types), std::forward<Args>(args)...).getOperation();
  }

private:
  mlir::Type unranked() { return mlir::UnrankedTensorType::get(b.getF32Type()); }
  mlir::DictionaryAttr fillerAttr(const caffe::FillerParameter &f);

  NetState &net;
  llvm::SmallVector<mlir::Value> bottoms_;
};

/// Imports one layer. Returns the op it built (the importer finishes it), or
/// null when the layer builds no op (its tops, if any, are bound already).
using LayerImportFn = mlir::FailureOr<mlir::Operation *> (*)(LayerContext &);

/// No upper bound on the number of bottoms.
constexpr size_t kAnyNumber = SIZE_MAX;
/// The import function deals with the bottoms itself (Split, Silence), or
/// never looks at them (data layers, whose tops are graph inputs).
constexpr size_t kOwnBottoms = SIZE_MAX;

struct LayerRegistration {
  const char *type; ///< Caffe layer type
  LayerImportFn import;
  /// How many bottoms the layer takes: the importer resolves them and checks
  /// their number in Caffe's words before `import` runs (kOwnBottoms: no).
  size_t minBottoms = 1, maxBottoms = 1;
};

/// The registration of Caffe layer type `type`, or null if unsupported.
const LayerRegistration *lookupLayer(llvm::StringRef type);
/// Every registered layer type, sorted.
std::vector<std::string> registeredLayerTypes();

namespace detail {
/// Static registration object (see DLC_REGISTER_LAYERS).
struct RegisterLayers {
  RegisterLayers(std::initializer_list<LayerRegistration> layers);
};
} // namespace detail

#define DLC_FRONTEND_CONCAT2(a, b) a##b
#define DLC_FRONTEND_CONCAT(a, b) DLC_FRONTEND_CONCAT2(a, b)
/// DLC_REGISTER_LAYERS({"Convolution", importConvolution}, ...): registers
/// import functions by Caffe layer type (each type once, program-wide).
#define DLC_REGISTER_LAYERS(...)                                                        \
  static ::dlc::frontend::detail::RegisterLayers DLC_FRONTEND_CONCAT(dlcLayers_,         \
                                                                     __LINE__)({__VA_ARGS__})

} // namespace dlc::frontend

#endif // DLC_LIB_FRONTEND_LAYERS_LAYERIMPORTER_H
