//===- OpSchema.cpp - The op table, operand resolution, attribute readers -===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
#include "dlc/Ops/Ops.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>

namespace dlc::ops {

int64_t mulSat(int64_t a, int64_t b) {
  int64_t p;
  if (!__builtin_mul_overflow(a, b, &p))
    return p;
  return (a < 0) == (b < 0) ? INT64_MAX : INT64_MIN;
}

int64_t numElements(const Shape &shape) {
  int64_t n = 1;
  for (int64_t d : shape)
    n = mulSat(n, d);
  return n;
}

std::string fmtShape(const Shape &s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i)
      r += ", ";
    r += s[i] == kAnyDim ? std::string("?") : std::to_string(s[i]);
  }
  return r + "]";
}

std::string fmtX(const std::vector<int64_t> &v) {
  std::string r;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i)
      r += "x";
    r += std::to_string(v[i]);
  }
  return r;
}

std::string shapeToString(const Shape &shape) { return shape.empty() ? "scalar" : fmtX(shape); }

const char *attrTypeName(const AttrMap::Value &v) {
  switch (v.index()) {
  case 0:
    return "an integer";
  case 1:
    return "a float";
  case 2:
    return "a string";
  case 3:
    return "an integer array";
  case 4:
    return "a float array";
  }
  return "an unknown type";
}

bool allKnown(const std::vector<Arg> &args) {
  return std::all_of(args.begin(), args.end(), [](const Arg &a) { return a.known(); });
}

const char *roleName(Role role) {
  switch (role) {
  case Role::Data:
    return "data";
  case Role::Weight:
    return "weight";
  case Role::Statistic:
    return "statistic";
  case Role::Label:
    return "label";
  case Role::Index:
    return "index";
  case Role::Binary:
    return "binary";
  case Role::Cont:
    return "cont";
  case Role::SequenceMask:
    return "mask";
  case Role::ShapeOnly:
    return "shape";
  case Role::Constant:
    return "constant";
  }
  return "?";
}

const AttrSchema *OpSchema::findAttr(std::string_view n) const {
  for (size_t i = 0; i < numAttrs; ++i)
    if (n == attrs[i].name)
      return &attrs[i];
  return nullptr;
}

const OpSchema *lookupOp(std::string_view name) {
  for (size_t i = 0; i < detail::kNumOpSchemas; ++i)
    if (name == detail::kOpSchemas[i].name)
      return &detail::kOpSchemas[i];
  return nullptr;
}

std::vector<const OpSchema *> allOps() {
  std::vector<const OpSchema *> r;
  for (size_t i = 0; i < detail::kNumOpSchemas; ++i)
    r.push_back(&detail::kOpSchemas[i]);
  return r;
}

Status resolveOperands(const OpSchema &op, size_t count, std::vector<OperandSpan> &spans,
                       const std::vector<int32_t> *segments) {
  spans.assign(op.numOperands, OperandSpan{});
  if (segments && segments->size() == op.numOperands) {
    size_t at = 0;
    for (size_t i = 0; i < op.numOperands; ++i) {
      int32_t n = (*segments)[i];
      bool ok = n >= 0 && (op.operands[i].arity == Arity::Variadic ||
                           n <= (op.operands[i].arity == Arity::Optional ? 1 : 1)) &&
                (op.operands[i].arity != Arity::Single || n == 1);
      if (!ok)
        return fail("operand segment ", i, " ('", op.operands[i].name, "') has size ", n);
      spans[i] = {at, size_t(n)};
      at += size_t(n);
    }
    if (at != count)
      return fail("operand segments cover ", at, " input(s), got ", count);
    return Status();
  }
  // Without segments: optional operands are all present or all absent,
  // except a sequence mask (Role::SequenceMask), which a pass adds on its
  // own (dl-skip-masked-steps); a variadic operand takes the rest.
  size_t required = 0, grouped = 0, independent = 0, variadic = 0;
  for (size_t i = 0; i < op.numOperands; ++i) {
    switch (op.operands[i].arity) {
    case Arity::Single:
      ++required;
      break;
    case Arity::Optional:
      ++(op.operands[i].role == Role::SequenceMask ? independent : grouped);
      break;
    case Arity::Variadic:
      ++variadic;
      break;
    }
  }
  bool groupedPresent = false, independentPresent = false;
  size_t variadicSize = 0;
  bool ok = count >= required;
  std::vector<size_t> valid; // the counts that resolve, for the message
  if (variadic) {
    // Ops with a variadic operand have no optional ones (none has both).
    variadicSize = ok ? count - required : 0;
  } else {
    int matches = 0;
    for (bool g : {false, true})
      for (bool i : {false, true}) {
        if ((g && !grouped) || (i && !independent))
          continue;
        const size_t n = required + (g ? grouped : 0) + (i ? independent : 0);
        if (std::find(valid.begin(), valid.end(), n) == valid.end())
          valid.push_back(n);
        if (n == count) {
          ++matches;
          groupedPresent = g;
          independentPresent = i;
        }
      }
    ok = matches == 1;
  }
  if (!ok) {
    std::string want;
    if (variadic) {
      want = "at least " + std::to_string(required);
    } else {
      std::sort(valid.begin(), valid.end());
      const bool range = valid.size() == 2 && valid[1] == valid[0] + 1;
      for (size_t k = 0; k < valid.size(); ++k)
        want += std::string(k == 0                  ? ""
                            : range                 ? " to "
                            : k + 1 == valid.size() ? " or "
                                                    : ", ") +
                std::to_string(valid[k]);
    }
    return fail("expected ", want, " input(s), got ", count);
  }
  size_t at = 0;
  for (size_t i = 0; i < op.numOperands; ++i) {
    size_t n = 1;
    if (op.operands[i].arity == Arity::Optional)
      n = (op.operands[i].role == Role::SequenceMask ? independentPresent : groupedPresent) ? 1
                                                                                           : 0;
    else if (op.operands[i].arity == Arity::Variadic)
      n = variadicSize;
    spans[i] = {at, n};
    at += n;
  }
  return Status();
}

