//===- ElfLoader.cpp - Mapping a generated object into memory -------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// A small loader for the ELF relocatable objects dl-codegen-compile makes
// (docs/codegen.md): x86-64, little-endian, ET_REL, every symbol defined in
// the object. It lays the allocated sections out in one anonymous mapping
// (code, then read-only data and a GOT, then writable data, each part on
// its own pages), applies the RELA relocations the compiler produces for
// position-independent small-model code (64, PC32, PLT32, PC64, 32, 32S,
// GOTPCREL and its relaxable forms), and then makes code read+execute and
// data read-only. Unwind tables (.eh_frame) are not loaded: generated
// kernels never throw. Every offset, size, index and name is bounds-checked
// before use; anything else (an undefined symbol, TLS, another relocation
// type, a value out of range) is refused with the reason.
//
//===----------------------------------------------------------------------===//
#include "dlc/Runtime/CpuFeatures.h"
#include "dlc/Runtime/Generated.h"

#include <elf.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>

namespace dlc::rt {
namespace {

class LoadedObject : public NativeCode {
public:
  explicit LoadedObject(std::string cpu) : cpu_(std::move(cpu)) {}
  ~LoadedObject() override {
    if (base_)
      munmap(base_, size_);
  }
  void *function(const std::string &symbol) const override {
    auto it = functions_.find(symbol);
    return it == functions_.end() ? nullptr : it->second;
  }
  std::string cpu() const override { return cpu_; }

  void load(const std::string &bytes, const std::vector<std::string> &symbols);

private:
  [[noreturn]] void fail(const std::string &what) const {
    throw Error("native code: " + what);
  }
  template <typename T> T read(uint64_t offset) const {
    if (offset > bytes_->size() || sizeof(T) > bytes_->size() - offset)
      fail("truncated object (offset " + std::to_string(offset) + ")");
    T v;
    std::memcpy(&v, bytes_->data() + offset, sizeof(T));
    return v;
  }
  std::string sectionName(const Elf64_Shdr &s) const { return stringAt(shstrtab_, s.sh_name); }
  /// The NUL-terminated string at `offset` of string table section `table`.
  std::string stringAt(const Elf64_Shdr &table, uint64_t offset) const {
    if (table.sh_type != SHT_STRTAB || offset >= table.sh_size)
      fail("name offset " + std::to_string(offset) + " outside its string table");
    const char *p = bytes_->data() + table.sh_offset + offset;
    const size_t left = table.sh_size - offset;
    const void *nul = std::memchr(p, 0, left);
    if (!nul)
      fail("unterminated name in a string table");
    return std::string(p, static_cast<const char *>(nul));
  }
  /// The address symbol `index` stands for.
  uint64_t symbolAddress(uint64_t index) const;
  void applyRelocations(const Elf64_Shdr &rela);

