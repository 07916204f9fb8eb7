// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
// The `dl` dialect: one op per Caffe layer type (see docs/dialect.md), and
// the vocabulary its op definitions use. Everything an op definition states
// (operands and their roles, attributes and their defaults, traits) is read
// by mlir-tblgen for the compiler and by dlc-tblgen for the MLIR-free op
// library (lib/Ops) that the runtime's kernels share.

#ifndef DLC_DIALECT_DL_IR_DLDIALECT_TD
#define DLC_DIALECT_DL_IR_DLDIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"

def DL_Dialect : Dialect {
  let name = "dl";
  let cppNamespace = "::mlir::dl";
  let summary = "Graph-level dialect with one op per Caffe layer";
  let description = [{
    `dl` models a Caffe network: every op is one Caffe layer type with Caffe's
    semantics, parameter names and shape rules. Tensors are f32 in Caffe's
    row-major layout; weights come from `dl.param` ops. The runtime implements
    each op under the same name (without `dl.`) with the same attributes.
  }];
  // Inherent attributes live in the attribute dictionary, so that the importer
  // can create ops generically from an OperationState with named attributes.
  let usePropertiesForAttributes = 0;
  let hasOperationAttrVerify = 1;
  let hasRegionArgAttrVerify = 1;
  let hasRegionResultAttrVerify = 1;
}

//===----------------------------------------------------------------------===//
// Operand roles
//===----------------------------------------------------------------------===//
// Every operand's type constraint names what the operand is to the layer.
// The role decides whether it is differentiable (dl-autodiff), and the module
// emitter records it so that the runtime knows what data a graph input wants
// (dlrun's default inputs) without knowing op names:
//   data       activations (differentiable)                  DL_Tensor
//   weight     learned parameters (differentiable)           DL_Weight
//   statistic  running statistics, never trained (BatchNorm) DL_Statistic
//   label      class indices                                 DL_Label<of, axis>
//   index      row indices                                   DL_Index<of, axis>
//   binary     0/1 values (targets, similarity, selectors)   DL_Binary
//   cont       sequence continuation (0 starts a sequence)   DL_Cont
//   mask       per-step weights of a padded batch [T, N]:    DL_SequenceMask
//              1/length on real steps, 0 on padding
//   shape      only its shape is read (Crop's reference)     DL_ShapeOnly
//   constant   read, never differentiated (InfogainLoss's H)  DL_Constant
// Labels and indices are integers in [0, R): with `of` an operand name, R is
// that operand's size along `axis` (an attribute name, canonicalized against
// the operand's rank, or an integer; a trailing "+" takes the product of the
// sizes from that axis on); with `of` empty, R is the value of the
// attribute `axis` names.
class DL_RoleTensor<string role, string of = "", string axis = "">
    : TensorOf<[F32]> {
  string dlRole = role;
  string dlRangeOf = of;
  string dlRangeAxis = axis;
}

// Every dl tensor: f32, ranked or unranked (unranked before shape inference).
def DL_Tensor : DL_RoleTensor<"data">;
def DL_Weight : DL_RoleTensor<"weight">;
def DL_Statistic : DL_RoleTensor<"statistic">;
class DL_Label<string of, string axis> : DL_RoleTensor<"label", of, axis>;
class DL_Index<string of, string axis> : DL_RoleTensor<"index", of, axis>;
def DL_Binary : DL_RoleTensor<"binary">;
def DL_Cont : DL_RoleTensor<"cont">;
def DL_SequenceMask : DL_RoleTensor<"mask">;
def DL_ShapeOnly : DL_RoleTensor<"shape">;
def DL_Constant : DL_RoleTensor<"constant">;

//===----------------------------------------------------------------------===//
// Attributes with Caffe's defaults
//===----------------------------------------------------------------------===//

