//===- TextParse.cpp - Protobuf text parsing with error recovery ----------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "TextParse.h"

#include <google/protobuf/io/tokenizer.h>

#include <algorithm>
#include <cctype>
#include <regex>
#include <set>
#include <tuple>

namespace dlc::caffe_fe::detail {

namespace pb = google::protobuf;

// Protobuf's tokenizer advances the column of a tab to the next multiple of 8.
static constexpr int kTabWidth = 8;

SourceText::SourceText(const std::string &text) : text_(text) {
  lineStarts_.push_back(0);
  for (size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n')
      lineStarts_.push_back(i + 1);
}

size_t SourceText::toOffset(int pbLine, int pbColumn) const {
  if (pbLine < 0 || static_cast<size_t>(pbLine) >= lineStarts_.size())
    return std::string::npos;
  size_t pos = lineStarts_[pbLine];
  int col = 0;
  while (pos < text_.size() && text_[pos] != '\n' && col < pbColumn) {
    col = text_[pos] == '\t' ? col + kTabWidth - col % kTabWidth : col + 1;
    ++pos;
  }
  return pos;
}

void SourceText::toPbPosition(size_t offset, int &pbLine, int &pbColumn) const {
  offset = std::min(offset, text_.size());
  auto it = std::upper_bound(lineStarts_.begin(), lineStarts_.end(), offset);
  size_t line = static_cast<size_t>(it - lineStarts_.begin()) - 1;
  int col = 0;
  for (size_t pos = lineStarts_[line]; pos < offset; ++pos)
    col = text_[pos] == '\t' ? col + kTabWidth - col % kTabWidth : col + 1;
  pbLine = static_cast<int>(line);
  pbColumn = col;
}

void SourceText::toLineCol(int pbLine, int pbColumn, int &line, int &column) const {
  if (pbLine < 0) {
    line = 0;
    column = 0;
    return;
  }
  line = pbLine + 1;
  size_t off = toOffset(pbLine, pbColumn);
  if (off == std::string::npos) {
    column = pbColumn + 1;
    return;
  }
  column = static_cast<int>(off - lineStarts_[pbLine]) + 1;
}

//===----------------------------------------------------------------------===//
// Statement scanner
//===----------------------------------------------------------------------===//

namespace {

/// A small scanner of protobuf text format that only needs to find where
/// statements begin and end: it knows comments, quoted strings, blocks and
/// lists, and treats anything else as value characters.
class Scanner {
public:
  explicit Scanner(const std::string &text) : s_(text) {}

  bool scanAll(std::vector<Statement> &out) {
    if (!scanBody(out, '\0'))
      return false;
    skipSpace();
    return pos_ == s_.size();
  }

private:
  static constexpr int kMaxDepth = 200;
  const std::string &s_;
  size_t pos_ = 0;
  int depth_ = 0;

  bool atEnd() const { return pos_ >= s_.size(); }

  void skipSpace() {
    while (!atEnd()) {
      char c = s_[pos_];
      if (c == '#') {
        while (!atEnd() && s_[pos_] != '\n')
          ++pos_;
      } else if (std::isspace(static_cast<unsigned char>(c))) {
        ++pos_;
      } else {
        return;
      }
    }
  }

  static bool isStructural(char c) {
    return c == '{' || c == '}' || c == '<' || c == '>' || c == '[' || c == ']' || c == ':' ||
           c == ';' || c == ',' || c == '#' || c == '"' || c == '\'';
  }

  bool scanString() {
    char quote = s_[pos_++];
    while (!atEnd()) {
      char c = s_[pos_++];
      if (c == '\\') {
        if (atEnd())
          return false;
        ++pos_;
      } else if (c == quote) {
        return true;
      } else if (c == '\n') {
        return false;
      }
    }
    return false;
  }

  /// A run of value characters (identifier, number, sign).
  void scanWord() {
    while (!atEnd() && !isStructural(s_[pos_]) &&
           !std::isspace(static_cast<unsigned char>(s_[pos_])))
      ++pos_;
  }

  /// Statements up to `close` ('\0' for the end of the text).
  bool scanBody(std::vector<Statement> &out, char close) {
    while (true) {
      skipSpace();
      if (atEnd())
        return close == '\0';
      char c = s_[pos_];
      if (c == '}' || c == '>') {
        if (c != close)
          return false;
        return true;
      }
      Statement st;
      if (!scanStatement(st))
        return false;
      out.push_back(std::move(st));
    }
  }

  bool scanStatement(Statement &st) {
    st.begin = pos_;
    char c = s_[pos_];
    if (c == '[') {
      // Extension or Any type name: [a.b.c]
      while (!atEnd() && s_[pos_] != ']' && s_[pos_] != '\n')
        ++pos_;
      if (atEnd() || s_[pos_] != ']')
        return false;
      ++pos_;
    } else if (c == '"' || c == '\'' || c == ':' || c == ';' || c == ',' || c == ']') {
      // Junk where a field name belongs: one token is a statement of its own.
      if (c == '"' || c == '\'') {
        if (!scanString())
          return false;
      } else {
        ++pos_;
      }
      st.end = pos_;
      st.junk = true;
      return true;
    } else if (c == '{' || c == '<') {
      // A block without a field name.
      return scanBlockValue(st);
    } else {
      scanWord();
    }
    size_t afterName = pos_;
    skipSpace();
    bool colon = false;
    if (!atEnd() && s_[pos_] == ':') {
      colon = true;
      ++pos_;
      skipSpace();
    }
    if (atEnd()) {
      st.end = colon ? pos_ : afterName;
      st.junk = !colon;
      return true;
    }
    c = s_[pos_];
    if (c == '{' || c == '<')
      return scanBlockValue(st);
    // Without ':' only a block may follow a name; a value on the same line is
    // taken as this field's (misspelt) value, anything else starts the next
    // statement and this name stands alone.
    if (!colon && s_.find('\n', afterName) < pos_) {
      pos_ = afterName;
      st.end = afterName;
      st.junk = true;
      return true;
    }
    if (c == '[') {
      if (!scanList())
        return false;
    } else if (c == '"' || c == '\'') {
      // Adjacent strings concatenate.
      while (!atEnd() && (s_[pos_] == '"' || s_[pos_] == '\'')) {
        if (!scanString())
          return false;
        size_t save = pos_;
        skipSpace();
        if (atEnd() || (s_[pos_] != '"' && s_[pos_] != '\'')) {
          pos_ = save;
          break;
        }
      }
    } else if (!isStructural(c)) {
      scanWord();
    } else if (!colon) {
      pos_ = afterName;
      st.end = afterName;
      st.junk = true;
      return true;
    }
    st.end = pos_;
    skipSeparator(st);
    return true;
  }

  bool scanBlockValue(Statement &st) {
    // Protobuf refuses deeper nesting anyway (its limit is 100); stop before
    // the recursion could exhaust the stack.
    if (++depth_ > kMaxDepth)
      return false;
    char open = s_[pos_++];
    char close = open == '{' ? '}' : '>';
    if (!scanBody(st.children, close))
      return false;
    ++pos_; // the closing brace
    --depth_;
    st.end = pos_;
    skipSeparator(st);
    return true;
  }

  bool scanList() {
    ++pos_; // '['
    int depth = 1;
    while (!atEnd() && depth > 0) {
      char c = s_[pos_];
      if (c == '"' || c == '\'') {
        if (!scanString())
          return false;
        continue;
      }
      if (c == '#') {
        skipSpace();
        continue;
      }
      if (c == '[' || c == '{' || c == '<')
        ++depth;
      else if (c == ']' || c == '}' || c == '>')
        --depth;
      ++pos_;
    }
    return depth == 0;
  }

  void skipSeparator(Statement &st) {
    size_t save = pos_;
    skipSpace();
    if (!atEnd() && (s_[pos_] == ';' || s_[pos_] == ',')) {
      ++pos_;
      st.end = pos_;
    } else {
      pos_ = save;
    }
  }
};

/// Innermost statement whose range holds `off`.
const Statement *innermost(const std::vector<Statement> &list, size_t off) {
  for (const Statement &st : list) {
    if (off >= st.begin && off < st.end) {
      const Statement *inner = innermost(st.children, off);
      return inner ? inner : &st;
    }
  }
  return nullptr;
}

/// Outermost statement whose range holds `off`.
const Statement *outermost(const std::vector<Statement> &list, size_t off) {
  for (const Statement &st : list)
    if (off >= st.begin && off < st.end)
      return &st;
  return nullptr;
}

class CollectErrors : public pb::io::ErrorCollector {
public:
  std::vector<RawError> errors;
  void AddError(int line, pb::io::ColumnNumber column, const std::string &message) override {
    errors.push_back({line, column, message});
  }
};

/// Protobuf reports some errors after the token at fault (an unknown field
/// name, an unknown enum value, a repeated singular field). Moves such an
/// error back to the token its message quotes.
void pointAtCulprit(const SourceText &src, RawError &e) {
  if (e.line >= 0 && e.message.rfind("String literals cannot cross line boundaries", 0) == 0) {
    // Reported at the end of the line: point at the quote that opens it.
    size_t lineStart = src.toOffset(e.line, 0);
    const std::string &t = src.text();
    if (lineStart == std::string::npos)
      return;
    char quote = 0;
    size_t open = std::string::npos;
    for (size_t i = lineStart; i < t.size() && t[i] != '\n'; ++i) {
      char c = t[i];
      if (!quote) {
        if (c == '#')
          break;
        if (c == '"' || c == '\'') {
          quote = c;
          open = i;
        }
      } else if (c == '\\') {
        ++i;
      } else if (c == quote) {
        quote = 0;
      }
    }
    if (quote)
      src.toPbPosition(open, e.line, e.column);
    return;
  }
  static const std::regex quoted(
      R"re(^(?:Message type "[^"]*" has no field named "([^"]*)"|Unknown enumeration value of "([^"]*)"|Non-repeated field "([^"]*)" is specified multiple times|Invalid value for boolean field "[^"]*"\. Value: "([^"]*)"))re");
  std::smatch m;
  if (e.line < 0 || !std::regex_search(e.message, m, quoted))
    return;
  std::string word;
  for (size_t i = 1; i < m.size() && word.empty(); ++i)
    if (m[i].matched)
      word = m[i].str();
  size_t off = src.toOffset(e.line, e.column);
  if (word.empty() || off == std::string::npos)
    return;
  const std::string &text = src.text();
  auto isWordChar = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  // The culprit is the nearest whole-word occurrence starting at or before
  // `off`; look back a bounded distance.
  size_t limit = off > 4096 ? off - 4096 : 0;
  size_t pos = off + 1;
  while (pos > limit) {
    size_t found = text.rfind(word, pos - 1);
    if (found == std::string::npos || found < limit)
      return;
    size_t endPos = found + word.size();
    bool boundary = (found == 0 || !isWordChar(text[found - 1])) &&
                    (endPos >= text.size() || !isWordChar(text[endPos]));
    if (boundary) {
      src.toPbPosition(found, e.line, e.column);
      return;
    }
    if (found == 0)
      return;
    pos = found;
  }
}

} // namespace

