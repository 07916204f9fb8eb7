//===- OpSchema.h - The MLIR-free description of every dl op ----*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The op library shared by the compiler and the runtime (docs/architecture.md,
// "One definition per op"). For every layer op of the dl dialect, generated
// from its ODS definition by dlc-tblgen:
//  - an OpSchema: operands with their roles, attributes with their kinds and
//    defaults, result count, whether it is a loss / has a gradient;
//  - `<Op>Attrs`: the attributes as typed fields with the ODS defaults,
//    read from an AttrMap;
//  - `<Op>Operands`: one Arg (a possibly unknown shape) per operand;
//  - the op's shape rule `infer(<Op>Attrs, <Op>Operands, Results)`, written
//    once by hand in lib/Ops/<Family>.cpp: Caffe's Reshape/LayerSetUp checks
//    with Caffe-worded messages and the result shapes.
// The dialect's type inference and verifiers call the rules through
// inferShapes(); the runtime validates every kernel with the same call
// before any backend sees it. Nothing here depends on MLIR or throws.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_OPS_OPSCHEMA_H
#define DLC_OPS_OPSCHEMA_H

#include "dlc/Support/Status.h"

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace dlc::ops {

using Shape = std::vector<int64_t>;

/// a * b, saturated at INT64_MAX (INT64_MIN) instead of overflowing: shapes
/// and shape attributes come from files, and a saturated count fails every
/// check against a real one.
int64_t mulSat(int64_t a, int64_t b);
/// Number of elements of a shape (1 for rank 0), saturated (mulSat).
int64_t numElements(const Shape &shape);
/// "[2, 3, 4]" ("?" for kAnyDim entries), the compiler's message form.
std::string fmtShape(const Shape &shape);
/// "2x3x4" ("scalar" for rank 0), the runtime's message form.
std::string shapeToString(const Shape &shape);
/// "2x3" without the scalar special case (kernel sizes etc.).
std::string fmtX(const std::vector<int64_t> &v);
/// A dimension that is not known (in expected shapes of messages).
constexpr int64_t kAnyDim = INT64_MIN;

//===----------------------------------------------------------------------===//
// Attributes
//===----------------------------------------------------------------------===//

/// An op's attributes by name, as the module stores them and the compiler's
/// attribute dictionary converts to. Booleans are integers (0/1).
class AttrMap {
public:
  using Value = std::variant<int64_t, double, std::string, std::vector<int64_t>,
                             std::vector<double>>;
  void set(const std::string &name, Value value) { values_[name] = std::move(value); }
  bool has(const std::string &name) const { return values_.count(name) != 0; }
  const Value *find(const std::string &name) const {
    auto it = values_.find(name);
    return it == values_.end() ? nullptr : &it->second;
  }
  void erase(const std::string &name) { values_.erase(name); }
  const std::map<std::string, Value> &all() const { return values_; }

private:
  std::map<std::string, Value> values_;
};

/// "an integer", "a float", ... for messages.
const char *attrTypeName(const AttrMap::Value &v);

//===----------------------------------------------------------------------===//
// Operand shapes and results as shape rules see them
//===----------------------------------------------------------------------===//

/// One operand of a shape rule: absent (an optional operand not given),
/// unknown (compile time, before shape inference) or a known shape.
class Arg {
public:
  Arg() = default;
  static Arg unknown() { return Arg(nullptr, true); }
  static Arg of(const Shape &s) { return Arg(&s, true); }
  bool present() const { return present_; }
  bool known() const { return shape_ != nullptr; }
  explicit operator bool() const { return known(); }
  const Shape &operator*() const { return *shape_; }
  const Shape *operator->() const { return shape_; }
  /// The shape's rank (requires known()).
  int64_t rank() const { return int64_t(shape_->size()); }

private:
  Arg(const Shape *s, bool present) : shape_(s), present_(present) {}
  const Shape *shape_ = nullptr;
  bool present_ = false;
};

/// True when every arg is known.
bool allKnown(const std::vector<Arg> &args);

/// The arithmetic of one run of a layer, in multiply-adds (a work rule's
/// answer; dlrun --bench reports 2 x these / time as achieved GFLOP/s).
/// `backwardData` covers the kernel of role backward-data (for ops with
/// DL_JointBackward, one kernel computing every gradient, all of them).
struct Work {
  double forward = 0, backwardData = 0, backwardWeights = 0;
};

/// The result shapes a rule produces, in order.
class Results {
public:
  /// `expected`: the number of results when the caller knows it (a variadic
  /// op's existing results), -1 otherwise.
  explicit Results(int expected = -1) : expected_(expected) {}
  int expected() const { return expected_; }
  Status add(Shape s) {
    shapes_.emplace_back(std::move(s));
    return Status();
  }
  Status addUnknown() {
    shapes_.emplace_back(std::nullopt);
    return Status();
  }
  /// The shape of `a` (same-shape ops), or unknown.
  Status same(const Arg &a) { return a ? add(*a) : addUnknown(); }
  Status scalar() { return add({}); }
  const std::vector<std::optional<Shape>> &shapes() const { return shapes_; }

private:
  int expected_;
  std::vector<std::optional<Shape>> shapes_;
};

//===----------------------------------------------------------------------===//
// The op table
//===----------------------------------------------------------------------===//

/// What an operand is to its layer (DLDialect.td, "Operand roles").
enum class Role : uint8_t {
  Data,
  Weight,
  Statistic,
  Label,
  Index,
  Binary,
  Cont,
  SequenceMask,
  ShapeOnly,
  Constant
};
/// "data", "weight", "statistic", "label", "index", "binary", "cont",
/// "mask", "shape", "constant".
const char *roleName(Role role);
/// Data and weights get gradients; the other roles never do.
inline bool isDifferentiable(Role role) { return role == Role::Data || role == Role::Weight; }

enum class Arity : uint8_t { Single, Optional, Variadic };
enum class AttrKind : uint8_t { Int, Float, Bool, String, Ints, Floats };

struct OperandSchema {
  const char *name;
  Arity arity;
  Role role;
  /// Labels and indices: integers in [0, R), R = size of operand `rangeOf`
  /// along `rangeAxis` (an attribute name or an integer; with a trailing "+"
  /// the product of the sizes from that axis on), or with `rangeOf` empty
  /// the value of attribute `rangeAxis`.
  const char *rangeOf;
  const char *rangeAxis;
};

struct AttrSchema {
  const char *name;
  AttrKind kind;
  bool required;
  bool optional;            ///< may be absent (no default)
  const char *defaultValue; ///< C++ initializer from ODS ("" if none)
  const char *values;       ///< allowed string values, '|'-separated ("" = any)
};

/// The begin and size of one ODS operand in an op's flat operand list.
struct OperandSpan {
  size_t begin = 0, size = 0;
};

/// The storage layouts an op's data may have (docs/layouts.md; ODS
/// `dlLayout`).
enum class LayoutClass : uint8_t {
  Plain,         ///< Caffe's row-major layout only
  Any,           ///< element-wise: all data operands and results in one layout
  ChannelBlocked ///< rank-4 data operands/results may be nChw8c / nChw16c
};

struct OpSchema {
  const char *name; ///< op name without "dl."
  const OperandSchema *operands;
  size_t numOperands;
  const AttrSchema *attrs;
  size_t numAttrs;
  int numResults; ///< -1: variadic
  bool isLoss;
  bool differentiable;
  /// Operand groups are sized by an attribute (AttrSizedOperandSegments).
  bool segmented;
  /// Result sizes depend on operand values (DL_DataDependentShape): the rule
  /// gives those dimensions as kAnyDim; result i is bounded by operand i.
  bool dataDependent;
  /// Element-wise and unary (DL_Pointwise): output i depends on input i only,
  /// same shape; fusible after any producer.
  bool pointwise;
  /// Which storage layouts its data may have (docs/layouts.md).
  LayoutClass layout;
  Status (*infer)(const AttrMap &, const std::vector<Arg> &,
                  const std::vector<OperandSpan> &, Results &);
  /// The work rule (dlWork in ODS), or nullptr: the op counts no
  /// multiply-adds (element-wise, data movement, reductions).
  Status (*work)(const AttrMap &, const std::vector<Arg> &, const std::vector<OperandSpan> &,
                 Work &);

  const AttrSchema *findAttr(std::string_view name) const;
};

/// The schema of dl op `name` (without "dl."), or nullptr.
const OpSchema *lookupOp(std::string_view name);
/// Every layer op, in definition order.
std::vector<const OpSchema *> allOps();

/// Maps `count` actual operands onto the op's ODS operands. Optional
/// operands are all present or all absent unless `segments` (the
/// operandSegmentSizes of a segmented op) says; a variadic operand takes the
/// rest. Fails with "expected 2 to 3 input(s), got 4" and the like.
Status resolveOperands(const OpSchema &op, size_t count, std::vector<OperandSpan> &spans,
                       const std::vector<int32_t> *segments = nullptr);

/// Whether a backward kernel of `op` must say how many of its inputs are
/// forward operands (num_forward_operands): both the operand count and the
/// result count of `op` vary.
bool backwardNeedsOperandCount(const OpSchema &op);

/// The role of actual operand `index` of an op with `count` operands.
Status operandRole(const OpSchema &op, size_t count, size_t index, Role &role,
                   const std::vector<int32_t> *segments = nullptr);

/// For a label or index operand (actual operand `index` of an op with
/// `operands` shapes and `attrs`): the R of its values' range [0, R), as the
/// op definition declares it (OperandSchema::rangeOf / rangeAxis). Fails
/// for other roles.
Status valueRange(const OpSchema &op, const AttrMap &attrs, const std::vector<Shape> &operands,
                  size_t index, int64_t &range, const std::vector<int32_t> *segments = nullptr);

/// Applies op's shape rule: `operands` in operand order (nullopt: unknown
/// shape), `numResults` the number of results if known (-1 otherwise).
/// Fills `results` (nullopt: unknown) or returns the rule's error.
Status inferShapes(const OpSchema &op, const AttrMap &attrs,
                   const std::vector<std::optional<Shape>> &operands, int numResults,
                   std::vector<std::optional<Shape>> &results,
                   const std::vector<int32_t> *segments = nullptr);

/// The multiply-adds of one run of `op` on operands of these shapes (every
/// operand known, in operand order): the op's work rule, zeros without
/// one.
Status layerWork(const OpSchema &op, const AttrMap &attrs, const std::vector<Shape> &operands,
                 Work &work, const std::vector<int32_t> *segments = nullptr);

/// Attributes of `attrs` that `op` does not declare (names in `allowed` are
/// accepted too; an entry ending in '*' accepts every name it begins);
/// returns the first one, or "".
std::string unknownAttribute(const OpSchema &op, const AttrMap &attrs,
                             std::initializer_list<const char *> allowed = {});

namespace detail {
extern const OpSchema kOpSchemas[];
extern const size_t kNumOpSchemas;

// Typed attribute readers used by the generated <Op>Attrs::read().
Status readInt(const AttrMap &m, const char *name, bool required, int64_t &out);
Status readInt(const AttrMap &m, const char *name, bool required, std::optional<int64_t> &out);
Status readFloat(const AttrMap &m, const char *name, bool required, double &out);
Status readBool(const AttrMap &m, const char *name, bool required, bool &out);
Status readString(const AttrMap &m, const char *name, bool required, std::string &out,
                  std::initializer_list<const char *> values, const char *what);
Status readInts(const AttrMap &m, const char *name, bool required, std::vector<int64_t> &out);
Status readFloats(const AttrMap &m, const char *name, bool required, std::vector<double> &out);

Arg singleArg(const std::vector<Arg> &flat, const OperandSpan &span);
std::vector<Arg> variadicArg(const std::vector<Arg> &flat, const OperandSpan &span);
} // namespace detail

} // namespace dlc::ops

#endif // DLC_OPS_OPSCHEMA_H
