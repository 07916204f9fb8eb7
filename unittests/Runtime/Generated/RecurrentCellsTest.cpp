//===- RecurrentCellsTest.cpp - Generated LSTM and RNN gate functions -----===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// dl-codegen-recurrent (docs/codegen.md): the gate functions generated for
// this machine, called by the oneDNN backend's lstm and rnn kernels, against
// the float64 reference kernels: forward and every gradient, with cont
// resets, fractional cont, x_static, padded masks (dead steps), and hidden
// sizes that exercise the unrolled, the single-vector and the scalar loops.
// The cases and the tolerance (1e-5 of each blob's largest value) are those
// of unittests/Runtime/Dnnl/RecurrentTest.cpp, which checks the built-in
// gate loops the same way.
//
//===----------------------------------------------------------------------===//

#include "../Dnnl/RecurrentTestUtil.h"

#include "dlc/Conversion/Codegen.h"
#include "dlc/Ops/RecurrentCells.h"
#include "dlc/Runtime/Generated.h"

#include <gtest/gtest.h>

#include <set>

using namespace dlc::rt;
using namespace dlc::rt::rectest;
namespace ops = dlc::ops;

namespace {

std::string tensor(std::vector<int64_t> dims) {
  std::string t = "tensor<";
  for (int64_t d : dims)
    t += std::to_string(d) + "x";
  return t + "f32>";
}

/// A module with one dl.lstm and one dl.rnn per hidden size, compiled for
/// this machine by the code generator and loaded by the runtime.
std::shared_ptr<const NativeCode> compileCells(const std::set<int64_t> &hidden) {
  std::string text = "module {\n";
  for (int64_t H : hidden) {
    const std::string h = std::to_string(H), x = tensor({1, 1, 1}), c = tensor({1, 1}),
                      y = tensor({1, 1, H});
    const std::string lstmIn = x + ", " + c + ", " + tensor({4 * H, 1}) + ", " +
                               tensor({4 * H}) + ", " + tensor({4 * H, H});
    text += "func.func @lstm" + h + "(%x: " + x + ", %c: " + c + ", %w: " +
            tensor({4 * H, 1}) + ", %b: " + tensor({4 * H}) + ", %u: " + tensor({4 * H, H}) +
            ") -> " + y + " {\n  %0 = dl.lstm %x, %c, %w, %b, %u {num_output = " + h +
            " : i64} : (" + lstmIn + ") -> " + y + "\n  return %0 : " + y + "\n}\n";
    const std::string rnnIn = x + ", " + c + ", " + tensor({H, 1}) + ", " + tensor({H}) + ", " +
                              tensor({H, H}) + ", " + tensor({H, H}) + ", " + tensor({H});
    text += "func.func @rnn" + h + "(%x: " + x + ", %c: " + c + ", %w: " + tensor({H, 1}) +
            ", %b: " + tensor({H}) + ", %u: " + tensor({H, H}) + ", %v: " + tensor({H, H}) +
            ", %o: " + tensor({H}) + ") -> " + y +
            " {\n  %0 = dl.rnn %x, %c, %w, %b, %u, %v, %o {num_output = " + h + " : i64} : (" +
            rnnIn + ") -> " + y + "\n  return %0 : " + y + "\n}\n";
  }
  text += "}\n";
  dlc::codegen::NativeObject object;
  std::vector<std::string> fused;
  std::string error;
  if (!dlc::codegen::compileModuleText(text, "", object, fused, error)) {
    ADD_FAILURE() << "code generation failed: " << error << "\n" << text;
    return nullptr;
  }
  return loadNativeCode(object.object, object.cpu, object.features, object.symbols);
}

/// The symbol dl-codegen-recurrent gives cell `info` of a layer with H units.
std::string symbolOf(const ops::CellInfo &info, int64_t H) {
  std::string s = std::string("dlc_cell_") + info.name;
  return info.perHidden ? s + "_h" + std::to_string(H) : s;
}

/// Names the generated cells on every lstm / rnn description, as `dlc
/// compile` does, while alive.
class GeneratedCells {
public:
  explicit GeneratedCells(const std::set<int64_t> &hidden) : code_(compileCells(hidden)) {
    optimizedDescHook() = [code = code_](KernelDesc &d) {
      const std::string layer = d.forwardOp();
      const int64_t H = d.attrs.getInt("num_output", 0);
      for (const ops::CellInfo &info : ops::kCells)
        if (layer == info.op)
          d.attrs.set(std::string(ops::kCellAttrPrefix) + info.name, symbolOf(info, H));
      d.nativeCode = code;
    };
  }
  ~GeneratedCells() { optimizedDescHook() = nullptr; }
  bool ok() const { return code_ != nullptr; }

private:
  std::shared_ptr<const NativeCode> code_;
};

constexpr auto kPadded = SeqCase::Padded;

TEST(GeneratedRecurrentCells, Lstm) {
  GeneratedCells cells({3, 13, 7, 9, 37, 128});
  ASSERT_TRUE(cells.ok());
  checkLstm({1, 1, {5}, 3, {}}, true);
  checkLstm({7, 3, {5}, 13, {4}}, true);
  checkLstm({6, 4, {3}, 7, {3}, true}, false);
  checkLstm({12, 6, {5}, 9, {2}, true, kPadded}, false);
  checkLstm({9, 5, {8}, 37, {}, false, kPadded}, false);
  checkLstm({32, 16, {64}, 128, {16}, false, kPadded}, false);
}

TEST(GeneratedRecurrentCells, Rnn) {
  GeneratedCells cells({3, 13, 37});
  ASSERT_TRUE(cells.ok());
  checkRnn({1, 1, {5}, 3, {}}, true);
  checkRnn({7, 3, {5}, 13, {4}}, false);
  checkRnn({12, 5, {8}, 37, {}, true}, false);
}

/// A kernel that names a function the module's code lacks is refused with
/// the layer and the name, not run with the built-in loop.
TEST(GeneratedRecurrentCells, MissingFunctionIsAnError) {
  GeneratedCells cells({3});
  ASSERT_TRUE(cells.ok());
  KernelDesc d = lstmDesc({2, 1, {5}, 3, {}});
  optimizedDescHook()(d);
  d.attrs.set("gen_lstm_forward", std::string("dlc_cell_lstm_forward_h4"));
  try {
    createDnnlKernel(d, dnnltest::ctx());
    ADD_FAILURE() << "no error";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("no function 'dlc_cell_lstm_forward_h4'"),
              std::string::npos)
        << e.what();
  }
}

} // namespace
