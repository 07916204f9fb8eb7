//===- Npz.cpp - NumPy .npz archives --------------------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// An .npz file is a ZIP archive of .npy members (numpy.savez: stored;
// numpy.savez_compressed: deflated), written with ZIP64 extensions. This
// reader walks the central directory, validating every size and offset
// against the file before touching it, and inflates deflated members with
// zlib.
//
//===----------------------------------------------------------------------===//

#include "dlc/Runtime/Npy.h"

#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <sstream>

using namespace dlc::rt;

namespace {

constexpr uint64_t kMaxMemberBytes = uint64_t(16) << 30; // 16 GiB uncompressed

uint32_t le32(const std::string &b, uint64_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i)
    v = (v << 8) | uint8_t(b[at + i]);
  return v;
}
uint16_t le16(const std::string &b, uint64_t at) {
  return uint16_t(uint8_t(b[at]) | (uint8_t(b[at + 1]) << 8));
}
uint64_t le64(const std::string &b, uint64_t at) {
  return uint64_t(le32(b, at)) | (uint64_t(le32(b, at + 4)) << 32);
}

bool inflateRaw(const char *src, uint64_t srcSize, uint64_t dstSize, std::string &out,
                std::string &error) {
  out.assign(dstSize, '\0');
  z_stream zs{};
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) {
    error = "cannot initialize zlib";
    return false;
  }
  uint64_t inDone = 0, outDone = 0;
  int rc = Z_OK;
  while (rc == Z_OK) {
    uInt inChunk = uInt(std::min<uint64_t>(srcSize - inDone, 1u << 30));
    uInt outChunk = uInt(std::min<uint64_t>(dstSize - outDone, 1u << 30));
    zs.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(src + inDone));
    zs.avail_in = inChunk;
    zs.next_out = reinterpret_cast<Bytef *>(&out[outDone]);
    zs.avail_out = outChunk;
    rc = inflate(&zs, Z_NO_FLUSH);
    inDone += inChunk - zs.avail_in;
    outDone += outChunk - zs.avail_out;
    if (rc == Z_OK && zs.avail_in == inChunk && zs.avail_out == outChunk)
      break; // no progress
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END || outDone != dstSize) {
    error = "corrupt deflate data";
    return false;
  }
  return true;
}

} // namespace