  const std::string *bytes_ = nullptr;
  std::vector<Elf64_Shdr> sections_;
  Elf64_Shdr shstrtab_{}, symtab_{}, strtab_{};
  std::vector<uint64_t> address_; ///< per section: where it is loaded, 0 if not
  std::map<uint64_t, uint64_t> got_; ///< symbol index -> its GOT entry's address
  uint64_t gotNext_ = 0, gotEnd_ = 0;
  void *base_ = nullptr;
  size_t size_ = 0;
  std::map<std::string, void *> functions_;
  std::string cpu_;
};

bool isPowerOfTwo(uint64_t v) { return v && !(v & (v - 1)); }

uint64_t alignTo(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

uint64_t LoadedObject::symbolAddress(uint64_t index) const {
  const uint64_t count = symtab_.sh_size / sizeof(Elf64_Sym);
  if (index == 0 || index >= count)
    fail("relocation against symbol #" + std::to_string(index) + " of " + std::to_string(count));
  const auto sym = read<Elf64_Sym>(symtab_.sh_offset + index * sizeof(Elf64_Sym));
  const std::string name = stringAt(strtab_, sym.st_name);
  if (sym.st_shndx == SHN_UNDEF)
    fail("undefined symbol '" + name + "': the runtime resolves no external symbols");
  if (sym.st_shndx == SHN_ABS)
    return sym.st_value;
  if (sym.st_shndx >= SHN_LORESERVE || sym.st_shndx >= sections_.size())
    fail("symbol '" + name + "' in an unsupported section index " +
         std::to_string(sym.st_shndx));
  if (ELF64_ST_TYPE(sym.st_info) == STT_TLS)
    fail("thread-local symbol '" + name + "'");
  if (!address_[sym.st_shndx])
    fail("symbol '" + name + "' lies in section '" + sectionName(sections_[sym.st_shndx]) +
         "', which is not loaded");
  if (sym.st_value > sections_[sym.st_shndx].sh_size)
    fail("symbol '" + name + "' lies outside its section");
  return address_[sym.st_shndx] + sym.st_value;
}

void LoadedObject::applyRelocations(const Elf64_Shdr &rela) {
  const Elf64_Shdr &target = sections_[rela.sh_info];
  const uint64_t base = address_[rela.sh_info];
  if (rela.sh_entsize != sizeof(Elf64_Rela) || rela.sh_size % sizeof(Elf64_Rela) != 0)
    fail("malformed relocation section '" + sectionName(rela) + "'");
  for (uint64_t off = 0; off < rela.sh_size; off += sizeof(Elf64_Rela)) {
    const auto r = read<Elf64_Rela>(rela.sh_offset + off);
    const uint32_t type = ELF64_R_TYPE(r.r_info);
    const uint64_t symbol = ELF64_R_SYM(r.r_info);
    if (type == R_X86_64_NONE)
      continue;
    const uint64_t width = type == R_X86_64_64 || type == R_X86_64_PC64 ? 8 : 4;
    if (r.r_offset > target.sh_size || width > target.sh_size - r.r_offset)
      fail("relocation outside section '" + sectionName(target) + "'");
    const uint64_t P = base + r.r_offset;
    const auto A = uint64_t(r.r_addend);
    const uint64_t S = symbolAddress(symbol);
    uint64_t value = 0;
    bool pcRelative32 = false, absolute32 = false, signed32 = false;
    switch (type) {
    case R_X86_64_64:
      value = S + A;
      break;
    case R_X86_64_PC64:
      value = S + A - P;
      break;
    case R_X86_64_PC32:
    case R_X86_64_PLT32: // every symbol is local: a direct call
      value = S + A - P;
      pcRelative32 = true;
      break;
    case R_X86_64_32:
      value = S + A;
      absolute32 = true;
      break;
    case R_X86_64_32S:
      value = S + A;
      signed32 = true;
      break;
    case R_X86_64_GOTPCREL:
    case R_X86_64_GOTPCRELX:
    case R_X86_64_REX_GOTPCRELX: {
      auto it = got_.find(symbol);
      if (it == got_.end()) {
        if (gotNext_ + 8 > gotEnd_)
          fail("GOT overflow");
        std::memcpy(reinterpret_cast<void *>(gotNext_), &S, 8);
        it = got_.emplace(symbol, gotNext_).first;
        gotNext_ += 8;
      }
      value = it->second + A - P;
      pcRelative32 = true;
      break;
    }
    default:
      fail("relocation type " + std::to_string(type) + " in section '" + sectionName(target) +
           "' is not supported");
    }
    const auto sv = int64_t(value);
    if ((pcRelative32 || signed32) &&
        (sv < std::numeric_limits<int32_t>::min() || sv > std::numeric_limits<int32_t>::max()))
      fail("relocation value out of 32-bit range in section '" + sectionName(target) + "'");
    if (absolute32 && value > std::numeric_limits<uint32_t>::max())
      fail("absolute 32-bit relocation in section '" + sectionName(target) +
           "' (the code must be position-independent)");
    if (width == 8) {
      std::memcpy(reinterpret_cast<void *>(P), &value, 8);
    } else {
      auto v32 = uint32_t(value);
      std::memcpy(reinterpret_cast<void *>(P), &v32, 4);
    }
  }
}

void LoadedObject::load(const std::string &bytes, const std::vector<std::string> &symbols) {
  bytes_ = &bytes;
  const auto eh = read<Elf64_Ehdr>(0);
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
    fail("not an ELF object");
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
      eh.e_ident[EI_VERSION] != EV_CURRENT || eh.e_type != ET_REL ||
      eh.e_machine != EM_X86_64)
    fail("not a little-endian x86-64 ELF relocatable object");
  if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shnum == 0 || eh.e_shstrndx >= eh.e_shnum)
    fail("malformed section header table");
  if (eh.e_shoff > bytes.size() ||
      uint64_t(eh.e_shnum) * sizeof(Elf64_Shdr) > bytes.size() - eh.e_shoff)
    fail("section header table outside the object");
  for (uint64_t i = 0; i < eh.e_shnum; ++i) {
    auto s = read<Elf64_Shdr>(eh.e_shoff + i * sizeof(Elf64_Shdr));
    if (s.sh_type != SHT_NOBITS &&
        (s.sh_offset > bytes.size() || s.sh_size > bytes.size() - s.sh_offset))
      fail("section #" + std::to_string(i) + " lies outside the object");
    if (s.sh_addralign > 1 && (!isPowerOfTwo(s.sh_addralign) || s.sh_addralign > 4096))
      fail("section #" + std::to_string(i) + " has a bad alignment");
    if (s.sh_size > (uint64_t(1) << 30))
      fail("section #" + std::to_string(i) + " is too large");
    sections_.push_back(s);
  }
  shstrtab_ = sections_[eh.e_shstrndx];
  int symtabIndex = -1;
  for (size_t i = 0; i < sections_.size(); ++i)
    if (sections_[i].sh_type == SHT_SYMTAB) {
      if (symtabIndex >= 0)
        fail("more than one symbol table");
      symtabIndex = int(i);
    }
  if (symtabIndex < 0)
    fail("no symbol table");
  symtab_ = sections_[size_t(symtabIndex)];
  if (symtab_.sh_entsize != sizeof(Elf64_Sym) || symtab_.sh_size % sizeof(Elf64_Sym) != 0 ||
      symtab_.sh_link >= sections_.size() || sections_[symtab_.sh_link].sh_type != SHT_STRTAB)
    fail("malformed symbol table");
  strtab_ = sections_[symtab_.sh_link];

