//===- ReplayMain.cpp - Run a fuzz target on files, without libFuzzer -----===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// In a normal (non-fuzzing) build each fuzz target links this main instead
// of libFuzzer's, so the suite replays the regression inputs under
// test/tools/fuzz through exactly the code the fuzzer ran:
//   dlc-fuzz-<target> FILE...
// Each file is one input; a crash or abort fails the run.
//
//===----------------------------------------------------------------------===//

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s FILE...\n(runs the fuzz target once per file)\n", argv[0]);
    return 2;
  }
  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    if (!in) {
      fprintf(stderr, "%s: error: cannot open\n", argv[i]);
      return 1;
    }
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    fprintf(stderr, "running %s (%zu bytes)\n", argv[i], bytes.size());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size());
  }
  fprintf(stderr, "ran %d inputs\n", argc - 1);
  return 0;
}
