//===- ModuleReader.cpp - Reading and validating .dlcm files --------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Module.h"
#include "dlc/Ops/Layout.h"
#include "dlc/Ops/RecurrentCells.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <set>
#include <sstream>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace dlc::rt;
namespace pb = dlc::module;

bool dlc::rt::isKnownFillerType(const std::string &type) {
  static const char *const kTypes[] = {"constant", "gaussian", "xavier", "msra",
                                       "uniform", "positive_unitball", "bilinear"};
  for (const char *t : kTypes)
    if (type == t)
      return true;
  return false;
}

int64_t LoadedModule::numElements(int t) const {
  const pb::Tensor &tensor = header.tensors(t);
  int64_t n = 1;
  for (int64_t d : tensor.max_shape_size() ? tensor.max_shape() : tensor.shape())
    n *= d;
  return n;
}

bool LoadedModule::hasDynamicShape(int t) const { return header.tensors(t).max_shape_size() > 0; }

const uint8_t *LoadedModule::paramData(int p) const {
  const pb::Param &param = header.params(p);
  if (!param.has_data_offset())
    return nullptr;
  return weights + param.data_offset();
}

int LoadedModule::findTensor(const std::string &name) const {
  for (int i = 0, e = header.tensors_size(); i < e; ++i)
    if (header.tensors(i).name() == name)
      return i;
  return -1;
}

int LoadedModule::numForwardKernels() const {
  int n = 0;
  while (n < header.kernels_size() && header.kernels(n).role() == pb::Kernel::FORWARD)
    ++n;
  return n;
}

