//===- NativeCodeTest.cpp - Loading native code: CPU checks, refusals -----===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// loadNativeCode (docs/codegen.md) refuses code for a CPU feature this
// machine lacks, names it, and refuses malformed or unsupported objects
// with the reason instead of mapping them.
//
//===----------------------------------------------------------------------===//
#include "GenTestUtil.h"

#include "dlc/Runtime/CpuFeatures.h"

#include <elf.h>

#include <cstring>

using namespace dlc::rt;
using namespace dlc::rt::gentest;

namespace {

/// A valid object with one kernel (bnll then tanh on 64 elements).
const dlc::codegen::NativeObject &validObject() {
  static const dlc::codegen::NativeObject object = generate(bnllTanh(64)).object;
  return object;
}

/// Expects loading `object` (with the valid object's symbols and no
/// required features) to fail with a message containing `fragment`.
void expectRefused(const std::string &object, const std::string &fragment,
                   std::vector<std::string> symbols = validObject().symbols) {
  try {
    loadNativeCode(object, "test", {}, symbols);
    ADD_FAILURE() << "loaded; expected an error containing '" << fragment << "'";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

template <typename T> T get(const std::string &s, uint64_t off) {
  T v;
  std::memcpy(&v, s.data() + off, sizeof(T));
  return v;
}
template <typename T> void put(std::string &s, uint64_t off, const T &v) {
  std::memcpy(&s[off], &v, sizeof(T));
}

/// The section header of the first section of type `type`, and its offset.
std::pair<Elf64_Shdr, uint64_t> section(const std::string &obj, uint32_t type) {
  auto eh = get<Elf64_Ehdr>(obj, 0);
  for (uint64_t i = 0; i < eh.e_shnum; ++i) {
    uint64_t off = eh.e_shoff + i * sizeof(Elf64_Shdr);
    auto sh = get<Elf64_Shdr>(obj, off);
    if (sh.sh_type == type)
      return {sh, off};
  }
  ADD_FAILURE() << "no section of type " << type;
  return {};
}

} // namespace

TEST(NativeCode, LoadsTheValidObject) {
  const auto &o = validObject();
  ASSERT_EQ(o.symbols.size(), 1u);
  auto code = loadNativeCode(o.object, o.cpu, o.features, o.symbols);
  EXPECT_NE(code->function(o.symbols[0]), nullptr);
  EXPECT_EQ(code->function("not_there"), nullptr);
  EXPECT_EQ(code->cpu(), o.cpu);
}

TEST(NativeCode, RefusesACpuFeatureThisMachineLacks) {
  const CpuFeatureBit *lacking = nullptr;
  for (const CpuFeatureBit &f : kCpuFeatureBits)
    if (!cpuHasFeature(f.name)) {
      lacking = &f;
      break;
    }
  if (!lacking)
    GTEST_SKIP() << "this CPU has every feature of the table";
  const auto &o = validObject();
  try {
    loadNativeCode(o.object, "future-cpu", {"sse2", lacking->name}, o.symbols);
    ADD_FAILURE() << "loaded code that needs " << lacking->name;
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find(std::string("module compiled for future-cpu needs ") +
                                         lacking->name + ", which this CPU lacks"),
              std::string::npos)
        << e.what();
  }
}

TEST(NativeCode, RefusesAnUnknownCpuFeature) {
  const auto &o = validObject();
  try {
    loadNativeCode(o.object, "x", {"fake-feature"}, o.symbols);
    ADD_FAILURE() << "loaded code that needs an unknown feature";
  } catch (const Error &e) {
    EXPECT_NE(std::string(e.what()).find("needs fake-feature (unknown), which this CPU lacks"),
              std::string::npos)
        << e.what();
  }
  // Every feature the compiler recorded for this machine is known here.
  for (const std::string &f : o.features)
    EXPECT_TRUE(cpuHasFeature(f)) << f;
}

TEST(NativeCode, RefusesMalformedObjects) {
  const std::string valid = validObject().object;
  ASSERT_GT(valid.size(), sizeof(Elf64_Ehdr));
  expectRefused("", "truncated object");
  expectRefused(valid.substr(0, 40), "truncated object");
  expectRefused(valid.substr(0, valid.size() / 2), "outside");

  std::string bad = valid;
  bad[1] = 'X';
  expectRefused(bad, "not an ELF object");

  bad = valid;
  put<Elf64_Half>(bad, offsetof(Elf64_Ehdr, e_machine), EM_AARCH64);
  expectRefused(bad, "not a little-endian x86-64 ELF relocatable object");

  bad = valid;
  put<Elf64_Off>(bad, offsetof(Elf64_Ehdr, e_shoff), ~Elf64_Off(0) - 8);
  expectRefused(bad, "section header table outside the object");

  bad = valid;
  put<Elf64_Half>(bad, offsetof(Elf64_Ehdr, e_shstrndx), 0xfff0);
  expectRefused(bad, "malformed section header table");

  expectRefused(valid, "defines no function 'nope'", {"nope"});
}

TEST(NativeCode, RefusesUnsupportedRelocationsAndUndefinedSymbols) {
  const std::string valid = validObject().object;
  auto [rela, relaOff] = section(valid, SHT_RELA);
  ASSERT_GE(rela.sh_size, sizeof(Elf64_Rela)) << "the kernel loads constants";
  auto r = get<Elf64_Rela>(valid, rela.sh_offset);

  std::string bad = valid;
  r.r_info = ELF64_R_INFO(ELF64_R_SYM(r.r_info), R_X86_64_TPOFF32);
  put(bad, rela.sh_offset, r);
  expectRefused(bad, "relocation type 23");

  // The symbol the first relocation uses becomes undefined.
  r = get<Elf64_Rela>(valid, rela.sh_offset);
  auto [symtab, symtabOff] = section(valid, SHT_SYMTAB);
  const uint64_t symOff = symtab.sh_offset + ELF64_R_SYM(r.r_info) * sizeof(Elf64_Sym);
  auto sym = get<Elf64_Sym>(valid, symOff);
  bad = valid;
  sym.st_shndx = SHN_UNDEF;
  put(bad, symOff, sym);
  expectRefused(bad, "undefined symbol");

  // A relocation past the end of its section.
  r = get<Elf64_Rela>(valid, rela.sh_offset);
  bad = valid;
  r.r_offset = ~Elf64_Addr(0) - 2;
  put(bad, rela.sh_offset, r);
  expectRefused(bad, "relocation outside section");

  // A symbol index beyond the table.
  r = get<Elf64_Rela>(valid, rela.sh_offset);
  bad = valid;
  r.r_info = ELF64_R_INFO(0xffffff, ELF64_R_TYPE(r.r_info));
  put(bad, rela.sh_offset, r);
  expectRefused(bad, "relocation against symbol #");
}
