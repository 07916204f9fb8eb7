//===- SolverLoader.cpp - Load and check a Caffe solver -------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The checks are Caffe's (Solver::Init, InitTrainNet, InitTestNets, the
// SGDSolver family's constructors and GetLearningRate), made before any
// training starts and reported all at once.
//
//===----------------------------------------------------------------------===//

#include "dlc/Caffe/SolverLoader.h"

#include "TextParse.h"

#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace dlc::caffe_fe {

namespace pb = google::protobuf;
namespace fs = std::filesystem;

const std::vector<std::string> &solverTypeNames() {
  // In the order of SolverParameter.SolverType (the legacy enum).
  static const std::vector<std::string> names = {"SGD",     "Nesterov", "AdaGrad",
                                                 "RMSProp", "AdaDelta", "Adam"};
  return names;
}

const std::vector<std::string> &lrPolicyNames() {
  static const std::vector<std::string> names = {"fixed",     "step", "exp",    "inv",
                                                 "multistep", "poly", "sigmoid"};
  return names;
}

namespace {

std::string joinQuoted(const std::vector<std::string> &names) {
  std::string out;
  for (const std::string &n : names)
    out += (out.empty() ? "'" : ", '") + n + "'";
  return out;
}

class SolverReader {
public:
  SolverReader(const std::string &text, const std::string &file, std::vector<Diagnostic> &diags)
      : text_(text), file_(file), diags_(diags), src_(text) {}

  std::optional<LoadedSolver> run();

private:
  const std::string &text_;
  std::string file_;
  std::vector<Diagnostic> &diags_;
  detail::SourceText src_;
  pb::TextFormat::ParseInfoTree tree_;
  bool failed_ = false;

  void error(const SourceLoc &loc, const std::string &message) {
    diags_.push_back({Diagnostic::Kind::Error, loc, message});
    failed_ = true;
  }
  void note(const SourceLoc &loc, const std::string &message) {
    diags_.push_back({Diagnostic::Kind::Note, loc, message});
  }
  SourceLoc fileLoc() const { return SourceLoc{file_, 0, 0}; }
  /// Where `field` (its index-th value when repeated) is written; the file
  /// when it is not written.
  SourceLoc loc(const char *field, int index = -1) const {
    const pb::FieldDescriptor *fd = caffe::SolverParameter::descriptor()->FindFieldByName(field);
    pb::TextFormat::ParseLocation l = tree_.GetLocation(fd, fd->is_repeated() ? index : -1);
    SourceLoc out{file_, 0, 0};
    if (l.line >= 0)
      src_.toLineCol(l.line, l.column, out.line, out.column);
    return out;
  }

