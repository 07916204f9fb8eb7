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

/// data [2,3,8,8] -> convolution (3x3, 4 outputs; stored weight, constant
/// bias filler) -> relu -> max pooling 2x2/2 -> inner_product (5 outputs;
/// xavier weight filler, stored bias) -> "ip". With `arena`, the activations
/// use an arena plan in which relu runs in place, pooling reuses the input's
/// memory and ip reuses conv/relu's memory.
rt::ModuleWriter tinyCnn(bool arena = false);

/// tinyCnn plus a label input [2] and softmax_with_loss / accuracy outputs.
rt::ModuleWriter tinyClassifier();

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