namespace {

template <typename... Args> std::string cat(const Args &...args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

const char *kindName(pb::Tensor::Kind k) {
  switch (k) {
  case pb::Tensor::ACTIVATION:
    return "activation";
  case pb::Tensor::INPUT:
    return "input";
  case pb::Tensor::PARAM:
    return "param";
  }
  return "?";
}

std::string kernelName(const pb::Kernel &k, int i) {
  std::string s = cat("kernel #", i, " (", k.op());
  if (!k.layer().empty())
    s += cat(" '", k.layer(), "'");
  return s + ")";
}

bool checkFiller(const pb::Filler &f, const pb::Tensor &t, std::string &what) {
  if (!isKnownFillerType(f.type())) {
    what = cat("unknown filler type '", f.type(), "'");
    return false;
  }
  if (f.type() == "uniform" && !(f.min() <= f.max())) {
    what = cat("uniform filler has min ", f.min(), " > max ", f.max());
    return false;
  }
  if (f.type() == "gaussian" && !(f.std() >= 0)) {
    what = cat("gaussian filler has negative std ", f.std());
    return false;
  }
  if (f.sparse() < -1) {
    what = cat("filler sparse must be >= -1, got ", f.sparse());
    return false;
  }
  const std::string &vn = f.variance_norm();
  if (vn != "fan_in" && vn != "fan_out" && vn != "average") {
    what = cat("unknown filler variance_norm '", vn, "'");
    return false;
  }
  if (f.type() == "bilinear") {
    if (t.shape_size() != 4 || t.shape(2) != t.shape(3)) {
      what = "bilinear filler needs a 4-D param with square spatial dims";
      return false;
    }
  }
  return true;
}

} // namespace

namespace {

/// The body of a fused kernel (dlcm.proto, Kernel.body): only op "fused"
/// has one, and it has one; its steps are layer or backward kernels that read
/// the kernel's inputs or internal tensors produced by earlier steps, and
/// produce internal tensors or the kernel's outputs (each exactly once). An
/// internal tensor is used by no other kernel. Indices are checked by the
/// caller's loop for the kernel's own inputs and outputs; here for the steps.
bool validateFusedBody(const pb::Module &m, const pb::Kernel &kern, std::string &why) {
  const bool fused = kern.op() == "fused";
  if (fused != (kern.body_size() > 0)) {
    why = fused ? "a fused kernel without a body" : "only a fused kernel has a body";
    return false;
  }
  if (!fused)
    return true;
  const int n = m.tensors_size();
  std::set<int> available(kern.inputs().begin(), kern.inputs().end());
  std::set<int> outputs(kern.outputs().begin(), kern.outputs().end()), produced;
  for (int s = 0; s < kern.body_size(); ++s) {
    const pb::Kernel &step = kern.body(s);
    const std::string sn = cat("step ", s, " (", step.op(), ")");
    // Layer kernels, or backward kernels ("<op>_grad": a fused backward
    // kernel that recomputes what it needs, docs/fusion.md); no nesting.
    if (step.op().empty() || step.op() == "fused" || step.body_size() > 0) {
      why = cat(sn, ": a step must be a layer or backward kernel, not a fused one");
      return false;
    }
    std::set<std::string> names;
    for (const pb::Attr &a : step.attrs())
      if (a.name().empty() || !names.insert(a.name()).second ||
          a.value_case() == pb::Attr::VALUE_NOT_SET) {
        why = cat(sn, ": empty, duplicate or valueless attribute '", a.name(), "'");
        return false;
      }
    for (int in : step.inputs())
      if (in < 0 || in >= n || !available.count(in)) {
        why = cat(sn, ": input ", in, " is neither an input of the fused kernel nor "
                                      "produced by an earlier step");
        return false;
      }
    for (int out : step.outputs()) {
      if (out < 0 || out >= n || produced.count(out) || available.count(out) ||
          !(outputs.count(out) || (m.tensors(out).internal() &&
                                   m.tensors(out).kind() == pb::Tensor::ACTIVATION &&
                                   m.tensors(out).offset() == -1))) {
        why = cat(sn, ": output ", out, " must be a new internal activation (no arena "
                                        "offset) or an output of the fused kernel");
        return false;
      }
      produced.insert(out);
      available.insert(out);
    }
  }
  for (int out : kern.outputs())
    if (!produced.count(out)) {
      why = cat("output '", m.tensors(out).name(), "' is produced by no step");
      return false;
    }
  return true;
}

} // namespace

namespace {

/// Module.native_code (docs/codegen.md): sizes and names only; the object
/// itself is checked by the loader (lib/Runtime/Generated) before use. A
/// kernel's "gen_symbol" must be a fused kernel's, naming one of its symbols.
bool validateNativeCode(const pb::Module &m, std::string &why) {
  auto plainName = [](const std::string &s, const char *extra) {
    if (s.empty() || s.size() > 256)
      return false;
    for (char c : s)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
            (c != '\0' && std::strchr(extra, c))))
        return false;
    return true;
  };
  auto fail = [&](std::string what) {
    why = std::move(what);
    return false;
  };
  std::set<std::string> symbols;
  if (m.has_native_code()) {
    const pb::NativeCode &nc = m.native_code();
    if (nc.object().empty())
      return fail("native code: empty object");
    if (nc.triple().empty() || !plainName(nc.triple(), "-.") || !plainName(nc.cpu(), "-."))
      return fail("native code: missing or malformed triple or cpu name");
    std::set<std::string> features;
    for (const std::string &f : nc.features())
      if (!plainName(f, "-.") || !features.insert(f).second)
        return fail(cat("native code: empty, malformed or duplicate feature '", f, "'"));
    for (const std::string &s : nc.symbols())
      if (!plainName(s, "") || !symbols.insert(s).second)
        return fail(cat("native code: empty, malformed or duplicate symbol '", s, "'"));
  }
  // gen_symbol on fused kernels; gen_<cell> (dlc/Ops/RecurrentCells.h) on
  // the kernels of the cell's layer.
  auto cellOf = [](const std::string &attr) -> const dlc::ops::CellInfo * {
    for (const dlc::ops::CellInfo &c : dlc::ops::kCells)
      if (attr == std::string(dlc::ops::kCellAttrPrefix) + c.name)
        return &c;
    return nullptr;
  };
  for (int k = 0; k < m.kernels_size(); ++k)
    for (const pb::Attr &a : m.kernels(k).attrs()) {
      if (a.name().rfind(dlc::ops::kCellAttrPrefix, 0) != 0)
        continue;
      const std::string kn = kernelName(m.kernels(k), k);
      const std::string &op = m.kernels(k).op();
      const dlc::ops::CellInfo *cell = cellOf(a.name());
      if (a.name() == "gen_symbol" ? op != "fused"
                                   : !cell || (op != cell->op && op != cat(cell->op, "_grad")))
        return fail(cat(kn, ": attribute '", a.name(), "' names no generated function of a ",
                        op, " kernel"));
      if (a.value_case() != pb::Attr::kS)
        return fail(cat(kn, ": ", a.name(), " must be a string"));
      if (!symbols.count(a.s()))
        return fail(cat(kn, ": ", a.name(), " '", a.s(), "' is not a symbol of the module's "
                             "native code"));
    }
  return true;
}

} // namespace