  // Layout: code | read-only data, GOT | writable data, each on its own pages.
  const uint64_t page = uint64_t(sysconf(_SC_PAGESIZE));
  address_.assign(sections_.size(), 0);
  std::vector<uint64_t> offset(sections_.size(), 0);
  std::vector<int> part(sections_.size(), -1);
  uint64_t gotSlots = 0;
  for (size_t i = 0; i < sections_.size(); ++i) {
    const Elf64_Shdr &s = sections_[i];
    if (s.sh_type == SHT_RELA)
      gotSlots += s.sh_size / sizeof(Elf64_Rela);
    if (!(s.sh_flags & SHF_ALLOC) || s.sh_size == 0 || sectionName(s) == ".eh_frame")
      continue;
    if (s.sh_flags & SHF_TLS)
      fail("thread-local section '" + sectionName(s) + "'");
    part[i] = (s.sh_flags & SHF_EXECINSTR) ? 0 : (s.sh_flags & SHF_WRITE) ? 2 : 1;
  }
  uint64_t cursor = 0, partStart[3] = {0, 0, 0}, partEnd[3] = {0, 0, 0}, gotOffset = 0;
  for (int p = 0; p < 3; ++p) {
    cursor = alignTo(cursor, page);
    partStart[p] = cursor;
    for (size_t i = 0; i < sections_.size(); ++i) {
      if (part[i] != p)
        continue;
      cursor = alignTo(cursor, std::max<uint64_t>(1, sections_[i].sh_addralign));
      offset[i] = cursor;
      cursor += sections_[i].sh_size;
    }
    if (p == 1) {
      cursor = alignTo(cursor, 8);
      gotOffset = cursor;
      cursor += 8 * gotSlots;
    }
    partEnd[p] = cursor;
  }
  size_ = size_t(std::max<uint64_t>(alignTo(cursor, page), page));
  void *mem = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED)
    fail("cannot map " + std::to_string(size_) + " bytes");
  base_ = mem;
  const auto base = reinterpret_cast<uint64_t>(mem);
  for (size_t i = 0; i < sections_.size(); ++i) {
    if (part[i] < 0)
      continue;
    address_[i] = base + offset[i];
    if (sections_[i].sh_type != SHT_NOBITS)
      std::memcpy(reinterpret_cast<void *>(address_[i]), bytes.data() + sections_[i].sh_offset,
                  sections_[i].sh_size);
  }
  gotNext_ = base + gotOffset;
  gotEnd_ = gotNext_ + 8 * gotSlots;

