//===- dlc-tblgen.cpp - The op library generator --------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Reads the dl dialect's op definitions (DLOps.td, the same files mlir-tblgen
// reads) and writes the MLIR-free op library of lib/Ops that the compiler and
// the runtime share (docs/architecture.md, "One definition per op"):
//
//  --gen-op-lib-decls   for every layer op (DL_Op with dlKernel set):
//                       struct <Op>Attrs (one field per attribute, with the
//                       ODS default; read() type-checks an AttrMap),
//                       struct <Op>Operands (one Arg per operand) and the
//                       declaration of its shape rule
//                       `Status infer(const <Op>Attrs &, const <Op>Operands &,
//                       Results &)`, written by hand in lib/Ops/<Family>.cpp;
//                       and, for ops with dlWork set, of its work rule
//                       `Status work(const <Op>Attrs &, const <Op>Operands &,
//                       Work &)` (multiply-adds per direction);
//  --gen-op-lib-defs    the read() functions and the op table (operand
//                       roles, attribute kinds and defaults, loss and
//                       no-gradient traits, the shape- and work-rule entry
//                       points).
//
//===----------------------------------------------------------------------===//

#include "mlir/TableGen/Argument.h"
#include "mlir/TableGen/Attribute.h"
#include "mlir/TableGen/Operator.h"
#include "mlir/TableGen/Trait.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/TableGen/Error.h"
#include "llvm/TableGen/Main.h"
#include "llvm/TableGen/Record.h"
#include "llvm/TableGen/TableGenBackend.h"

#include <string>
#include <vector>

using namespace llvm;
using mlir::tblgen::Operator;