  bool parse(caffe::SolverParameter &param);
  void checkValues(caffe::SolverParameter &param);
  SolverNet fileNet(const char *field, int index, const std::string &path, bool train);
  SolverNet inlineNet(const char *field, int index, bool train);
  void resolveNets(const caffe::SolverParameter &param, LoadedSolver &out);
};

bool SolverReader::parse(caffe::SolverParameter &param) {
  std::vector<detail::RawError> errors;
  bool outOfBudget = false;
  if (detail::parseTextAllErrors(text_, param, &tree_, errors, 100, &outOfBudget))
    return true;
  for (const detail::RawError &e : errors) {
    SourceLoc l{file_, 0, 0};
    src_.toLineCol(e.line, e.column, l.line, l.column);
    error(l, detail::rewordParseError(e.message));
  }
  caffe::NetParameter net;
  pb::TextFormat::Parser quiet;
  class Silent : public pb::io::ErrorCollector {
    void AddError(int, pb::io::ColumnNumber, const std::string &) override {}
  } silent;
  quiet.RecordErrorsTo(&silent);
  if (quiet.ParseFromString(text_, &net))
    note(fileLoc(), "this is a Caffe net, not a solver; compile it with 'dlc compile NET'");
  return false;
}

void SolverReader::checkValues(caffe::SolverParameter &p) {
  // type: a name, or the legacy enum (UpgradeSolverType).
  const std::vector<std::string> &types = solverTypeNames();
  if (p.has_type() && p.has_solver_type())
    error(loc("solver_type"), "both 'type' and the legacy 'solver_type' are given; keep 'type'");
  if (!p.has_type())
    p.set_type(types[static_cast<size_t>(p.solver_type())]);
  auto type = std::find(types.begin(), types.end(), p.type());
  if (type == types.end())
    error(loc("type"), "unknown solver type '" + p.type() + "'; Caffe's solvers are " +
                           joinQuoted(types));
  else
    p.set_solver_type(static_cast<caffe::SolverParameter::SolverType>(type - types.begin()));

  // The learning rate.
  const std::vector<std::string> &policies = lrPolicyNames();
  if (!p.has_lr_policy())
    error(fileLoc(), "the solver has no 'lr_policy'; Caffe's policies are " +
                         joinQuoted(policies));
  else if (std::find(policies.begin(), policies.end(), p.lr_policy()) == policies.end())
    error(loc("lr_policy"), "unknown learning rate policy '" + p.lr_policy() +
                                "'; Caffe's policies are " + joinQuoted(policies));
  auto need = [&](bool has, const char *field) {
    if (!has)
      error(loc("lr_policy"), "lr_policy '" + p.lr_policy() + "' needs '" + field + "'");
  };
  const std::string &policy = p.lr_policy();
  if (policy == "step") {
    need(p.has_stepsize(), "stepsize");
    need(p.has_gamma(), "gamma");
    if (p.has_stepsize() && p.stepsize() <= 0)
      error(loc("stepsize"), "stepsize must be positive, got " + std::to_string(p.stepsize()));
  } else if (policy == "exp") {
    need(p.has_gamma(), "gamma");
  } else if (policy == "inv") {
    need(p.has_gamma(), "gamma");
    need(p.has_power(), "power");
  } else if (policy == "multistep") {
    need(p.stepvalue_size() > 0, "stepvalue");
    need(p.has_gamma(), "gamma");
    for (int i = 1; i < p.stepvalue_size(); ++i)
      if (p.stepvalue(i) <= p.stepvalue(i - 1))
        error(loc("stepvalue", i), "stepvalue must increase: " + std::to_string(p.stepvalue(i)) +
                                       " follows " + std::to_string(p.stepvalue(i - 1)));
  } else if (policy == "poly") {
    need(p.has_power(), "power");
    if (p.max_iter() <= 0)
      error(loc("lr_policy"), "lr_policy 'poly' needs a positive 'max_iter'");
  } else if (policy == "sigmoid") {
    need(p.has_gamma(), "gamma");
    need(p.has_stepsize(), "stepsize");
  }
  if (!p.has_base_lr())
    error(fileLoc(), "the solver has no 'base_lr'");
  else if (!(p.base_lr() >= 0) || std::isinf(p.base_lr()))
    error(loc("base_lr"), "base_lr must be a finite number >= 0");

  // The solvers' own constraints (their constructors' CHECKs).
  if ((p.type() == "AdaGrad" || p.type() == "RMSProp") && p.momentum() != 0)
    error(loc("momentum"), "momentum cannot be used with " + p.type() +
                               " (Caffe requires momentum 0 for it)");
  if (p.type() == "RMSProp" && !(p.rms_decay() >= 0 && p.rms_decay() < 1))
    error(loc("rms_decay"), "rms_decay must lie in [0, 1)");
  if ((p.type() == "Adam" || p.type() == "AdaDelta") && p.has_momentum() &&
      !(p.momentum() >= 0 && p.momentum() < 1))
    error(loc("momentum"), "momentum (" + p.type() + "'s decay) must lie in [0, 1)");
  if (p.type() == "Adam" && !(p.momentum2() >= 0 && p.momentum2() < 1))
    error(loc("momentum2"), "momentum2 must lie in [0, 1)");
  if (!(p.delta() > 0) && (p.type() == "AdaGrad" || p.type() == "RMSProp" ||
                           p.type() == "AdaDelta" || p.type() == "Adam"))
    error(loc("delta"), "delta must be positive");
  if (p.regularization_type() != "L2" && p.regularization_type() != "L1")
    error(loc("regularization_type"),
          "unknown regularization type '" + p.regularization_type() + "'; use 'L2' or 'L1'");
  if (!(p.weight_decay() >= 0))
    error(loc("weight_decay"), "weight_decay must be >= 0");

  // Counts.
  auto nonNegative = [&](bool has, int64_t v, const char *field) {
    if (has && v < 0)
      error(loc(field), std::string(field) + " must be >= 0, got " + std::to_string(v));
  };
  nonNegative(p.has_max_iter(), p.max_iter(), "max_iter");
  nonNegative(p.has_display(), p.display(), "display");
  nonNegative(p.has_snapshot(), p.snapshot(), "snapshot");
  nonNegative(p.has_test_interval(), p.test_interval(), "test_interval");
  if (p.iter_size() < 1)
    error(loc("iter_size"), "iter_size must be at least 1, got " + std::to_string(p.iter_size()));
  if (p.average_loss() < 1)
    error(loc("average_loss"),
          "average_loss must be at least 1, got " + std::to_string(p.average_loss()));
  for (int i = 0; i < p.test_iter_size(); ++i)
    if (p.test_iter(i) <= 0)
      error(loc("test_iter", i), "test_iter must be positive, got " +
                                     std::to_string(p.test_iter(i)));
  if (p.snapshot_format() != caffe::SolverParameter::BINARYPROTO)
    error(loc("snapshot_format"),
          "snapshot_format HDF5 is not supported; dlc writes BINARYPROTO snapshots");
}

SolverNet SolverReader::fileNet(const char *field, int index, const std::string &path,
                                bool train) {
  SolverNet net;
  net.field = field;
  net.loc = loc(field, index);
  net.state.set_phase(train ? caffe::TRAIN : caffe::TEST);
  fs::path given(path);
  fs::path dir = fs::path(file_).parent_path();
  std::vector<fs::path> candidates = {given};
  if (given.is_relative()) {
    candidates.push_back(dir / given);
    candidates.push_back(dir / given.filename());
  }
  std::error_code ec;
  for (const fs::path &c : candidates)
    if (fs::is_regular_file(c, ec)) {
      net.path = c.lexically_normal().string();
      return net;
    }
  std::string tried;
  for (const fs::path &c : candidates)
    tried += (tried.empty() ? "'" : ", '") + c.lexically_normal().string() + "'";
  error(net.loc, "cannot find the net file '" + path + "' (field '" + field + "'); tried " +
                     tried);
  return net;
}

SolverNet SolverReader::inlineNet(const char *field, int index, bool train) {
  SolverNet net;
  net.field = field;
  net.loc = loc(field, index);
  net.state.set_phase(train ? caffe::TRAIN : caffe::TEST);
  // The statement that starts at the field: keep what is between its braces.
  const pb::FieldDescriptor *fd = caffe::SolverParameter::descriptor()->FindFieldByName(field);
  pb::TextFormat::ParseLocation l = tree_.GetLocation(fd, fd->is_repeated() ? index : -1);
  size_t at = src_.toOffset(l.line, l.column);
  std::vector<detail::Statement> statements;
  detail::scanStatements(text_, statements);
  for (const detail::Statement &s : statements) {
    if (s.begin != at)
      continue;
    size_t open = text_.find_first_of("{<", s.begin);
    size_t close = text_.find_last_of("}>", s.end == 0 ? 0 : s.end - 1);
    if (open == std::string::npos || close == std::string::npos || close <= open)
      break;
    net.inlineText = text_;
    for (size_t i = 0; i < net.inlineText.size(); ++i)
      if ((i <= open || i >= close) && net.inlineText[i] != '\n')
        net.inlineText[i] = ' ';
    return net;
  }
  error(net.loc, std::string("cannot find the text of the inline net (field '") + field + "')");
  return net;
}

void SolverReader::resolveNets(const caffe::SolverParameter &p, LoadedSolver &out) {
  // The train net: exactly one of four fields (Solver::InitTrainNet).
  int trainFields = p.has_net() + p.has_net_param() + p.has_train_net() + p.has_train_net_param();
  if (trainFields == 0) {
    error(fileLoc(), "the solver names no train net; give one of 'net', 'net_param', "
                     "'train_net' or 'train_net_param'");
    return;
  }
  if (trainFields > 1) {
    const char *fields[] = {"net", "net_param", "train_net", "train_net_param"};
    std::string given;
    SourceLoc second = fileLoc();
    int seen = 0;
    for (const char *f : fields)
      if (caffe::SolverParameter::GetReflection()->HasField(
              p, caffe::SolverParameter::descriptor()->FindFieldByName(f))) {
        given += (given.empty() ? "'" : ", '") + std::string(f) + "'";
        if (++seen == 2)
          second = loc(f);
      }
    error(second, "the solver names several train nets (" + given + "); give only one");
    return;
  }
  if (p.has_train_net_param())
    out.train = inlineNet("train_net_param", -1, true);
  else if (p.has_train_net())
    out.train = fileNet("train_net", -1, p.train_net(), true);
  else if (p.has_net_param())
    out.train = inlineNet("net_param", -1, true);
  else
    out.train = fileNet("net", -1, p.net(), true);
  if (p.has_train_state()) {
    out.train.state.set_level(p.train_state().level());
    *out.train.state.mutable_stage() = p.train_state().stage();
  }

  // Test nets (Solver::InitTestNets): test_net_param, then test_net, then
  // the generic net once for each remaining test_iter.
  bool generic = p.has_net() || p.has_net_param();
  int specific = p.test_net_param_size() + p.test_net_size();
  int total = std::max(p.test_iter_size(), specific);
  if (p.test_iter_size() < specific || (!generic && p.test_iter_size() != specific)) {
    error(loc("test_iter", 0).line ? loc("test_iter", 0) : fileLoc(),
          "test_iter must be given once per test net: " + std::to_string(p.test_iter_size()) +
              " given for " + std::to_string(specific) + " test nets");
    return;
  }
  // Each test net is compiled into the module; an inline one costs a copy
  // of the solver's text (docs/reliability.md).
  if (total > kMaxTestNets) {
    error(loc("test_iter", 0).line ? loc("test_iter", 0) : fileLoc(),
          "the solver has " + std::to_string(total) + " test nets; dlc takes at most " +
              std::to_string(kMaxTestNets));
    return;
  }
  if (p.test_state_size() > 0 && p.test_state_size() != total) {
    error(loc("test_state", 0), "test_state must be given once per test net: " +
                                    std::to_string(p.test_state_size()) + " given for " +
                                    std::to_string(total));
    return;
  }
  for (int i = 0; i < p.test_net_param_size(); ++i)
    out.tests.push_back(inlineNet("test_net_param", i, false));
  for (int i = 0; i < p.test_net_size(); ++i)
    out.tests.push_back(fileNet("test_net", i, p.test_net(i), false));
  for (int i = specific; i < total; ++i) {
    out.tests.push_back(out.train);
    out.tests.back().state = caffe::NetState();
    out.tests.back().state.set_phase(caffe::TEST);
  }
  for (int i = 0; i < p.test_state_size(); ++i) {
    out.tests[i].state.set_level(p.test_state(i).level());
    *out.tests[i].state.mutable_stage() = p.test_state(i).stage();
  }
  if (total > 0 && p.test_interval() <= 0)
    error(loc("test_interval").line ? loc("test_interval") : fileLoc(),
          "the solver has test nets but no positive 'test_interval'");
}

std::optional<LoadedSolver> SolverReader::run() {
  LoadedSolver out;
  out.file = file_;
  if (!parse(out.param))
    return std::nullopt;
  size_t first = diags_.size();
  checkValues(out.param);
  resolveNets(out.param, out);
  // In file order; what concerns the whole file last.
  std::stable_sort(diags_.begin() + long(first), diags_.end(),
                   [](const Diagnostic &a, const Diagnostic &b) {
                     auto key = [](const Diagnostic &d) {
                       return std::make_pair(d.loc.line == 0 ? INT32_MAX : d.loc.line,
                                             d.loc.column);
                     };
                     return key(a) < key(b);
                   });
  if (failed_)
    return std::nullopt;
  return out;
}

} // namespace