Status operandRole(const OpSchema &op, size_t count, size_t index, Role &role,
                   const std::vector<int32_t> *segments) {
  std::vector<OperandSpan> spans;
  DLC_TRY(resolveOperands(op, count, spans, segments));
  for (size_t i = 0; i < spans.size(); ++i)
    if (index >= spans[i].begin && index < spans[i].begin + spans[i].size) {
      role = op.operands[i].role;
      return Status();
    }
  return fail("operand index ", index, " out of range for ", count, " operands");
}

namespace {
/// The value of integer attribute `name` (or its ODS default).
Status intAttrOrDefault(const OpSchema &op, const AttrMap &attrs, const char *name,
                        int64_t &out) {
  if (attrs.has(name))
    return detail::readInt(attrs, name, true, out);
  const AttrSchema *a = op.findAttr(name);
  if (!a || !*a->defaultValue)
    return fail("attribute '", name, "' of ", op.name, " has no value");
  out = std::strtoll(a->defaultValue, nullptr, 10);
  return Status();
}
} // namespace

Status valueRange(const OpSchema &op, const AttrMap &attrs, const std::vector<Shape> &operands,
                  size_t index, int64_t &range, const std::vector<int32_t> *segments) {
  std::vector<OperandSpan> spans;
  DLC_TRY(resolveOperands(op, operands.size(), spans, segments));
  const OperandSchema *spec = nullptr;
  for (size_t i = 0; i < spans.size(); ++i)
    if (index >= spans[i].begin && index < spans[i].begin + spans[i].size)
      spec = &op.operands[i];
  if (!spec || (spec->role != Role::Label && spec->role != Role::Index))
    return fail("operand ", index, " of ", op.name, " is not a label or an index");
  if (!*spec->rangeOf)
    return intAttrOrDefault(op, attrs, spec->rangeAxis, range);
  const Shape *of = nullptr;
  for (size_t i = 0; i < spans.size(); ++i)
    if (std::strcmp(op.operands[i].name, spec->rangeOf) == 0 && spans[i].size == 1)
      of = &operands[spans[i].begin];
  if (!of)
    return fail(op.name, " has no operand '", spec->rangeOf, "'");
  int64_t axis = 0;
  std::string a = spec->rangeAxis;
  bool toEnd = !a.empty() && a.back() == '+';
  if (toEnd)
    a.pop_back();
  if (!a.empty() && (a[0] == '-' || (a[0] >= '0' && a[0] <= '9')))
    axis = std::strtoll(a.c_str(), nullptr, 10);
  else
    DLC_TRY(intAttrOrDefault(op, attrs, a.c_str(), axis));
  int64_t rank = int64_t(of->size());
  if (axis < -rank || axis >= rank)
    return fail(op.name, " axis ", axis, " out of range for rank ", rank);
  axis = axis < 0 ? axis + rank : axis;
  range = (*of)[size_t(axis)];
  if (toEnd)
    for (int64_t i = axis + 1; i < rank; ++i)
      range = mulSat(range, (*of)[size_t(i)]);
  return Status();
}

