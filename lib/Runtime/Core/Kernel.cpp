//===- Kernel.cpp - Kernel descriptions --------------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
#include "dlc/Runtime/KernelRegistry.h"

#include <cstdio>

namespace dlc::rt {

namespace {
void orThrow(const Status &s) {
  if (s.failed())
    throw Error(s.message());
}
} // namespace

int64_t Attrs::getInt(const std::string &name, int64_t def) const {
  orThrow(ops::detail::readInt(*this, name.c_str(), false, def));
  return def;
}
double Attrs::getFloat(const std::string &name, double def) const {
  orThrow(ops::detail::readFloat(*this, name.c_str(), false, def));
  return def;
}
std::string Attrs::getString(const std::string &name, const std::string &def) const {
  std::string v = def;
  orThrow(ops::detail::readString(*this, name.c_str(), false, v, {}, name.c_str()));
  return v;
}
std::vector<int64_t> Attrs::getInts(const std::string &name,
                                    const std::vector<int64_t> &def) const {
  std::vector<int64_t> v = def;
  orThrow(ops::detail::readInts(*this, name.c_str(), false, v));
  return v;
}
std::vector<double> Attrs::getFloats(const std::string &name,
                                     const std::vector<double> &def) const {
  std::vector<double> v = def;
  orThrow(ops::detail::readFloats(*this, name.c_str(), false, v));
  return v;
}

static const std::string kGradSuffix = "_grad";

std::string formatBytes(uint64_t bytes) {
  char buf[32];
  if (bytes < (uint64_t(1) << 20))
    std::snprintf(buf, sizeof buf, "%.1f KiB", double(bytes) / 1024.0);
  else if (bytes < (uint64_t(1) << 30))
    std::snprintf(buf, sizeof buf, "%.1f MiB", double(bytes) / 1048576.0);
  else
    std::snprintf(buf, sizeof buf, "%.1f GiB", double(bytes) / 1073741824.0);
  return buf;
}

bool KernelDesc::isGradient() const {
  return op.size() > kGradSuffix.size() &&
         op.compare(op.size() - kGradSuffix.size(), kGradSuffix.size(), kGradSuffix) == 0;
}

std::string KernelDesc::forwardOp() const {
  return isGradient() ? op.substr(0, op.size() - kGradSuffix.size()) : op;
}

std::string KernelDesc::errorPrefix() const { return "layer '" + layer + "' (" + op + "): "; }

void KernelDesc::fail(const std::string &msg) const { throw Error(errorPrefix() + msg); }

bool KernelDesc::hasBlocked() const {
  for (const auto *blocks : {&inBlocks, &outBlocks})
    for (int b : *blocks)
      if (b != 0)
        return true;
  return false;
}

std::string KernelDesc::requestedImpl() const { return attrs.getString("impl", ""); }

void check(const KernelDesc &desc, const Status &s) {
  if (s.failed())
    desc.fail(s.message());
}

int GradDesc::outputOf(int64_t i) const {
  for (size_t k = 0; k < wrt.size(); ++k)
    if (wrt[k] == i)
      return int(k);
  return -1;
}

GradDesc gradDesc(const KernelDesc &desc) {
  GradDesc g;
  const ops::OpSchema *schema = ops::lookupOp(desc.forwardOp());
  if (!schema || !desc.isGradient())
    desc.fail("not a backward kernel of a known op");
  const size_t total = desc.inputs.size();
  int64_t declared = -1;
  if (desc.attrs.has("num_forward_operands"))
    check(desc, ops::detail::readInt(desc.attrs, "num_forward_operands", true, declared));
  if (declared > 0) {
    g.numOperands = size_t(declared);
    g.numResults = (total - g.numOperands) / 2;
  } else if (schema->numResults >= 0) {
    g.numResults = size_t(schema->numResults);
    g.numOperands = total - 2 * g.numResults;
  } else {
    g.numOperands = schema->numOperands;
    g.numResults = (total - g.numOperands) / 2;
  }
  check(desc, ops::detail::readInts(desc.attrs, "wrt", true, g.wrt));
  g.fwd.op = desc.forwardOp();
  g.fwd.layer = desc.layer;
  g.fwd.attrs = desc.attrs;
  g.fwd.attrs.erase("wrt");
  g.fwd.attrs.erase("num_forward_operands");
  g.fwd.inputs.assign(desc.inputs.begin(), desc.inputs.begin() + long(g.numOperands));
  g.fwd.outputs.assign(desc.inputs.begin() + long(g.numOperands),
                       desc.inputs.begin() + long(g.numOperands + g.numResults));
  if (!desc.isParam.empty())
    g.fwd.isParam.assign(desc.isParam.begin(), desc.isParam.begin() + long(g.numOperands));
  return g;
}

std::unique_ptr<Kernel> createReferenceKernel(const KernelDesc &desc) {
  BackendContexts contexts;
  return createKernel(desc, {"ref"}, contexts).kernel;
}

bool hasReferenceKernel(const std::string &op) {
  return KernelRegistry::instance().has("ref", op);
}

} // namespace dlc::rt