bool dlc::rt::validateModule(const pb::Module &m, uint64_t weightsSize,
                             std::string &error) {
  const int numTensors = m.tensors_size();
  auto inRange = [&](int64_t i) { return i >= 0 && i < numTensors; };
  auto fail = [&](std::string what) {
    error = std::move(what);
    return false;
  };

  if (m.arena_bytes() < 0)
    return fail(cat("negative arena_bytes ", m.arena_bytes()));
  if (uint64_t(m.arena_bytes()) > kMaxTensorElements * 4)
    return fail(cat("arena_bytes ", m.arena_bytes(), " is absurdly large"));

  // Tensors: names, shapes, element counts, arena offsets.
  std::set<std::string> names;
  std::vector<int64_t> numel(numTensors, 1);
  for (int i = 0; i < numTensors; ++i) {
    const pb::Tensor &t = m.tensors(i);
    std::string tn = cat("tensor #", i, " '", t.name(), "'");
    if (t.name().empty())
      return fail(cat("tensor #", i, " has an empty name"));
    if (!names.insert(t.name()).second)
      return fail(cat(tn, ": duplicate tensor name"));
    if (!pb::Tensor::Kind_IsValid(t.kind()))
      return fail(cat(tn, ": invalid kind"));
    if (!pb::Tensor::Role_IsValid(t.role()))
      return fail(cat(tn, ": invalid role"));
    if (t.role() != pb::Tensor::DATA && t.kind() != pb::Tensor::INPUT)
      return fail(cat(tn, ": only graph inputs have a role"));
    bool ranged = t.role() == pb::Tensor::LABEL || t.role() == pb::Tensor::INDEX;
    if (ranged ? t.value_range() < 1 : t.value_range() != 0)
      return fail(cat(tn, ": invalid value_range ", t.value_range(), " for its role"));
    if (t.shape_size() > kMaxRank)
      return fail(cat(tn, ": rank ", t.shape_size(), " exceeds the maximum ", kMaxRank));
    const bool dynamic = t.max_shape_size() > 0;
    if (dynamic) {
      if (t.kind() != pb::Tensor::ACTIVATION)
        return fail(cat(tn, ": only activations can have a run-time size (max_shape)"));
      if (t.max_shape_size() != t.shape_size())
        return fail(cat(tn, ": max_shape has rank ", t.max_shape_size(), ", shape has rank ",
                        t.shape_size()));
      bool any = false;
      for (int d = 0; d < t.shape_size(); ++d) {
        if (t.shape(d) == -1)
          any = true;
        else if (t.shape(d) != t.max_shape(d))
          return fail(cat(tn, ": max_shape differs from shape at static dimension ", d));
      }
      if (!any)
        return fail(cat(tn, ": max_shape given for a static shape"));
    }
    uint64_t n = 1;
    for (int64_t d : dynamic ? t.max_shape() : t.shape()) {
      if (d < 0)
        return fail(cat(tn, ": negative dimension ", d));
      if (d != 0 && n > kMaxTensorElements / uint64_t(d))
        return fail(cat(tn, ": more than 2^40 elements"));
      n *= uint64_t(d);
    }
    if (n > kMaxTensorElements)
      return fail(cat(tn, ": more than 2^40 elements"));
    numel[i] = int64_t(n);
    if (t.block() != 0) {
      const ops::Shape shape(t.shape().begin(), t.shape().end());
      if (!ops::isValidBlock(t.block()))
        return fail(cat(tn, ": invalid layout block ", t.block(), " (0, 8 or 16)"));
      if (t.kind() != pb::Tensor::ACTIVATION)
        return fail(cat(tn, ": only activations can have a blocked layout"));
      if (dynamic || !ops::isBlockable(shape, t.block()))
        return fail(cat(tn, ": layout ", ops::layoutName(t.block()),
                        " needs a static rank-4 shape whose channels are a multiple of ",
                        t.block()));
    }
    if (t.offset() != -1) {
      if (t.kind() == pb::Tensor::PARAM)
        return fail(cat(tn, ": a param cannot have an arena offset"));
      if (t.offset() < 0 || t.offset() % 4 != 0)
        return fail(cat(tn, ": invalid arena offset ", t.offset()));
      if (uint64_t(t.offset()) + 4 * n > uint64_t(m.arena_bytes()))
        return fail(cat(tn, ": arena range [", t.offset(), ", ", t.offset() + 4 * int64_t(n),
                        ") exceeds arena_bytes ", m.arena_bytes()));
    }
  }

  // Params: one per PARAM tensor, stored data inside the weights section.
  std::vector<int> paramFor(numTensors, -1);
  for (int p = 0; p < m.params_size(); ++p) {
    const pb::Param &param = m.params(p);
    std::string pn = cat("param #", p);
    if (!inRange(param.tensor()))
      return fail(cat(pn, ": tensor index ", param.tensor(), " out of range [0, ", numTensors, ")"));
    const pb::Tensor &t = m.tensors(param.tensor());
    pn += cat(" ('", t.name(), "')");
    if (t.kind() != pb::Tensor::PARAM)
      return fail(cat(pn, ": tensor is a ", kindName(t.kind()), ", not a param"));
    if (paramFor[param.tensor()] != -1)
      return fail(cat(pn, ": tensor already described by param #", paramFor[param.tensor()]));
    paramFor[param.tensor()] = p;
    if (param.has_data_offset() != param.has_data_size())
      return fail(cat(pn, ": data_offset and data_size must be set together"));
    if (param.has_data_offset()) {
      uint64_t bytes = 4 * uint64_t(numel[param.tensor()]);
      if (param.data_size() != bytes)
        return fail(cat(pn, ": data_size ", param.data_size(), " != 4 * ",
                        numel[param.tensor()], " elements"));
      if (param.data_offset() % 4 != 0)
        return fail(cat(pn, ": data_offset ", param.data_offset(), " is not a multiple of 4"));
      if (param.data_offset() > weightsSize || bytes > weightsSize - param.data_offset())
        return fail(cat(pn, ": data [", param.data_offset(), ", +", bytes,
                        ") lies outside the weights section (", weightsSize, " bytes)"));
    } else {
      std::string what;
      if (!checkFiller(param.filler(), t, what))
        return fail(cat(pn, ": ", what));
    }
  }
  for (int i = 0; i < numTensors; ++i)
    if (m.tensors(i).kind() == pb::Tensor::PARAM && paramFor[i] == -1)
      return fail(cat("param tensor '", m.tensors(i).name(), "' has no param entry"));

  // Graph inputs.
  std::vector<char> isGraphInput(numTensors, 0);
  for (int idx : m.inputs()) {
    if (!inRange(idx))
      return fail(cat("graph input index ", idx, " out of range [0, ", numTensors, ")"));
    if (m.tensors(idx).kind() != pb::Tensor::INPUT)
      return fail(cat("graph input '", m.tensors(idx).name(), "' is a ",
                      kindName(m.tensors(idx).kind()), " tensor, not an input"));
    if (isGraphInput[idx])
      return fail(cat("graph input '", m.tensors(idx).name(), "' listed twice"));
    isGraphInput[idx] = 1;
  }
  for (int i = 0; i < numTensors; ++i)
    if (m.tensors(i).kind() == pb::Tensor::INPUT && !isGraphInput[i])
      return fail(cat("input tensor '", m.tensors(i).name(), "' is not listed in the module inputs"));

  // Kernels: in range, produced once, topological order, unique attributes,
  // forward kernels before backward ones (the forward entry is a prefix).
  std::vector<int> producer(numTensors, -1);
  int firstBackward = -1;
  for (int k = 0; k < m.kernels_size(); ++k) {
    const pb::Kernel &kern = m.kernels(k);
    if (kern.op().empty())
      return fail(cat("kernel #", k, " has no op name"));
    std::string kn = kernelName(kern, k);
    if (!pb::Kernel::Role_IsValid(kern.role()))
      return fail(cat(kn, ": invalid role ", int(kern.role())));
    const bool isForward = kern.role() == pb::Kernel::FORWARD;
    for (int in : kern.inputs()) {
      if (!inRange(in))
        return fail(cat(kn, ": input index ", in, " out of range [0, ", numTensors, ")"));
      const pb::Tensor &t = m.tensors(in);
      if (t.internal())
        return fail(cat(kn, ": reads '", t.name(), "', which is internal to a fused kernel"));
      if (t.kind() == pb::Tensor::ACTIVATION && producer[in] == -1)
        return fail(cat(kn, ": input '", t.name(), "' is not produced by an earlier kernel"));
      if (isForward && t.kind() == pb::Tensor::ACTIVATION &&
          m.kernels(producer[in]).role() != pb::Kernel::FORWARD)
        return fail(cat(kn, ": forward kernel reads '", t.name(),
                        "', which is produced by backward ",
                        kernelName(m.kernels(producer[in]), producer[in])));
    }
    if (!isForward && firstBackward < 0)
      firstBackward = k;
    if (isForward && firstBackward >= 0)
      return fail(cat(kn, ": forward kernel after backward ",
                      kernelName(m.kernels(firstBackward), firstBackward),
                      "; forward kernels must come first"));
    if (std::string why; !validateFusedBody(m, kern, why))
      return fail(cat(kn, ": ", why));
    for (int out : kern.outputs()) {
      if (!inRange(out))
        return fail(cat(kn, ": output index ", out, " out of range [0, ", numTensors, ")"));
      const pb::Tensor &t = m.tensors(out);
      if (t.internal())
        return fail(cat(kn, ": output '", t.name(), "' is marked internal"));
      if (t.kind() != pb::Tensor::ACTIVATION)
        return fail(cat(kn, ": output '", t.name(), "' is a ", kindName(t.kind()),
                        " tensor; only activations can be produced"));
      if (producer[out] != -1)
        return fail(cat(kn, ": output '", t.name(), "' is already produced by kernel #",
                        producer[out]));
      producer[out] = k;
    }
    std::set<std::string> attrNames;
    for (const pb::Attr &a : kern.attrs()) {
      if (a.name().empty())
        return fail(cat(kn, ": attribute with an empty name"));
      if (!attrNames.insert(a.name()).second)
        return fail(cat(kn, ": duplicate attribute '", a.name(), "'"));
      if (a.value_case() == pb::Attr::VALUE_NOT_SET)
        return fail(cat(kn, ": attribute '", a.name(), "' has no value"));
    }
  }
  // Internal tensors are produced inside a fused body (validateFusedBody).
  for (const pb::Kernel &kern : m.kernels())
    for (const pb::Kernel &step : kern.body())
      for (int out : step.outputs())
        if (m.tensors(out).internal()) {
          if (producer[out] == -2)
            return fail(cat("internal tensor '", m.tensors(out).name(),
                            "' is produced by two fused kernels"));
          producer[out] = -2;
        }
  for (int i = 0; i < numTensors; ++i)
    if (m.tensors(i).kind() == pb::Tensor::ACTIVATION && producer[i] == -1)
      return fail(cat("activation tensor '", m.tensors(i).name(), "' is never produced"));

  // Graph outputs.
  std::set<int> seenOutputs;
  for (int idx : m.outputs()) {
    if (!inRange(idx))
      return fail(cat("graph output index ", idx, " out of range [0, ", numTensors, ")"));
    if (m.tensors(idx).internal())
      return fail(cat("graph output '", m.tensors(idx).name(), "' is internal to a fused kernel"));
    if (m.tensors(idx).kind() == pb::Tensor::PARAM)
      return fail(cat("graph output '", m.tensors(idx).name(), "' is a param"));
    if (!seenOutputs.insert(idx).second)
      return fail(cat("graph output '", m.tensors(idx).name(), "' listed twice"));
  }

  if (std::string why; !validateNativeCode(m, why))
    return fail(why);
  if (std::string why; (m.has_solver() || m.test_nets_size() > 0) && !validateSolver(m, why))
    return fail(why);
  if (std::string why; !validateDataLayers(m, why))
    return fail(why);

  // Arena plan: two tensors whose byte ranges overlap must not be live at the
  // same time. Positions: kernel k reads at 2k and writes at 2k+1; graph inputs
  // are written at -1 and graph outputs read at 2K, so a kernel may write over
  // an operand whose last use it is (the executor handles that aliasing).
  if (m.arena_bytes() > 0) {
    const int64_t K = m.kernels_size();
    std::vector<int64_t> start(numTensors, 0), end(numTensors, 0);
    for (int t = 0; t < numTensors; ++t) {
      start[t] = m.tensors(t).kind() == pb::Tensor::INPUT ? -1 : 2 * int64_t(producer[t]) + 1;
      end[t] = start[t];
    }
    for (int64_t k = 0; k < K; ++k)
      for (int in : m.kernels(int(k)).inputs())
        end[in] = std::max(end[in], 2 * k);
    for (int out : m.outputs())
      end[out] = 2 * K;
    std::vector<int> planned;
    for (int t = 0; t < numTensors; ++t)
      if (m.tensors(t).offset() >= 0 && numel[t] > 0)
        planned.push_back(t);
    // Sort by offset; only neighbours in byte order can overlap.
    std::stable_sort(planned.begin(), planned.end(),
              [&](int a, int b) { return m.tensors(a).offset() < m.tensors(b).offset(); });
    // A legitimate plan has few overlapping pairs; bound the work on hostile input.
    uint64_t budget = uint64_t(1) << 27;
    for (size_t i = 0; i < planned.size(); ++i) {
      int a = planned[i];
      int64_t aEnd = m.tensors(a).offset() + 4 * numel[a];
      for (size_t j = i + 1; j < planned.size() && m.tensors(planned[j]).offset() < aEnd; ++j) {
        int b = planned[j];
        if (--budget == 0)
          return fail("arena plan: too many overlapping tensors to verify");
        if (std::max(start[a], start[b]) <= std::min(end[a], end[b]))
          return fail(cat("arena plan: tensors '", m.tensors(a).name(), "' and '",
                          m.tensors(b).name(), "' overlap in memory while both are live"));
      }
    }
  }
  return true;
}