bool backwardNeedsOperandCount(const OpSchema &op) {
  if (op.numResults >= 0)
    return false;
  for (size_t i = 0; i < op.numOperands; ++i)
    if (op.operands[i].arity != Arity::Single)
      return true;
  return false;
}

namespace {
Status runRule(const OpSchema &op, const AttrMap &attrs,
               const std::vector<std::optional<Shape>> &operands, int numResults,
               const std::vector<OperandSpan> &spans, std::vector<std::optional<Shape>> &results) {
  std::vector<Arg> flat;
  flat.reserve(operands.size());
  for (const auto &s : operands)
    flat.push_back(s ? Arg::of(*s) : Arg::unknown());
  Results r(numResults >= 0 ? numResults : op.numResults);
  DLC_TRY(op.infer(attrs, flat, spans, r));
  results = r.shapes();
  return Status();
}

bool hasAnyDim(const std::vector<std::optional<Shape>> &shapes) {
  for (const auto &s : shapes)
    if (s && std::find(s->begin(), s->end(), kAnyDim) != s->end())
      return true;
  return false;
}

// Stand-ins for an unknown (data-dependent) size when a rule runs on shapes
// with `?` dimensions: two primes, so that a result dimension that follows
// the unknown size is told apart from one that does not.
constexpr int64_t kProbes[2] = {7919, 7927};

/// `msg` with the probe values written as "?".
std::string unprobed(const std::string &msg) {
  std::string out;
  for (size_t i = 0; i < msg.size();) {
    if (!std::isdigit(static_cast<unsigned char>(msg[i]))) {
      out += msg[i++];
      continue;
    }
    size_t j = i;
    while (j < msg.size() && std::isdigit(static_cast<unsigned char>(msg[j])))
      ++j;
    std::string num = msg.substr(i, j - i);
    bool probe = num == std::to_string(kProbes[0]) || num == std::to_string(kProbes[1]);
    out += probe ? "?" : num;
    i = j;
  }
  return out;
}
} // namespace

Status inferShapes(const OpSchema &op, const AttrMap &attrs,
                   const std::vector<std::optional<Shape>> &operands, int numResults,
                   std::vector<std::optional<Shape>> &results,
                   const std::vector<int32_t> *segments) {
  std::vector<OperandSpan> spans;
  DLC_TRY(resolveOperands(op, operands.size(), spans, segments));
  if (!hasAnyDim(operands))
    return runRule(op, attrs, operands, numResults, spans, results);
  // Operands with data-dependent sizes: run the rule with each `?` replaced
  // by either probe; a result dimension equal to the probe in both runs is
  // `?` again, one equal in both runs is static, anything else is a size
  // computed from the unknown one, which the runtime cannot re-derive.
  std::vector<std::optional<Shape>> probed[2];
  for (int p = 0; p < 2; ++p) {
    std::vector<std::optional<Shape>> in = operands;
    for (auto &s : in)
      if (s)
        for (int64_t &d : *s)
          if (d == kAnyDim)
            d = kProbes[p];
    if (Status st = runRule(op, attrs, in, numResults, spans, probed[p]); st.failed())
      return fail(unprobed(st.message()));
  }
  results.clear();
  for (size_t i = 0; i < probed[0].size(); ++i) {
    const auto &a = probed[0][i], &b = probed[1][i];
    if (!a || !b || a->size() != b->size()) {
      results.emplace_back(std::nullopt);
      continue;
    }
    Shape out(a->size());
    for (size_t d = 0; d < a->size(); ++d) {
      if ((*a)[d] == (*b)[d])
        out[d] = (*a)[d];
      else if ((*a)[d] == kProbes[0] && (*b)[d] == kProbes[1])
        out[d] = kAnyDim;
      else
        return fail(op.name, " result ", i, " dimension ", d,
                    " would be computed from a data-dependent size (`?`, e.g. a filter's "
                    "count); only passing such a size through unchanged is supported");
    }
    results.emplace_back(std::move(out));
  }
  return Status();
}

Status layerWork(const OpSchema &op, const AttrMap &attrs, const std::vector<Shape> &operands,
                 Work &work, const std::vector<int32_t> *segments) {
  work = Work();
  if (!op.work)
    return Status();
  std::vector<OperandSpan> spans;
  DLC_TRY(resolveOperands(op, operands.size(), spans, segments));
  std::vector<Arg> flat;
  flat.reserve(operands.size());
  for (const Shape &s : operands)
    flat.push_back(Arg::of(s));
  return op.work(attrs, flat, spans, work);
}

