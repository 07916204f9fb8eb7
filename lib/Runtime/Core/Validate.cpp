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
      ops::unknownAttribute(schema, attrs, {"impl", "wrt", "num_forward_operands"});
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

std::vector<Shape> inferKernelOutputs(const KernelDesc &desc) {
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

void validateKernelDesc(const KernelDesc &desc) {
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