namespace {

uint32_t readU32(const uint8_t *p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint64_t readU64(const uint8_t *p) {
  return uint64_t(readU32(p)) | uint64_t(readU32(p + 4)) << 32;
}

/// Parses the container around a byte range owned by `storage`.
bool parseBytes(const uint8_t *data, uint64_t size, std::shared_ptr<const void> storage,
                const std::string &name, LoadedModule &out, std::string &error) {
  auto fail = [&](const std::string &what) {
    error = name + ": error: " + what;
    return false;
  };
  if (size < kPreambleSize)
    return fail(cat("file too small to be a dlc module (", size, " bytes, need at least ",
                    kPreambleSize, ")"));
  if (std::memcmp(data, kModuleMagic, 4) != 0)
    return fail("not a dlc module (bad magic, expected \"DLCM\")");
  uint32_t version = readU32(data + 4);
  if (version != kFormatVersion)
    return fail(cat("unsupported module format version ", version, " (this runtime reads version ",
                    kFormatVersion, "; the module is ", version < kFormatVersion ? "older" : "newer",
                    ", recompile it with a matching dlc)"));
  uint64_t headerSize = readU64(data + 8);
  if (headerSize > size - kPreambleSize)
    return fail(cat("header size ", headerSize, " exceeds the file (", size - kPreambleSize,
                    " bytes after the preamble); the file is truncated or corrupt"));
  if (headerSize > uint64_t(INT32_MAX))
    return fail(cat("header size ", headerSize, " is too large"));

  pb::Module header;
  if (!header.ParseFromArray(data + kPreambleSize, int(headerSize)))
    return fail("cannot parse the module header (corrupt or truncated protobuf)");
  if (header.version() != kFormatVersion)
    return fail(cat("header version ", header.version(), " does not match the file version ",
                    version));

  uint64_t headerEnd = kPreambleSize + headerSize;
  uint64_t weightsStart = (headerEnd + kWeightsAlignment - 1) / kWeightsAlignment * kWeightsAlignment;
  uint64_t weightsSize = 0;
  if (weightsStart < size)
    weightsSize = size - weightsStart;
  else
    weightsStart = size;
  std::string what;
  if (!validateModule(header, weightsSize, what))
    return fail(what);

  out.path = name;
  out.header = std::move(header);
  out.weights = data + weightsStart;
  out.weightsSize = weightsSize;
  out.storage = std::move(storage);
  out.paramOfTensor.clear();
  for (int p = 0; p < out.header.params_size(); ++p)
    out.paramOfTensor[out.header.params(p).tensor()] = p;
  return true;
}

} // namespace

bool dlc::rt::parseModule(std::vector<uint8_t> bytes, const std::string &name,
                          LoadedModule &out, std::string &error) {
  auto owned = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
  const uint8_t *data = owned->data();
  uint64_t size = owned->size();
  return parseBytes(data, size, std::shared_ptr<const void>(owned, owned.get()), name, out, error);
}

namespace {
struct Mapping {
  void *addr = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (addr)
      munmap(addr, size);
  }
};
} // namespace

