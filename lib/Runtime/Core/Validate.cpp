//===- Validate.cpp - Kernel descriptions against the op library ----------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// One validation for every backend: the forward op's attributes and shapes
// through its shape rule (the same code the compiler's verifier runs), and
// the layout of backward kernels (docs/autodiff.md). Kernel factories then
// trust their description.
//
//===----------------------------------------------------------------------===//
#include "dlc/Runtime/KernelRegistry.h"
#include "dlc/Ops/Layout.h"

namespace dlc::rt {
namespace {

/// Attributes a kernel description may carry besides the op's own.
Status validateForward(const ops::OpSchema &schema, const Attrs &attrs,
                       const std::vector<Shape> &inputs, const std::vector<Shape> &outputs) {
  for (size_t i = 0; i < inputs.size(); ++i)
    for (int64_t d : inputs[i])
      if (d < 0)
        return fail("input ", i, " has a negative dimension (", shapeToString(inputs[i]), ")");
  std::string unknown =
      ops::unknownAttribute(schema, attrs, {"impl", "wrt", "num_forward_operands", "gen_*"});
  if (!unknown.empty())
    return fail("attribute '", unknown, "' is not an attribute of ", schema.name);
  std::vector<std::optional<Shape>> in(inputs.begin(), inputs.end()), results;
  DLC_TRY(ops::inferShapes(schema, attrs, in, schema.numResults < 0 ? int(outputs.size()) : -1,
                           results));
  if (results.size() != outputs.size())
    return fail("expected ", results.size(), " output(s), got ", outputs.size());
  // A data-dependent size (kAnyDim, e.g. a filter's count) matches any.
  auto matches = [](const Shape &rule, const Shape &actual) {
    if (rule.size() != actual.size())
      return false;
    for (size_t d = 0; d < rule.size(); ++d)
      if (rule[d] != actual[d] && !(rule[d] == ops::kAnyDim && actual[d] >= 0))
        return false;
    return true;
  };
  for (size_t i = 0; i < results.size(); ++i)
    if (!results[i] || !matches(*results[i], outputs[i]))
      return fail("output ", i, " has shape ", shapeToString(outputs[i]), ", expected ",
                  results[i] ? shapeToString(*results[i]) : std::string("?"));
  return Status();
}

/// How many of a backward kernel's inputs are forward operands.
Status forwardOperandCount(const KernelDesc &desc, const ops::OpSchema &schema, size_t &numOperands,
                           size_t &numResults) {
  const size_t total = desc.inputs.size();
  int64_t declared = -1;
  if (desc.attrs.has("num_forward_operands"))
    DLC_TRY(ops::detail::readInt(desc.attrs, "num_forward_operands", true, declared));
  if (declared >= 0) {
    if (declared < 1 || size_t(declared) >= total || (total - size_t(declared)) % 2 != 0)
      return fail("num_forward_operands ", declared, " does not fit ", total, " inputs");
    numOperands = size_t(declared);
    numResults = (total - numOperands) / 2;
    return Status();
  }
  if (schema.numResults >= 0) {
    numResults = size_t(schema.numResults);
    if (numResults == 0 || total < 2 * numResults + 1)
      return fail("expected the forward operands, the forward result and its gradient "
                  "(at least 3 inputs), got ",
                  total);
    numOperands = total - 2 * numResults;
    return Status();
  }
  // A variadic number of results: the forward operand count must be fixed.
  size_t fixed = 0;
  for (size_t i = 0; i < schema.numOperands; ++i) {
    if (schema.operands[i].arity != ops::Arity::Single)
      return fail("backward kernel of an op with a variadic result count needs "
                  "num_forward_operands");
    ++fixed;
  }
  if (total < fixed + 2 || (total - fixed) % 2 != 0)
    return fail("expected ", fixed, " + 2k inputs (the forward operand", fixed == 1 ? "" : "s",
                ", k results, k result gradients), got ", total);
  numOperands = fixed;
  numResults = (total - fixed) / 2;
  return Status();
}

Status validateGradient(const KernelDesc &desc, const ops::OpSchema &schema) {
  size_t n = 0, r = 0;
  DLC_TRY(forwardOperandCount(desc, schema, n, r));
  std::vector<Shape> operands(desc.inputs.begin(), desc.inputs.begin() + n);
  std::vector<Shape> results(desc.inputs.begin() + n, desc.inputs.begin() + n + r);
  if (Status s = validateForward(schema, desc.attrs, operands, results); s.failed())
    return fail("forward: ", s.message());
  for (size_t k = 0; k < r; ++k)
    if (desc.inputs[n + r + k] != desc.inputs[n + k])
      return fail("gradient of result ", k, " (input ", n + r + k, ") has shape ",
                  shapeToString(desc.inputs[n + r + k]), ", expected the result's ",
                  shapeToString(desc.inputs[n + k]));
  std::vector<int64_t> wrt;
  DLC_TRY(ops::detail::readInts(desc.attrs, "wrt", true, wrt));
  if (wrt.empty())
    return fail("attribute 'wrt' is empty");
  for (size_t k = 0; k < wrt.size(); ++k) {
    int64_t i = wrt[k];
    if (i < 0 || i >= int64_t(n))
      return fail("wrt entry ", i, " is not a forward operand index (0..", n - 1, ")");
    if (k > 0 && i <= wrt[k - 1])
      return fail("attribute 'wrt' must be strictly ascending");
    ops::Role role;
    DLC_TRY(ops::operandRole(schema, n, size_t(i), role));
    if (!ops::isDifferentiable(role))
      return fail("operand ", i, " has no gradient (role ", ops::roleName(role),
                  "; wrt must not include it)");
  }
  if (desc.outputs.size() != wrt.size())
    return fail("expected ", wrt.size(), " output(s) (one per wrt entry), got ",
                desc.outputs.size());
  for (size_t k = 0; k < wrt.size(); ++k)
    if (desc.outputs[k] != desc.inputs[size_t(wrt[k])])
      return fail("output ", k, " has shape ", shapeToString(desc.outputs[k]),
                  ", expected the shape of operand ", wrt[k], " (",
                  shapeToString(desc.inputs[size_t(wrt[k])]), ")");
  return Status();
}

} // namespace

/// A fused kernel: every step valid on its own, reading values defined
/// before it with their shapes, no nesting, no data-dependent sizes; the
/// outputs name values produced by steps. With `infer`, the steps' output
/// shapes and the kernel's outputs are computed rather than checked, and the
/// steps' shapes of `*reshape` (desc itself) are updated.
static std::vector<Shape> checkFused(const KernelDesc &desc, KernelDesc *reshape) {
  const bool infer = reshape != nullptr;
  if (desc.body.empty())
    desc.fail("a fused kernel needs at least one step");
  std::vector<Shape> values(desc.inputs.begin(), desc.inputs.end());
  std::vector<bool> isParam(desc.inputs.size());
  for (size_t i = 0; i < desc.inputs.size(); ++i)
    isParam[i] = desc.param(i);
  for (size_t s = 0; s < desc.body.size(); ++s) {
    // With `infer`, the step's shapes are updated in place.
    KernelDesc copy;
    if (!infer)
      copy = desc.body[s].desc;
    KernelDesc &step = infer ? reshape->body[s].desc : copy;
    const std::vector<int> &args = desc.body[s].args;
    const std::string where = "step " + std::to_string(s) + " (" + step.op + "): ";
    if (step.isFused())
      desc.fail(where + "a step cannot be a fused kernel");
    if (const ops::OpSchema *schema = ops::lookupOp(step.forwardOp());
        schema && schema->dataDependent)
      desc.fail(where + "an op with data-dependent sizes cannot be fused");
    if (args.size() != step.inputs.size())
      desc.fail(where + std::to_string(args.size()) + " arguments for " +
                std::to_string(step.inputs.size()) + " inputs");
    for (size_t j = 0; j < args.size(); ++j) {
      if (args[j] < 0 || size_t(args[j]) >= values.size())
        desc.fail(where + "argument " + std::to_string(j) + " is not a value defined before it");
      if (infer)
        step.inputs[j] = values[size_t(args[j])];
      else if (step.inputs[j] != values[size_t(args[j])])
        desc.fail(where + "input " + std::to_string(j) + " has shape " +
                  shapeToString(step.inputs[j]) + ", its value " +
                  shapeToString(values[size_t(args[j])]));
      if (size_t(args[j]) < desc.inputs.size() && step.param(j) != isParam[size_t(args[j])])
        desc.fail(where + "input " + std::to_string(j) + " disagrees with the fused kernel "
                  "on being a parameter");
    }
    if (infer)
      step.outputs = inferKernelOutputs(step);
    else
      validateKernelDesc(step);
    values.insert(values.end(), step.outputs.begin(), step.outputs.end());
  }
  if (!infer && desc.results.size() != desc.outputs.size())
    desc.fail(std::to_string(desc.results.size()) + " result values for " +
              std::to_string(desc.outputs.size()) + " outputs");
  std::vector<Shape> out;
  for (size_t o = 0; o < desc.results.size(); ++o) {
    int v = desc.results[o];
    for (size_t p = 0; p < o; ++p)
      if (desc.results[p] == v)
        desc.fail("outputs " + std::to_string(p) + " and " + std::to_string(o) +
                  " name the same value");
    if (v < int(desc.inputs.size()) || size_t(v) >= values.size())
      desc.fail("output " + std::to_string(o) + " is not a value produced by a step");
    if (!infer && desc.outputs[o] != values[size_t(v)])
      desc.fail("output " + std::to_string(o) + " has shape " + shapeToString(desc.outputs[o]) +
                ", its value " + shapeToString(values[size_t(v)]));
    out.push_back(values[size_t(v)]);
  }
  return out;
}

void reshapeFusedBody(KernelDesc &desc) {
  if (desc.isFused())
    checkFused(desc, &desc);
}

double kernelMacs(const KernelDesc &desc) {
  if (desc.isFused()) {
    double sum = 0;
    for (const FusedStep &step : desc.body)
      sum += kernelMacs(step.desc);
    return sum;
  }
  const ops::OpSchema *schema = ops::lookupOp(desc.forwardOp());
  if (!schema || !schema->work)
    return 0;
  std::vector<Shape> operands = desc.inputs;
  std::vector<int64_t> wrt;
  if (desc.isGradient()) {
    size_t n = 0, r = 0;
    if (forwardOperandCount(desc, *schema, n, r).failed() ||
        ops::detail::readInts(desc.attrs, "wrt", true, wrt).failed())
      return 0;
    operands.resize(n);
  }
  ops::Work w;
  if (ops::layerWork(*schema, desc.attrs, operands, w).failed())
    return 0;
  if (!desc.isGradient())
    return w.forward;
  // A kernel of weight gradients only, unless the op computes every
  // gradient in its data-gradient kernel (DL_JointBackward: no separate
  // weight work).
  bool weightsOnly = !wrt.empty();
  for (int64_t i : wrt) {
    ops::Role role = ops::Role::Data;
    if (ops::operandRole(*schema, operands.size(), size_t(i), role).failed() ||
        role != ops::Role::Weight)
      weightsOnly = false;
  }
  return weightsOnly && w.backwardWeights > 0 ? w.backwardWeights : w.backwardData;
}

std::vector<Shape> inferKernelOutputs(const KernelDesc &desc) {
  if (desc.isFused()) {
    KernelDesc copy = desc;
    return checkFused(copy, &copy);
  }
  const ops::OpSchema *schema = ops::lookupOp(desc.forwardOp());
  if (!schema)
    desc.fail("unknown op '" + desc.forwardOp() + "'");
  std::vector<Shape> out;
  if (desc.isGradient()) {
    size_t n = 0, r = 0;
    check(desc, forwardOperandCount(desc, *schema, n, r));
    std::vector<int64_t> wrt;
    check(desc, ops::detail::readInts(desc.attrs, "wrt", true, wrt));
    for (int64_t i : wrt) {
      if (i < 0 || size_t(i) >= n)
        desc.fail("wrt entry " + std::to_string(i) + " is not a forward operand index");
      out.push_back(desc.inputs[size_t(i)]);
    }
    return out;
  }
  std::vector<std::optional<Shape>> operands(desc.inputs.begin(), desc.inputs.end()), results;
  check(desc, ops::inferShapes(*schema, desc.attrs, operands,
                               schema->numResults < 0 ? int(desc.outputs.size()) : -1, results));
  for (size_t r = 0; r < results.size(); ++r) {
    if (!results[r])
      desc.fail("the shape rule gave no shape for result " + std::to_string(r));
    Shape s = *results[r];
    for (size_t d = 0; d < s.size(); ++d)
      if (s[d] == ops::kAnyDim)
        s[d] = r < desc.inputs.size() && d < desc.inputs[r].size() ? desc.inputs[r][d] : 0;
    out.push_back(std::move(s));
  }
  return out;
}

/// The layouts (docs/layouts.md): one block per input / output when given,
/// each valid for its tensor's shape.
static void validateLayouts(const KernelDesc &desc) {
  auto checkList = [&](const std::vector<int> &blocks, const std::vector<Shape> &shapes,
                       const char *what) {
    if (blocks.empty())
      return;
    if (blocks.size() != shapes.size())
      desc.fail(std::string(what) + " layouts: " + std::to_string(blocks.size()) +
                " entries for " + std::to_string(shapes.size()) + " tensors");
    for (size_t i = 0; i < blocks.size(); ++i)
      if (!ops::isValidBlock(blocks[i]) || !ops::isBlockable(shapes[i], blocks[i]))
        desc.fail(std::string(what) + " " + std::to_string(i) + " (" +
                  shapeToString(shapes[i]) + ") cannot have layout " +
                  ops::layoutName(blocks[i]));
  };
  checkList(desc.inBlocks, desc.inputs, "input");
  checkList(desc.outBlocks, desc.outputs, "output");
}

void validateKernelDesc(const KernelDesc &desc) {
  if (!desc.isParam.empty() && desc.isParam.size() != desc.inputs.size())
    desc.fail("isParam has " + std::to_string(desc.isParam.size()) + " entries for " +
              std::to_string(desc.inputs.size()) + " inputs");
  validateLayouts(desc);
  if (desc.isFused()) {
    checkFused(desc, nullptr);
    return;
  }
  if (!desc.body.empty())
    desc.fail("only a fused kernel has a body");
  const std::string op = desc.forwardOp();
  const ops::OpSchema *schema = ops::lookupOp(op);
  if (!schema)
    desc.fail("unknown op '" + op + "'");
  if (!desc.isParam.empty() && desc.isParam.size() != desc.inputs.size())
    desc.fail("isParam has " + std::to_string(desc.isParam.size()) + " entries for " +
              std::to_string(desc.inputs.size()) + " inputs");
  if (desc.isGradient()) {
    if (!schema->differentiable)
      desc.fail("op '" + op + "' has no gradient");
    check(desc, validateGradient(desc, *schema));
  } else {
    check(desc, validateForward(*schema, desc.attrs, desc.inputs, desc.outputs));
  }
}

} // namespace dlc::rt