bool scanStatements(const std::string &text, std::vector<Statement> &out) {
  Scanner scanner(text);
  return scanner.scanAll(out);
}

bool parseTextAllErrors(const std::string &text, pb::Message &msg,
                        pb::TextFormat::ParseInfoTree *tree, std::vector<RawError> &errors,
                        size_t maxErrors, bool *outOfBudget) {
  errors.clear();
  if (outOfBudget)
    *outOfBudget = false;
  size_t reparsed = 0;
  // When the scan fails (unbalanced braces or quotes), the statements before
  // the failure are still complete and usable for recovery.
  std::vector<Statement> statements;
  scanStatements(text, statements);

  std::string work = text;
  std::set<std::tuple<int, int, std::string>> seen;
  bool first = true;
  while (true) {
    CollectErrors collector;
    pb::TextFormat::Parser parser;
    parser.RecordErrorsTo(&collector);
    if (first && tree)
      parser.WriteLocationsTo(tree);
    msg.Clear();
    bool ok = parser.ParseFromString(work, &msg);
    if (ok && collector.errors.empty())
      return first;
    if (collector.errors.empty()) // should not happen; keep the promise anyway
      collector.errors.push_back({-1, 0, "the text could not be parsed"});
    bool progressed = false;
    bool newLast = false;
    SourceText current(work);
    for (RawError e : collector.errors) {
      pointAtCulprit(current, e);
      newLast = seen.insert({e.line, e.column, e.message}).second;
      if (newLast) {
        errors.push_back(e);
        progressed = true;
      }
    }
    // Recovery blanks around errors.back(): it must be this round's last one.
    if (!newLast)
      progressed = false;
    first = false;
    if (!progressed || errors.size() >= maxErrors)
      break;
    reparsed += work.size();
    if (reparsed > kMaxRecoveryBytes) {
      if (outOfBudget)
        *outOfBudget = true;
      break;
    }
    // Blank the statement holding the last error (the one that stopped the
    // parser). Field-level errors blank only their field; other errors blank
    // the whole top-level statement.
    const RawError &stop = errors.back();
    size_t off = current.toOffset(stop.line, stop.column);
    if (off == std::string::npos || off >= work.size())
      break;
    const Statement *victim = innermost(statements, off);
    const Statement *top = outermost(statements, off);
    if (!victim || !top)
      break;
    const std::string &m = stop.message;
    bool fieldLevel = victim->junk || m.find("has no field named") != std::string::npos ||
                      m.find("Unknown enumeration value") != std::string::npos ||
                      m.find("is specified multiple times") != std::string::npos ||
                      m.find("Integer out of range") != std::string::npos ||
                      m.find("Invalid value for boolean") != std::string::npos ||
                      m.find("Expected integer") != std::string::npos ||
                      m.find("Expected double") != std::string::npos ||
                      m.find("Expected string") != std::string::npos;
    const Statement *blank = fieldLevel ? victim : top;
    bool changed = false;
    for (size_t i = blank->begin; i < blank->end && i < work.size(); ++i) {
      if (work[i] != '\n' && work[i] != '\t' && work[i] != ' ') {
        work[i] = ' ';
        changed = true;
      }
    }
    if (!changed)
      break;
  }
  std::stable_sort(errors.begin(), errors.end(), [](const RawError &a, const RawError &b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  // Errors without a position go last.
  std::stable_partition(errors.begin(), errors.end(), [](const RawError &e) { return e.line >= 0; });
  return false;
}

std::string rewordParseError(const std::string &message) {
  static const std::regex noField(R"re(^Message type "([^"]*)" has no field named "([^"]*)"\.?$)re");
  static const std::regex badEnum(R"re(^Unknown enumeration value of "([^"]*)" for field "([^"]*)"\.?$)re");
  static const std::regex badBool(R"re(^Invalid value for boolean field "([^"]*)"\. Value: "([^"]*)"\.?$)re");
  static const std::regex dupField(R"re(^Non-repeated field "([^"]*)" is specified multiple times\.?$)re");
  std::smatch m;
  if (std::regex_match(message, m, noField))
    return "unknown field '" + m[2].str() + "' in " + m[1].str();
  if (std::regex_match(message, m, badEnum))
    return "invalid value '" + m[1].str() + "' for enum field '" + m[2].str() + "'";
  if (std::regex_match(message, m, badBool))
    return "invalid value '" + m[2].str() + "' for boolean field '" + m[1].str() + "'";
  if (std::regex_match(message, m, dupField))
    return "field '" + m[1].str() + "' is given more than once (it is not repeated)";
  if (message == "Expected integer, got: -")
    return "expected a non-negative integer, got a negative value";
  if (message.size() >= 5 && message.compare(message.size() - 5, 5, "got: ") == 0)
    return "unexpected end of file (is a '}' missing?)";
  std::string out = message;
  while (!out.empty() && (out.back() == '.' || out.back() == ' '))
    out.pop_back();
  if (!out.empty())
    out[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[0])));
  return out;
}

} // namespace dlc::caffe_fe::detail