bool dlc::rt::readModule(const std::string &path, LoadedModule &out, std::string &error) {
  auto fail = [&](const std::string &what) {
    error = path + ": error: " + what;
    return false;
  };
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return fail(cat("cannot open: ", std::strerror(errno)));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return fail(cat("cannot stat: ", std::strerror(e)));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail("not a regular file");
  }
  uint64_t size = uint64_t(st.st_size);
  if (size == 0) {
    ::close(fd);
    return parseModule({}, path, out, error);
  }
  void *addr = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (addr == MAP_FAILED) {
    // Fall back to reading (e.g. filesystems without mmap).
    std::vector<uint8_t> bytes(size);
    uint64_t done = 0;
    while (done < size) {
      ssize_t r = ::read(fd, bytes.data() + done, size - done);
      if (r < 0 && errno == EINTR)
        continue;
      if (r <= 0) {
        int e = errno;
        ::close(fd);
        return fail(cat("cannot read: ", r == 0 ? "unexpected end of file" : std::strerror(e)));
      }
      done += uint64_t(r);
    }
    ::close(fd);
    return parseModule(std::move(bytes), path, out, error);
  }
  ::close(fd);
  auto mapping = std::make_shared<Mapping>();
  mapping->addr = addr;
  mapping->size = size;
  return parseBytes(static_cast<const uint8_t *>(addr), size,
                    std::shared_ptr<const void>(mapping, addr), path, out, error);
}