class DL_I64<string v> : DefaultValuedAttr<I64Attr, v>;
class DL_F64<string v> : DefaultValuedAttr<F64Attr, v>;
class DL_Bool<string v> : DefaultValuedAttr<BoolAttr, v>;
class DL_Str<string v> : DefaultValuedAttr<StrAttr, "\"" # v # "\"">;
def DL_I64Array : DefaultValuedAttr<DenseI64ArrayAttr, "{}">;
def DL_F64Array : DefaultValuedAttr<DenseF64ArrayAttr, "{}">;
// A string attribute with a fixed set of values (a Caffe enum, lower-case).
// The values are checked by the op library ("pool must be one of ...").
class DL_Enum<list<string> values, string v> : DL_Str<v> {
  list<string> dlValues = values;
}

// An attribute that cannot be an ODS argument (its accessor would clash with
// a method of Op, e.g. `operation`): declared here so that the op library
// still parses and checks it. `kind` is "str", "i64", "f64" or "bool".
class DL_ExtraAttr<string attrName, string attrKind, string dflt,
                   list<string> values = [], string label = ""> {
  string name = attrName;
  string kind = attrKind;
  string defaultValue = dflt;
  list<string> dlValues = values;
  string displayName = label;
}

//===----------------------------------------------------------------------===//
// Op traits
//===----------------------------------------------------------------------===//

// A loss layer: dl-autodiff seeds the gradient at its (scalar) result.
def DL_Loss : NativeOpTrait<"IsLoss"> {
  let cppNamespace = "::mlir::dl::OpTrait";
}
// No backward pass (Caffe's Backward is NOT_IMPLEMENTED or a no-op).
def DL_NoGradient : NativeOpTrait<"NoGradient"> {
  let cppNamespace = "::mlir::dl::OpTrait";
}
// The leading size of the results depends on operand values (Filter): the
// shape rule gives it as `?`, result i holds at most as many items as
// operand i, and the runtime re-specializes the kernels downstream to the
// count each run produces (docs/dialect.md, "Data-dependent sizes").
// Element-wise and unary: result element i depends on operand element i
// only, same shape (the activations). dl-fuse-ops appends such ops to a
// fused producer.
def DL_Pointwise : NativeOpTrait<"Pointwise"> {
  let cppNamespace = "::mlir::dl::OpTrait";
}
def DL_DataDependentShape : NativeOpTrait<"DataDependentShape"> {
  let cppNamespace = "::mlir::dl::OpTrait";
}
// The gradients of the data operands and of the weights come out of one
// computation (backpropagation through time): dl-autodiff emits one
// dl.backward_data op for all of them rather than a backward_data and a
// backward_weights op that would each redo it.
def DL_JointBackward : NativeOpTrait<"JointBackward"> {
  let cppNamespace = "::mlir::dl::OpTrait";
}

//===----------------------------------------------------------------------===//
// Op base classes
//===----------------------------------------------------------------------===//

// Base class of dl ops.
class DL_Op<string mnemonic, list<Trait> traits = []>
    : Op<DL_Dialect, mnemonic, traits> {
  // Layer ops run as runtime kernels and get an entry in the op library;
  // dl.param and the backward ops do not.
  bit dlKernel = 0;
  list<DL_ExtraAttr> dlExtraAttrs = [];
  // Storage layouts the op's data operands and results may have
  // (docs/layouts.md; OpSchema::layout): "plain" (Caffe's row-major only),
  // "any" (element-wise: every data operand and result in one layout, any
  // layout), "channel_blocked" (rank-4 data may be nChw8c / nChw16c, each
  // operand and result in its own layout; weights stay plain).
  string dlLayout = "plain";
  // The op has a work rule (lib/Ops, `work(<Op>Attrs, <Op>Operands, Work)`):
  // the multiply-adds of its forward and backward directions, which dlrun
  // --bench turns into achieved GFLOP/s. Ops without one count none.
  bit dlWork = 0;
}

// Assembly used by most ops: `dl.op %a, %b {attrs} : (types) -> type`.
defvar DL_GenericFormat =
    "operands attr-dict `:` functional-type(operands, results)";

