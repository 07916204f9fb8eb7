//===- TestModules.h - Small hand-built modules for tests -------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Hand-built .dlcm modules shared by RuntimeModuleTests and the lit helper
// dlc-make-test-module.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_UNITTESTS_RUNTIME_TESTMODULES_H
#define DLC_UNITTESTS_RUNTIME_TESTMODULES_H

#include "dlc/Runtime/Module.h"

#include <string>
#include <vector>

namespace dlc::test {

/// The container bytes of a module around `header` (magic, `version` in the
/// preamble, header size, header, padding to 64, `weights`) without the
/// writer's validation; the header gets `version` when it has none.
std::string rawModuleBytes(dlc::module::Module header, const std::string &weights = "",
                           uint32_t version = rt::kFormatVersion);

/// data [2,3,8,8] -> convolution (3x3, 4 outputs; stored weight, constant
/// bias filler) -> relu -> max pooling 2x2/2 -> inner_product (5 outputs;
/// xavier weight filler, stored bias) -> "ip". With `arena`, the activations
/// use an arena plan in which relu runs in place, pooling reuses the input's
/// memory and ip reuses conv/relu's memory.
rt::ModuleWriter tinyCnn(bool arena = false);

/// tinyCnn plus a label input [2] and softmax_with_loss / accuracy outputs.
rt::ModuleWriter tinyClassifier();

/// A module with a gradient entry (docs/autodiff.md), as `dlc compile
/// --gradient` lays it out: x [2,3] (input) -> inner_product "ip" (4 outputs,
/// stored weight ip_w [4,3] and bias ip_b [4]) -> softmax_with_loss "loss"
/// with label [2] (normalization valid) -> loss (scalar). Backward kernels,
/// in this order: softmax_with_loss_grad (BACKWARD_DATA, seed "loss@seed" =
/// constant 1, lr_mult 0) -> ip@grad; inner_product_grad wrt=[0]
/// (BACKWARD_DATA) -> x@grad; inner_product_grad wrt=[1,2] (BACKWARD_WEIGHTS)
/// -> ip_w@grad, ip_b@grad. Outputs: loss, x@grad, ip_w@grad, ip_b@grad.
rt::ModuleWriter tinyLinearGradient();

/// tinyClassifier with a gradient entry: loss and accuracy forward, then
/// softmax_with_loss_grad, inner_product_grad (data, then weights),
/// pooling_grad, relu_grad, convolution_grad wrt=[1,2] (no gradient for the
/// data input). Outputs: loss, accuracy, then conv1_w@grad, conv1_b@grad,
/// ip_w@grad, ip_b@grad.
rt::ModuleWriter tinyClassifierGradient();

/// Adds a kernel (role FORWARD unless given); returns it.
dlc::module::Kernel *addKernel(dlc::module::Module &m, const std::string &op,
                               const std::string &layer, std::vector<int> inputs,
                               std::vector<int> outputs,
                               dlc::module::Kernel::Role role = dlc::module::Kernel::FORWARD);

/// Adds a tensor; returns its index.
int addTensor(dlc::module::Module &m, const std::string &name, std::vector<int64_t> shape,
              dlc::module::Tensor::Kind kind, int64_t offset = -1);
/// Adds a PARAM tensor and its Param entry; returns the param index.
int addParam(dlc::module::Module &m, const std::string &name, std::vector<int64_t> shape,
             const std::string &fillerType = "constant", double value = 0);
void addIntAttr(dlc::module::Kernel &k, const std::string &name, int64_t v);
void addFloatAttr(dlc::module::Kernel &k, const std::string &name, double v);
void addStrAttr(dlc::module::Kernel &k, const std::string &name, const std::string &v);
void addIntsAttr(dlc::module::Kernel &k, const std::string &name, std::vector<int64_t> v);

} // namespace dlc::test

#endif
