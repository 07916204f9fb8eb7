//===- AtomicFileTest.cpp - writeFileAtomically ---------------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "dlc/Support/AtomicFile.h"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <sys/resource.h>
#include <sys/stat.h>

namespace fs = std::filesystem;
using namespace dlc;

namespace {

/// A fresh directory under the system's temporary one.
fs::path freshDir() {
  std::string pattern = (fs::temp_directory_path() / "dlc-atomic-XXXXXX").string();
  EXPECT_NE(::mkdtemp(pattern.data()), nullptr);
  return pattern;
}

std::string readAll(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

size_t entries(const fs::path &dir) {
  return size_t(std::distance(fs::directory_iterator(dir), fs::directory_iterator()));
}

} // namespace

TEST(AtomicFile, WritesAndReplaces) {
  fs::path dir = freshDir();
  fs::path f = dir / "out.bin";
  std::string bytes(100000, '\0');
  for (size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = char(i * 7);
  ASSERT_TRUE(writeFileAtomically(f.string(), bytes).ok());
  EXPECT_EQ(readAll(f), bytes);
  ASSERT_TRUE(writeFileAtomically(f.string(), "new").ok());
  EXPECT_EQ(readAll(f), "new");
  EXPECT_EQ(entries(dir), 1u); // no temporary left behind
  // The usual permissions of a new file, not mkstemp's 0600.
  const mode_t mask = ::umask(022);
  ASSERT_TRUE(writeFileAtomically((dir / "perm").string(), "x").ok());
  ::umask(mask);
  EXPECT_EQ(fs::status(dir / "perm").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                fs::perms::others_read);
  fs::remove_all(dir);
}

TEST(AtomicFile, FailedWriteKeepsThePreviousFile) {
  fs::path dir = freshDir();
  fs::path f = dir / "model.dlcm";
  ASSERT_TRUE(writeFileAtomically(f.string(), "previous contents").ok());
  // A file size limit makes the write fail half-way (EFBIG), as a full disk
  // would; SIGXFSZ would otherwise end the process.
  struct rlimit old;
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  auto oldHandler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old;
  small.rlim_cur = 4096;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  Status s = writeFileAtomically(f.string(), std::string(1 << 20, 'x'));
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, oldHandler);
  ASSERT_TRUE(s.failed());
  EXPECT_EQ(s.message(), f.string() + ": error: cannot write: File too large");
  EXPECT_EQ(readAll(f), "previous contents");
  EXPECT_EQ(entries(dir), 1u);
  fs::remove_all(dir);
}

TEST(AtomicFile, ErrorsSayWhy) {
  fs::path dir = freshDir();
  Status s = writeFileAtomically((dir / "missing" / "out.npy").string(), "x");
  ASSERT_TRUE(s.failed());
  EXPECT_EQ(s.message(), (dir / "missing" / "out.npy").string() +
                             ": error: cannot write: No such file or directory");
  s = writeFileAtomically(dir.string(), "x");
  ASSERT_TRUE(s.failed());
  EXPECT_EQ(s.message(), dir.string() + ": error: cannot write: it is a directory");
  EXPECT_TRUE(writeFileAtomically("", "x").failed());
  EXPECT_EQ(entries(dir), 0u);
  fs::remove_all(dir);
}