std::string unknownAttribute(const OpSchema &op, const AttrMap &attrs,
                             std::initializer_list<const char *> allowed) {
  for (const auto &[name, value] : attrs.all()) {
    if (op.findAttr(name))
      continue;
    if (std::any_of(allowed.begin(), allowed.end(), [&](const char *a) {
          std::string_view s(a);
          return !s.empty() && s.back() == '*' ? name.rfind(s.substr(0, s.size() - 1), 0) == 0
                                               : name == s;
        }))
      continue;
    return name;
  }
  return "";
}

//===----------------------------------------------------------------------===//
// Attribute readers
//===----------------------------------------------------------------------===//

namespace detail {
namespace {
Status mismatch(const char *name, const char *expected, const AttrMap::Value &v) {
  return fail("attribute '", name, "' must be ", expected, ", but it is ", attrTypeName(v));
}
Status missing(const char *name) { return fail("missing attribute '", name, "'"); }
} // namespace

Status readInt(const AttrMap &m, const char *name, bool required, int64_t &out) {
  const AttrMap::Value *v = m.find(name);
  if (!v)
    return required ? missing(name) : Status();
  if (auto *i = std::get_if<int64_t>(v)) {
    out = *i;
    return Status();
  }
  return mismatch(name, "an integer", *v);
}

Status readInt(const AttrMap &m, const char *name, bool required, std::optional<int64_t> &out) {
  if (!m.has(name))
    return required ? missing(name) : Status();
  int64_t v = 0;
  DLC_TRY(readInt(m, name, required, v));
  out = v;
  return Status();
}

Status readFloat(const AttrMap &m, const char *name, bool required, double &out) {
  const AttrMap::Value *v = m.find(name);
  if (!v)
    return required ? missing(name) : Status();
  if (auto *d = std::get_if<double>(v)) {
    out = *d;
    return Status();
  }
  if (auto *i = std::get_if<int64_t>(v)) {
    out = double(*i);
    return Status();
  }
  return mismatch(name, "a float", *v);
}

Status readBool(const AttrMap &m, const char *name, bool required, bool &out) {
  int64_t v = out ? 1 : 0;
  DLC_TRY(readInt(m, name, required, v));
  out = v != 0;
  return Status();
}

Status readString(const AttrMap &m, const char *name, bool required, std::string &out,
                  std::initializer_list<const char *> values, const char *what) {
  const AttrMap::Value *v = m.find(name);
  if (v) {
    auto *s = std::get_if<std::string>(v);
    if (!s)
      return mismatch(name, "a string", *v);
    out = *s;
  } else if (required) {
    return missing(name);
  }
  if (values.size() == 0 ||
      std::any_of(values.begin(), values.end(), [&](const char *x) { return out == x; }))
    return Status();
  std::string list;
  for (const char *x : values)
    list += (list.empty() ? "\"" : ", \"") + std::string(x) + "\"";
  return fail(what, " must be one of ", list, ", got \"", out, "\"");
}

Status readInts(const AttrMap &m, const char *name, bool required, std::vector<int64_t> &out) {
  const AttrMap::Value *v = m.find(name);
  if (!v)
    return required ? missing(name) : Status();
  if (auto *a = std::get_if<std::vector<int64_t>>(v)) {
    out = *a;
    return Status();
  }
  // An empty array carries no element type: accept an empty float array.
  if (auto *a = std::get_if<std::vector<double>>(v); a && a->empty()) {
    out.clear();
    return Status();
  }
  return mismatch(name, "an integer array", *v);
}

Status readFloats(const AttrMap &m, const char *name, bool required, std::vector<double> &out) {
  const AttrMap::Value *v = m.find(name);
  if (!v)
    return required ? missing(name) : Status();
  if (auto *a = std::get_if<std::vector<double>>(v)) {
    out = *a;
    return Status();
  }
  if (auto *a = std::get_if<std::vector<int64_t>>(v)) {
    out.assign(a->begin(), a->end());
    return Status();
  }
  return mismatch(name, "a float array", *v);
}

Arg singleArg(const std::vector<Arg> &flat, const OperandSpan &span) {
  return span.size ? flat[span.begin] : Arg();
}

std::vector<Arg> variadicArg(const std::vector<Arg> &flat, const OperandSpan &span) {
  return std::vector<Arg>(flat.begin() + span.begin, flat.begin() + span.begin + span.size);
}
} // namespace detail

#include "dlc/Ops/OpDefs.cpp.inc"

} // namespace dlc::ops