// Base class of the layer ops: result types follow from operands and
// attributes by the op's shape rule in lib/Ops (one rule, shared with the
// runtime). The verifier runs the rule; declared results may be unranked
// (before shape inference) or compatible shapes.
class DL_LayerOp<string mnemonic, list<Trait> traits = []>
    : DL_Op<mnemonic, traits # [Pure, InferTypeOpAdaptorWithIsCompatible]> {
  let dlKernel = 1;
  let hasVerifier = 1;
  let assemblyFormat = DL_GenericFormat;
  let extraClassDefinition = [{
    bool $cppClass::isCompatibleReturnTypes(::mlir::TypeRange l,
                                            ::mlir::TypeRange r) {
      return ::mlir::dl::detail::areCompatibleResultTypes(l, r);
    }
    ::llvm::LogicalResult $cppClass::verify() {
      return ::mlir::dl::detail::verifyResultTypesByInference(getOperation());
    }
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *context, std::optional<::mlir::Location> location,
        Adaptor adaptor, ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      if (::mlir::failed(::mlir::dl::detail::checkAttributes(context, location,
                                                             adaptor)))
        return ::mlir::failure();
      return ::mlir::dl::detail::inferLayerResultTypes(
          getOperationName(), context, location, adaptor.getOperands(),
          adaptor.getAttributes(), /*numResults=*/-1, types);
    }
  }];
}


// A layer op whose number of results is not derivable from its operands and
// attributes (Caffe's Slice with equal parts, Filter): the op refines its
// existing result types (refineReturnTypes) with the same shape rule.
class DL_VariadicLayerOp<string mnemonic, list<Trait> traits = []>
    : DL_Op<mnemonic, traits # [Pure,
        DeclareOpInterfaceMethods<InferTypeOpInterface, ["refineReturnTypes"]>]> {
  let dlKernel = 1;
  let hasVerifier = 1;
  let assemblyFormat = DL_GenericFormat;
  let extraClassDeclaration = [{
    static bool isCompatibleReturnTypes(::mlir::TypeRange l,
                                        ::mlir::TypeRange r);
  }];
  let extraClassDefinition = [{
    bool $cppClass::isCompatibleReturnTypes(::mlir::TypeRange l,
                                            ::mlir::TypeRange r) {
      return ::mlir::dl::detail::areCompatibleResultTypes(l, r);
    }
    ::llvm::LogicalResult $cppClass::verify() {
      return ::mlir::dl::detail::verifyResultTypesByInference(getOperation());
    }
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *context, std::optional<::mlir::Location> location,
        ::mlir::ValueRange operands, ::mlir::DictionaryAttr attributes,
        ::mlir::OpaqueProperties properties, ::mlir::RegionRange regions,
        ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      Adaptor adaptor(operands, attributes, properties, regions);
      if (::mlir::failed(::mlir::dl::detail::checkAttributes(context, location,
                                                             adaptor)))
        return ::mlir::failure();
      return ::mlir::dl::detail::inferLayerResultTypes(
          getOperationName(), context, location, operands, attributes,
          /*numResults=*/-1, types);
    }
    ::llvm::LogicalResult $cppClass::refineReturnTypes(
        ::mlir::MLIRContext *context, std::optional<::mlir::Location> location,
        ::mlir::ValueRange operands, ::mlir::DictionaryAttr attributes,
        ::mlir::OpaqueProperties properties, ::mlir::RegionRange regions,
        ::llvm::SmallVectorImpl<::mlir::Type> &types) {
      Adaptor adaptor(operands, attributes, properties, regions);
      if (::mlir::failed(::mlir::dl::detail::checkAttributes(context, location,
                                                             adaptor)))
        return ::mlir::failure();
      return ::mlir::dl::detail::refineLayerResultTypes(
          getOperationName(), context, location, operands, attributes, types);
    }
  }];
}

#endif // DLC_DIALECT_DL_IR_DLDIALECT_TD
