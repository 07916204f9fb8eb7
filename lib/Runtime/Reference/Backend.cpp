//===- Backend.cpp - The reference backend --------------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
#include "RefCommon.h"

namespace dlc::rt::ref {
// Lowest priority: the fallback of every other backend. No per-executor state.
DLC_REGISTER_BACKEND({"ref", "reference", 0, nullptr});
} // namespace dlc::rt::ref
