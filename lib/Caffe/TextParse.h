//===- TextParse.h - Protobuf text parsing with error recovery --*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// Internal to lib/Caffe. Protobuf's TextFormat parser stops at its first
// error; parseTextAllErrors() finds the statement (`field: value` or
// `field { ... }`) holding that error, blanks it out (keeping every other
// character's line and column) and parses again, so that one run reports
// every independent error in a file.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_LIB_CAFFE_TEXTPARSE_H
#define DLC_LIB_CAFFE_TEXTPARSE_H

#include <google/protobuf/message.h>
#include <google/protobuf/text_format.h>

#include <cstddef>
#include <string>
#include <vector>

namespace dlc::caffe_fe::detail {

/// Line/column conversion for one text. Protobuf reports 0-based lines and
/// 0-based columns in which a tab advances to the next multiple of 8; dlc
/// reports 1-based lines and 1-based byte columns (like clang).
class SourceText {
public:
  explicit SourceText(const std::string &text);
  /// Converts a protobuf position; line < 0 (no position) gives line 0.
  void toLineCol(int pbLine, int pbColumn, int &line, int &column) const;
  /// Byte offset of a protobuf position, or npos when outside the text.
  size_t toOffset(int pbLine, int pbColumn) const;
  /// The protobuf position of a byte offset.
  void toPbPosition(size_t offset, int &pbLine, int &pbColumn) const;
  const std::string &text() const { return text_; }

private:
  const std::string &text_;
  std::vector<size_t> lineStarts_;
};

/// One statement of a text-format message: [begin, end) byte range, and the
/// statements inside it when it is a `{ ... }` / `< ... >` block.
struct Statement {
  size_t begin = 0;
  size_t end = 0;
  /// A token where a field name belongs (for example the second value of
  /// `kernel_size: 3 3`).
  bool junk = false;
  std::vector<Statement> children;
};

/// Splits `text` into statements. Returns false when the braces or quotes do
/// not balance; `out` then holds the top-level statements completed before
/// the point of failure.
bool scanStatements(const std::string &text, std::vector<Statement> &out);

/// A parse error in protobuf's coordinates (0-based line, tab-expanded column;
/// line -1 when the error has no position).
struct RawError {
  int line = -1;
  int column = 0;
  std::string message;
};

/// Text re-parsed to find further errors, in all, at most: each error found
/// costs a parse of the whole file, so a large file with many errors would
/// otherwise take time quadratic in its size (a 256 MiB net file, minutes).
constexpr size_t kMaxRecoveryBytes = size_t(2) << 20;

/// Parses `text` into `msg` (strict: unknown fields and enum values are
/// errors). On success fills `tree` and returns true. On failure returns false
/// with every error found in `errors`, in file order (at most `maxErrors`;
/// fewer when the re-parsing would exceed kMaxRecoveryBytes, which sets
/// `*outOfBudget`).
bool parseTextAllErrors(const std::string &text, google::protobuf::Message &msg,
                        google::protobuf::TextFormat::ParseInfoTree *tree,
                        std::vector<RawError> &errors, size_t maxErrors = 100,
                        bool *outOfBudget = nullptr);

/// Rewrites protobuf's wording of a parse error into dlc's (for example
/// 'Message type "caffe.LayerParameter" has no field named "foo".' becomes
/// 'unknown field 'foo' in caffe.LayerParameter').
std::string rewordParseError(const std::string &message);

} // namespace dlc::caffe_fe::detail

#endif // DLC_LIB_CAFFE_TEXTPARSE_H