namespace {

enum Action { GenDecls, GenDefs };

cl::opt<Action> action(cl::desc("Action to perform:"),
                       cl::values(clEnumValN(GenDecls, "gen-op-lib-decls",
                                             "Op library declarations"),
                                  clEnumValN(GenDefs, "gen-op-lib-defs",
                                             "Op library definitions")));

/// One attribute as the op library sees it.
struct AttrInfo {
  std::string name;
  std::string kind;        // "Int", "Float", "Bool", "String", "Ints", "Floats"
  std::string cppType;     // field type
  std::string defaultExpr; // C++ initializer ("" for none)
  bool required = false;   // no default and not optional
  bool optional = false;   // OptionalAttr: std::optional<T>
  std::vector<std::string> values; // allowed string values (DL_Enum)
  std::string displayName;         // for messages ("eltwise operation")
};

/// One operand.
struct OperandInfo {
  std::string name;
  std::string arity; // "Single", "Optional", "Variadic"
  std::string role;  // "Data", "Weight", ...
  std::string rangeOf, rangeAxis;
};

struct OpInfo {
  std::string name;      // "convolution"
  std::string base;      // "Convolution" (C++ class name without "Op")
  std::string summary;
  std::vector<AttrInfo> attrs;
  std::vector<OperandInfo> operands;
  int numResults = 1;    // -1: variadic
  bool isLoss = false, noGradient = false, segmented = false, dataDependent = false,
       pointwise = false;
  bool work = false; // dlWork: a hand-written work rule (multiply-adds)
  std::string layout; // "Plain", "Any", "ChannelBlocked" (dlLayout)
};

std::string roleEnum(StringRef role) {
  if (role == "data")
    return "Data";
  if (role == "weight")
    return "Weight";
  if (role == "statistic")
    return "Statistic";
  if (role == "label")
    return "Label";
  if (role == "index")
    return "Index";
  if (role == "binary")
    return "Binary";
  if (role == "cont")
    return "Cont";
  if (role == "mask")
    return "SequenceMask";
  if (role == "shape")
    return "ShapeOnly";
  if (role == "constant")
    return "Constant";
  PrintFatalError("unknown operand role '" + role + "'");
}

/// Classifies an attribute by its base (storage) attribute.
AttrInfo attrInfo(StringRef name, const mlir::tblgen::Attribute &attr, const Record &def) {
  AttrInfo a;
  a.name = name.str();
  a.optional = attr.isOptional();
  a.required = !attr.isOptional() && !attr.hasDefaultValue();
  mlir::tblgen::Attribute base = attr.getBaseAttr();
  StringRef baseName = base.getAttrDefName();
  if (baseName == "I64Attr") {
    a.kind = "Int";
    a.cppType = "int64_t";
  } else if (baseName == "F64Attr") {
    a.kind = "Float";
    a.cppType = "double";
  } else if (baseName == "BoolAttr") {
    a.kind = "Bool";
    a.cppType = "bool";
  } else if (baseName == "StrAttr") {
    a.kind = "String";
    a.cppType = "std::string";
  } else if (baseName == "DenseI64ArrayAttr") {
    a.kind = "Ints";
    a.cppType = "std::vector<int64_t>";
  } else if (baseName == "DenseF64ArrayAttr") {
    a.kind = "Floats";
    a.cppType = "std::vector<double>";
  } else {
    PrintFatalError(def.getLoc(), "attribute '" + name + "' has a base attribute (" + baseName +
                                      ") the op library does not know");
  }
  if (attr.hasDefaultValue())
    a.defaultExpr = attr.getDefaultValue().str();
  if (const RecordVal *v = attr.getDef().getValue("dlValues"))
    if (auto *list = dyn_cast<ListInit>(v->getValue()))
      for (Init *e : list->getValues())
        a.values.push_back(cast<StringInit>(e)->getValue().str());
  return a;
}

/// The role record of an operand constraint (looking through Optional and
/// Variadic).
const Record *roleRecord(const Record *def) {
  while (def->isSubClassOf("Optional") || def->isSubClassOf("Variadic"))
    def = def->getValueAsDef("baseType");
  return def;
}

bool hasTrait(const Operator &op, StringRef name) {
  for (const mlir::tblgen::Trait &t : op.getTraits())
    if (const Record &d = t.getDef(); d.getName() == name)
      return true;
  return false;
}

std::vector<OpInfo> collectOps(const RecordKeeper &records) {
  std::vector<OpInfo> ops;
  for (const Record *def : records.getAllDerivedDefinitions("DL_Op")) {
    if (!def->getValueAsBit("dlKernel"))
      continue;
    Operator op(def);
    OpInfo info;
    std::string full = op.getOperationName();
    info.name = StringRef(full).drop_front(op.getDialectName().size() + 1).str();
    StringRef cls = op.getCppClassName();
    info.base = cls.ends_with("Op") ? cls.drop_back(2).str() : cls.str();
    info.summary = def->getValueAsString("summary").str();
    for (int i = 0, e = op.getNumOperands(); i < e; ++i) {
      const auto &operand = op.getOperand(i);
      OperandInfo o;
      o.name = operand.name.str();
      o.arity = operand.isVariadic() ? "Variadic" : operand.isOptional() ? "Optional" : "Single";
      const Record *r = roleRecord(&operand.constraint.getDef());
      if (!r->getValue("dlRole"))
        PrintFatalError(def->getLoc(), "operand '" + o.name + "' of " + full +
                                           " has no role (use DL_Tensor, DL_Weight, ...)");
      o.role = roleEnum(r->getValueAsString("dlRole"));
      o.rangeOf = r->getValueAsString("dlRangeOf").str();
      o.rangeAxis = r->getValueAsString("dlRangeAxis").str();
      info.operands.push_back(o);
    }
    for (const auto &na : op.getAttributes()) {
      if (na.attr.isDerivedAttr())
        continue;
      info.attrs.push_back(attrInfo(na.name, na.attr, *def));
    }
    for (const Record *extra : def->getValueAsListOfDefs("dlExtraAttrs")) {
      AttrInfo a;
      a.name = extra->getValueAsString("name").str();
      StringRef kind = extra->getValueAsString("kind");
      if (kind == "str") {
        a.kind = "String";
        a.cppType = "std::string";
      } else if (kind == "i64") {
        a.kind = "Int";
        a.cppType = "int64_t";
      } else if (kind == "f64") {
        a.kind = "Float";
        a.cppType = "double";
      } else if (kind == "bool") {
        a.kind = "Bool";
        a.cppType = "bool";
      } else {
        PrintFatalError(extra->getLoc(), "unknown extra attribute kind '" + kind + "'");
      }
      a.defaultExpr = extra->getValueAsString("defaultValue").str();
      for (StringRef v : extra->getValueAsListOfStrings("dlValues"))
        a.values.push_back(v.str());
      a.displayName = extra->getValueAsString("displayName").str();
      info.attrs.push_back(a);
    }
    info.numResults = op.getNumVariableLengthResults() ? -1 : op.getNumResults();
    info.isLoss = hasTrait(op, "DL_Loss");
    info.noGradient = hasTrait(op, "DL_NoGradient");
    info.dataDependent = hasTrait(op, "DL_DataDependentShape");
    info.pointwise = hasTrait(op, "DL_Pointwise");
    info.work = def->getValueAsBit("dlWork");
    StringRef layout = def->getValueAsString("dlLayout");
    if (layout == "plain")
      info.layout = "Plain";
    else if (layout == "any")
      info.layout = "Any";
    else if (layout == "channel_blocked")
      info.layout = "ChannelBlocked";
    else
      PrintFatalError(def->getLoc(), "unknown dlLayout '" + layout + "'");
    info.segmented = op.getTrait("::mlir::OpTrait::AttrSizedOperandSegments") != nullptr;
    ops.push_back(std::move(info));
  }
  return ops;
}

std::string cppString(StringRef s) {
  std::string r = "\"";
  r += s;
  r += "\"";
  return r;
}

void emitDecls(const std::vector<OpInfo> &ops, raw_ostream &os) {
  emitSourceFileHeader("dl op library declarations (dlc-tblgen --gen-op-lib-decls)", os);
  for (const OpInfo &op : ops) {
    os << "/// dl." << op.name << ": " << op.summary << ".\n";
    os << "struct " << op.base << "Attrs {\n";
    os << "  static constexpr const char *kOpName = " << cppString(op.name) << ";\n";
    for (const AttrInfo &a : op.attrs) {
      if (a.optional)
        os << "  std::optional<" << a.cppType << "> " << a.name << ";\n";
      else if (!a.defaultExpr.empty())
        os << "  " << a.cppType << " " << a.name << " = " << a.defaultExpr << ";\n";
      else
        os << "  " << a.cppType << " " << a.name << "{};\n";
    }
    os << "  /// Reads `attrs` (attribute types, required attributes, allowed\n"
          "  /// values); absent attributes keep their defaults.\n";
    os << "  static Status read(const AttrMap &attrs, " << op.base << "Attrs &out);\n";
    os << "};\n";
    os << "struct " << op.base << "Operands {\n";
    for (const OperandInfo &o : op.operands) {
      if (o.arity == "Variadic")
        os << "  std::vector<Arg> " << o.name << ";\n";
      else
        os << "  Arg " << o.name << ";" << (o.arity == "Optional" ? " // optional" : "") << "\n";
    }
    os << "};\n";
    os << "/// The shape rule of dl." << op.name << " (lib/Ops).\n";
    os << "Status infer(const " << op.base << "Attrs &attrs, const " << op.base
       << "Operands &operands, Results &results);\n";
    if (op.work) {
      os << "/// The work rule of dl." << op.name << " (lib/Ops): operands of known shape.\n";
      os << "Status work(const " << op.base << "Attrs &attrs, const " << op.base
         << "Operands &operands, Work &work);\n";
    }
    os << "\n";
  }
}

void emitDefs(const std::vector<OpInfo> &ops, raw_ostream &os) {
  emitSourceFileHeader("dl op library definitions (dlc-tblgen --gen-op-lib-defs)", os);
  for (const OpInfo &op : ops) {
    // Attrs::read
    os << "Status " << op.base << "Attrs::read(const AttrMap &attrs, " << op.base
       << "Attrs &out) {\n";
    for (const AttrInfo &a : op.attrs) {
      std::string values = "{";
      for (size_t i = 0; i < a.values.size(); ++i)
        values += (i ? ", " : "") + cppString(a.values[i]);
      values += "}";
      os << "  if (Status s = detail::read" << a.kind << "(attrs, " << cppString(a.name) << ", "
         << (a.required ? "true" : "false") << ", out." << a.name;
      if (a.kind == "String")
        os << ", " << values << ", " << cppString(a.displayName.empty() ? a.name : a.displayName);
      os << "); s.failed())\n    return s;\n";
    }
    os << "  return Status();\n}\n\n";
  }
  os << "namespace {\n";
  for (const OpInfo &op : ops) {
    os << "const OperandSchema k" << op.base << "Operands[] = {\n";
    for (const OperandInfo &o : op.operands)
      os << "    {" << cppString(o.name) << ", Arity::" << o.arity << ", Role::" << o.role << ", "
         << cppString(o.rangeOf) << ", " << cppString(o.rangeAxis) << "},\n";
    if (op.operands.empty())
      os << "    {nullptr, Arity::Single, Role::Data, \"\", \"\"},\n";
    os << "};\n";
    os << "const AttrSchema k" << op.base << "AttrSchema[] = {\n";
    for (const AttrInfo &a : op.attrs) {
      std::string values;
      for (size_t i = 0; i < a.values.size(); ++i)
        values += (i ? "|" : "") + a.values[i];
      os << "    {" << cppString(a.name) << ", AttrKind::" << a.kind << ", "
         << (a.required ? "true" : "false") << ", " << (a.optional ? "true" : "false") << ", "
         << "R\"dlc(" << a.defaultExpr << ")dlc\", " << cppString(values) << "},\n";
    }
    if (op.attrs.empty())
      os << "    {nullptr, AttrKind::Int, false, false, \"\", \"\"},\n";
    os << "};\n";
    // The rules' entry points: typed attributes and operands, then the
    // hand-written rule `rule(a, o, out)`.
    auto entryPoint = [&](const char *rule, const char *outType) {
      os << "Status " << rule << op.base
         << "(const AttrMap &attrs, const std::vector<Arg> &flat, "
            "const std::vector<OperandSpan> &spans, "
         << outType << " &out) {\n";
      os << "  " << op.base << "Attrs a;\n";
      os << "  if (Status s = " << op.base << "Attrs::read(attrs, a); s.failed())\n    return s;\n";
      os << "  " << op.base << "Operands o;\n";
      for (size_t i = 0; i < op.operands.size(); ++i) {
        const OperandInfo &o = op.operands[i];
        os << "  o." << o.name << " = detail::"
           << (o.arity == "Variadic" ? "variadicArg" : "singleArg") << "(flat, spans[" << i
           << "]);\n";
      }
      os << "  return " << rule << "(a, o, out);\n}\n";
    };
    entryPoint("infer", "Results");
    if (op.work)
      entryPoint("work", "Work");
  }
  os << "} // namespace\n\n";
  os << "const OpSchema detail::kOpSchemas[] = {\n";
  for (const OpInfo &op : ops)
    os << "    {" << cppString(op.name) << ", k" << op.base << "Operands, "
       << op.operands.size() << ", k" << op.base << "AttrSchema, " << op.attrs.size() << ", "
       << op.numResults << ", " << (op.isLoss ? "true" : "false") << ", "
       << (op.noGradient ? "false" : "true") << ", " << (op.segmented ? "true" : "false")
       << ", " << (op.dataDependent ? "true" : "false") << ", "
       << (op.pointwise ? "true" : "false") << ", LayoutClass::" << op.layout << ", &infer"
       << op.base << ", " << (op.work ? "&work" + op.base : std::string("nullptr")) << "},\n";
  os << "};\n";
  os << "const size_t detail::kNumOpSchemas = " << ops.size() << ";\n";
}

bool generate(raw_ostream &os, RecordKeeper &records) {
  std::vector<OpInfo> ops = collectOps(records);
  if (action == GenDecls)
    emitDecls(ops, os);
  else
    emitDefs(ops, os);
  return false;
}

} // namespace

int main(int argc, char **argv) {
  InitLLVM y(argc, argv);
  cl::ParseCommandLineOptions(argc, argv);
  return TableGenMain(argv[0], &generate);
}