  for (const Elf64_Shdr &s : sections_) {
    if (s.sh_type == SHT_REL && s.sh_info < sections_.size() && address_[s.sh_info])
      fail("REL relocations (without addends) are not supported");
    if (s.sh_type != SHT_RELA)
      continue;
    if (s.sh_info >= sections_.size() || s.sh_link != uint32_t(symtabIndex))
      fail("malformed relocation section '" + sectionName(s) + "'");
    if (address_[s.sh_info]) // relocations of unloaded sections (unwind, debug) do not matter
      applyRelocations(s);
  }

  // The kernels: global functions in loaded code.
  const uint64_t count = symtab_.sh_size / sizeof(Elf64_Sym);
  for (uint64_t i = 1; i < count; ++i) {
    const auto sym = read<Elf64_Sym>(symtab_.sh_offset + i * sizeof(Elf64_Sym));
    if (ELF64_ST_BIND(sym.st_info) != STB_GLOBAL || ELF64_ST_TYPE(sym.st_info) != STT_FUNC ||
        sym.st_shndx == SHN_UNDEF || sym.st_shndx >= sections_.size() ||
        part[sym.st_shndx] != 0 || sym.st_value >= sections_[sym.st_shndx].sh_size)
      continue;
    functions_[stringAt(strtab_, sym.st_name)] =
        reinterpret_cast<void *>(address_[sym.st_shndx] + sym.st_value);
  }
  for (const std::string &name : symbols)
    if (!functions_.count(name))
      fail("the object defines no function '" + name + "'");

  auto protect = [&](int p, int prot) {
    const uint64_t begin = partStart[p], end = alignTo(partEnd[p], page);
    if (end > begin && mprotect(static_cast<char *>(mem) + begin, end - begin, prot) != 0)
      fail("cannot set the protection of the loaded code");
  };
  protect(0, PROT_READ | PROT_EXEC);
  protect(1, PROT_READ);
  bytes_ = nullptr;
}

} // namespace

std::shared_ptr<const NativeCode> loadNativeCode(const std::string &object,
                                                 const std::string &cpu,
                                                 const std::vector<std::string> &features,
                                                 const std::vector<std::string> &symbols) {
  std::vector<std::string> missing = missingCpuFeatures(features);
  if (!missing.empty()) {
    std::string list;
    for (const std::string &f : missing)
      list += (list.empty() ? "" : ", ") + f + (findCpuFeature(f) ? "" : " (unknown)");
    throw Error("module compiled for " + cpu + " needs " + list + ", which this CPU lacks "
                "(recompile with dlc compile --cpu <this CPU> or --no-codegen, or run the "
                "reference kernels with --impl ref)");
  }
  auto code = std::make_shared<LoadedObject>(cpu);
  code->load(object, symbols);
  return code;
}

} // namespace dlc::rt