bool dlc::rt::parseNpz(const std::string &bytes, std::vector<std::pair<std::string, NpyArray>> &out,
                       std::string &error) {
  const uint64_t n = bytes.size();
  // End of central directory: 22 bytes + a comment of at most 65535 bytes.
  if (n < 22) {
    error = "not a .npz (ZIP) archive: too short";
    return false;
  }
  int64_t eocd = -1;
  for (int64_t at = int64_t(n) - 22; at >= 0 && at >= int64_t(n) - 22 - 65535; --at)
    if (le32(bytes, at) == 0x06054b50) {
      eocd = at;
      break;
    }
  if (eocd < 0) {
    error = "not a .npz (ZIP) archive: no end-of-central-directory record";
    return false;
  }
  uint64_t count = le16(bytes, eocd + 10);
  uint64_t cdSize = le32(bytes, eocd + 12), cdOffset = le32(bytes, eocd + 16);
  // ZIP64 end-of-central-directory locator just before the EOCD.
  if ((count == 0xFFFF || cdOffset == 0xFFFFFFFF || cdSize == 0xFFFFFFFF) && eocd >= 20 &&
      le32(bytes, eocd - 20) == 0x07064b50) {
    uint64_t z = le64(bytes, eocd - 20 + 8);
    // (n < 56 first: n - 56 would wrap around.)
    if (n < 56 || z > n - 56 || le32(bytes, z) != 0x06064b50) {
      error = "corrupt ZIP64 end-of-central-directory record";
      return false;
    }
    count = le64(bytes, z + 32);
    cdSize = le64(bytes, z + 40);
    cdOffset = le64(bytes, z + 48);
  }
  if (cdOffset > n || cdSize > n - cdOffset || count > cdSize / 46) {
    error = "corrupt central directory (offset, size or entry count outside the file)";
    return false;
  }
  uint64_t at = cdOffset;
  for (uint64_t e = 0; e < count; ++e) {
    if (at + 46 > cdOffset + cdSize || le32(bytes, at) != 0x02014b50) {
      error = "corrupt central directory entry " + std::to_string(e);
      return false;
    }
    uint16_t method = le16(bytes, at + 10);
    uint64_t csize = le32(bytes, at + 20), usize = le32(bytes, at + 24);
    uint16_t nameLen = le16(bytes, at + 28), extraLen = le16(bytes, at + 30),
             commentLen = le16(bytes, at + 32);
    uint64_t local = le32(bytes, at + 42);
    uint64_t next = at + 46 + uint64_t(nameLen) + extraLen + commentLen;
    if (next > cdOffset + cdSize) {
      error = "corrupt central directory entry " + std::to_string(e);
      return false;
    }
    std::string name = bytes.substr(at + 46, nameLen);
    // ZIP64 extra field: the 64-bit values of the fields that are all ones.
    for (uint64_t x = at + 46 + nameLen; x + 4 <= at + 46 + nameLen + extraLen;) {
      uint16_t id = le16(bytes, x), len = le16(bytes, x + 2);
      if (x + 4 + len > at + 46 + nameLen + extraLen)
        break;
      if (id == 0x0001) {
        uint64_t f = x + 4, end = x + 4 + len;
        auto take = [&](uint64_t &field) {
          if (field == 0xFFFFFFFF && f + 8 <= end) {
            field = le64(bytes, f);
            f += 8;
          }
        };
        take(usize);
        take(csize);
        take(local);
      }
      x += 4 + len;
    }
    at = next;
    if (name.size() < 4 || name.compare(name.size() - 4, 4, ".npy") != 0) {
      error = "member '" + name + "' is not a .npy array";
      return false;
    }
    if (usize > kMaxMemberBytes) {
      error = "member '" + name + "' is absurdly large (" + std::to_string(usize) + " bytes)";
      return false;
    }
    if (local > n || n - local < 30 || le32(bytes, local) != 0x04034b50) {
      error = "member '" + name + "': bad local header offset";
      return false;
    }
    uint64_t data = local + 30 + le16(bytes, local + 26) + le16(bytes, local + 28);
    if (data > n || csize > n - data) {
      error = "member '" + name + "' extends past the end of the file";
      return false;
    }
    // Deflate cannot expand more than 1032:1, so a larger claimed size is a
    // corrupt (or hostile) header: refuse it before allocating.
    if (method == 8 && usize > csize * 1032 + 1024) {
      error = "member '" + name + "' claims " + std::to_string(usize) + " bytes from " +
              std::to_string(csize) + " compressed bytes";
      return false;
    }
    std::string npy;
    if (method == 0) {
      if (csize != usize) {
        error = "member '" + name + "': stored sizes disagree";
        return false;
      }
      npy = bytes.substr(data, csize);
    } else if (method == 8) {
      std::string why;
      if (!inflateRaw(bytes.data() + data, csize, usize, npy, why)) {
        error = "member '" + name + "': " + why;
        return false;
      }
    } else {
      error = "member '" + name + "' uses unsupported compression method " +
              std::to_string(method);
      return false;
    }
    NpyArray arr;
    std::string why;
    if (!parseNpy(npy, arr, why)) {
      error = "member '" + name + "': " + why;
      return false;
    }
    out.emplace_back(name.substr(0, name.size() - 4), std::move(arr));
  }
  return true;
}

bool dlc::rt::readNpz(const std::string &path, std::vector<std::pair<std::string, NpyArray>> &out,
                      std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": error: cannot open";
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string why;
  if (!parseNpz(ss.str(), out, why)) {
    error = path + ": error: " + why;
    return false;
  }
  return true;
}
