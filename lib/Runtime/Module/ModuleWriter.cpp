//===- ModuleWriter.cpp - Writing .dlcm files ------------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Module.h"
#include "dlc/Support/AtomicFile.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

using namespace dlc::rt;

void ModuleWriter::setParamData(int paramIndex, std::vector<float> data) {
  data_[paramIndex] = std::move(data);
}

static void putU32(std::string &s, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    s.push_back(char((v >> (8 * i)) & 0xff));
}
static void putU64(std::string &s, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    s.push_back(char((v >> (8 * i)) & 0xff));
}
static uint64_t alignUp(uint64_t v) {
  return (v + kWeightsAlignment - 1) / kWeightsAlignment * kWeightsAlignment;
}

bool ModuleWriter::serialize(std::string &bytes, std::string &error) {
  header_.set_version(kFormatVersion);
  // Lay out the weights section: each stored param at a 64-byte boundary.
  uint64_t cursor = 0;
  for (int p = 0; p < header_.params_size(); ++p) {
    dlc::module::Param *param = header_.mutable_params(p);
    auto it = data_.find(p);
    if (it == data_.end()) {
      param->clear_data_offset();
      param->clear_data_size();
      continue;
    }
    cursor = alignUp(cursor);
    param->set_data_offset(cursor);
    param->set_data_size(uint64_t(it->second.size()) * 4);
    cursor += uint64_t(it->second.size()) * 4;
  }
  for (const auto &entry : data_)
    if (entry.first < 0 || entry.first >= header_.params_size()) {
      error = "data attached to param #" + std::to_string(entry.first) + ", which does not exist";
      return false;
    }
  if (!header_.IsInitialized()) {
    error = "invalid module: missing required fields: " + header_.InitializationErrorString();
    return false;
  }
  // Validate exactly what a reader will see.
  std::string what;
  if (!validateModule(header_, cursor, what)) {
    error = "invalid module: " + what;
    return false;
  }
  std::string headerBytes;
  if (!header_.SerializeToString(&headerBytes)) {
    error = "cannot serialize the module header";
    return false;
  }
  bytes.clear();
  bytes.append(kModuleMagic, 4);
  putU32(bytes, kFormatVersion);
  putU64(bytes, headerBytes.size());
  bytes += headerBytes;
  bytes.resize(alignUp(bytes.size()), '\0');
  uint64_t sectionStart = bytes.size();
  bytes.resize(sectionStart + cursor, '\0');
  for (const auto &[p, values] : data_) {
    const dlc::module::Param &param = header_.params(p);
    // Little-endian hosts only (x86-64/aarch64), as is the rest of the runtime.
    if (!values.empty())
      std::memcpy(&bytes[sectionStart + param.data_offset()], values.data(), values.size() * 4);
  }
  return true;
}

bool ModuleWriter::write(const std::string &path, std::string &error) {
  std::string bytes;
  if (!serialize(bytes, error)) {
    error = path + ": error: " + error;
    return false;
  }
  if (Status s = writeFileAtomically(path, bytes); s.failed()) {
    error = s.message();
    return false;
  }
  return true;
}
