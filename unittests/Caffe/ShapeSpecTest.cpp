//===- ShapeSpecTest.cpp - parseInputShapeSpec and formatDiagnostic -------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "dlc/Caffe/NetLoader.h"

#include <gtest/gtest.h>

using namespace dlc::caffe_fe;

namespace {

struct Parsed {
  bool ok;
  std::string name;
  std::vector<int64_t> shape;
  std::string error;
};

Parsed parse(const std::string &spec) {
  Parsed p;
  p.ok = parseInputShapeSpec(spec, p.name, p.shape, p.error);
  return p;
}

TEST(ShapeSpec, AcceptsXAndCommaForms) {
  Parsed a = parse("data=1x3x224x224");
  ASSERT_TRUE(a.ok) << a.error;
  EXPECT_EQ(a.name, "data");
  EXPECT_EQ(a.shape, (std::vector<int64_t>{1, 3, 224, 224}));

  Parsed b = parse("data=1,3,224,224");
  ASSERT_TRUE(b.ok) << b.error;
  EXPECT_EQ(b.shape, (std::vector<int64_t>{1, 3, 224, 224}));

  Parsed c = parse("  cont_sentence = 20X100 ");
  ASSERT_TRUE(c.ok) << c.error;
  EXPECT_EQ(c.name, "cont_sentence");
  EXPECT_EQ(c.shape, (std::vector<int64_t>{20, 100}));

  Parsed d = parse("label=64");
  ASSERT_TRUE(d.ok) << d.error;
  EXPECT_EQ(d.shape, (std::vector<int64_t>{64}));

  // Blob names may hold '/' and '=' never appears in dims: the last '=' splits.
  Parsed e = parse("inception/in=2x8");
  ASSERT_TRUE(e.ok) << e.error;
  EXPECT_EQ(e.name, "inception/in");
}

TEST(ShapeSpec, RefusesMalformedText) {
  for (const char *bad : {"data", "=1x3", "data=", "data=1xx3", "data=1x3x", "data=x3",
                          "data=1xabc", "data=1.5x3", "data=1 3"}) {
    Parsed p = parse(bad);
    EXPECT_FALSE(p.ok) << bad;
    EXPECT_FALSE(p.error.empty()) << bad;
  }
  EXPECT_NE(parse("data").error.find("expected NAME=DIMS"), std::string::npos);
  EXPECT_NE(parse("data=1xabc").error.find("not an integer: 'abc'"), std::string::npos);
}

TEST(ShapeSpec, RefusesZeroNegativeAndAbsurdSizes) {
  Parsed zero = parse("data=1x0x3");
  EXPECT_FALSE(zero.ok);
  EXPECT_NE(zero.error.find("dimension 1"), std::string::npos) << zero.error;
  EXPECT_NE(zero.error.find("positive"), std::string::npos) << zero.error;

  Parsed neg = parse("data=1x-3");
  EXPECT_FALSE(neg.ok);
  EXPECT_NE(neg.error.find("-3"), std::string::npos) << neg.error;

  // 2^21 * 2^20 = 2^41 elements.
  Parsed huge = parse("data=2097152x1048576");
  EXPECT_FALSE(huge.ok);
  EXPECT_NE(huge.error.find("absurd size"), std::string::npos) << huge.error;

  // Exactly 2^40 is still accepted.
  Parsed limit = parse("data=1048576x1048576");
  EXPECT_TRUE(limit.ok) << limit.error;

  // A dimension that does not even fit in 64 bits.
  Parsed overflow = parse("data=99999999999999999999999999x2");
  EXPECT_FALSE(overflow.ok);
  EXPECT_NE(overflow.error.find("absurd size"), std::string::npos) << overflow.error;
}

TEST(FormatDiagnostic, ClangStyle) {
  Diagnostic d;
  d.loc = {"net.prototxt", 12, 3};
  d.message = "unknown field 'foo'";
  EXPECT_EQ(formatDiagnostic(d), "net.prototxt:12:3: error: unknown field 'foo'");
  d.kind = Diagnostic::Kind::Warning;
  EXPECT_EQ(formatDiagnostic(d), "net.prototxt:12:3: warning: unknown field 'foo'");
  d.kind = Diagnostic::Kind::Note;
  d.loc.column = 0;
  EXPECT_EQ(formatDiagnostic(d), "net.prototxt:12: note: unknown field 'foo'");
  d.kind = Diagnostic::Kind::Error;
  d.loc.line = 0;
  EXPECT_EQ(formatDiagnostic(d), "net.prototxt: error: unknown field 'foo'");
}

} // namespace