static Diagnostic tooLarge(const std::string &file, uint64_t size) {
  return {Diagnostic::Kind::Error, SourceLoc{file, 0, 0},
          "the solver file has " + std::to_string(size) +
              " bytes; dlc reads solver files of at most " +
              std::to_string(kMaxNetFileBytes >> 20) + " MiB"};
}

std::optional<LoadedSolver> loadSolverFromString(const std::string &text,
                                                 const std::string &filename,
                                                 std::vector<Diagnostic> &diags) {
  if (text.size() > kMaxNetFileBytes) {
    diags.push_back(tooLarge(filename, text.size()));
    return std::nullopt;
  }
  SolverReader reader(text, filename, diags);
  return reader.run();
}

std::optional<LoadedSolver> loadSolverFile(const std::string &path,
                                           std::vector<Diagnostic> &diags) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    diags.push_back({Diagnostic::Kind::Error, SourceLoc{path, 0, 0},
                     std::string("cannot read the solver file: ") +
                         (fs::exists(path, ec) ? "not a regular file"
                                               : "No such file or directory")});
    return std::nullopt;
  }
  uint64_t size = fs::file_size(path, ec);
  if (!ec && size > kMaxNetFileBytes) {
    diags.push_back(tooLarge(path, size));
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (!in) {
    diags.push_back({Diagnostic::Kind::Error, SourceLoc{path, 0, 0},
                     std::string("cannot read the solver file: ") + std::strerror(errno)});
    return std::nullopt;
  }
  return loadSolverFromString(buffer.str(), path, diags);
}

std::optional<LoadedNet> loadSolverNet(const SolverNet &net, LoadOptions options,
                                       std::vector<Diagnostic> &diags) {
  options.phase = net.state.phase() == caffe::TRAIN ? Phase::Train : Phase::Test;
  options.level = net.state.level();
  options.stages.assign(net.state.stage().begin(), net.state.stage().end());
  if (!net.inlineText.empty())
    return loadNetFromString(net.inlineText, net.loc.file, options, diags);
  return loadNetFile(net.path, options, diags);
}

} // namespace dlc::caffe_fe
