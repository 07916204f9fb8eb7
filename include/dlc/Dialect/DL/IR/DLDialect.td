// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
// The `dl` dialect: one op per Caffe layer type (see docs/dialect.md).

#ifndef DLC_DIALECT_DL_IR_DLDIALECT_TD
#define DLC_DIALECT_DL_IR_DLDIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

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

// Every dl tensor: f32, ranked or unranked (unranked before shape inference).
def DL_Tensor : TensorOf<[F32]>;

// Base class of dl ops.
class DL_Op<string mnemonic, list<Trait> traits = []>
    : Op<DL_Dialect, mnemonic, traits>;

// Base class of dl ops whose result types follow from operands + attributes
// (every op but dl.param). The verifier runs the Caffe shape rules; declared
// results may be unranked (before shape inference) or compatible shapes.
class DL_InferOp<string mnemonic, list<Trait> traits = []>
    : DL_Op<mnemonic, traits # [InferTypeOpAdaptorWithIsCompatible]> {
  let hasVerifier = 1;
  let extraClassDefinition = [{
    bool $cppClass::isCompatibleReturnTypes(::mlir::TypeRange l,
                                            ::mlir::TypeRange r) {
      return ::mlir::dl::detail::areCompatibleResultTypes(l, r);
    }
    ::llvm::LogicalResult $cppClass::verify() {
      return ::mlir::dl::detail::verifyResultTypesByInference(getOperation());
    }
  }];
}

#endif // DLC_DIALECT_DL_IR_DLDIALECT_TD
