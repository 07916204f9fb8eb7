//===- AtomicFile.cpp - Writing an output file all at once ----------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "dlc/Support/AtomicFile.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace dlc;

namespace {

Status failure(const std::string &path, const std::string &why) {
  return Status::error(path + ": error: cannot write: " + why);
}

std::string errnoText() { return std::strerror(errno); }

} // namespace

Status dlc::writeFileAtomically(const std::string &path, std::string_view bytes) {
  if (path.empty())
    return Status::error("error: cannot write: empty file name");
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    return failure(path, "it is a directory");
  // The temporary lives in the target's directory: rename() is atomic only
  // within one file system.
  std::string pattern = path + ".tmp.XXXXXX";
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  const int fd = ::mkstemp(name.data());
  if (fd < 0)
    return failure(path, errnoText());
  const std::string tmp(name.data());
  auto abandon = [&](const std::string &why) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return failure(path, why);
  };
  // mkstemp makes the file 0600; an output file gets the usual 0666 & ~umask.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  if (::fchmod(fd, 0666 & ~mask) != 0)
    return abandon(errnoText());
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return abandon(errnoText());
    }
    done += size_t(n);
  }
  if (::fsync(fd) != 0)
    return abandon(errnoText());
  if (::close(fd) != 0) {
    const std::string why = errnoText();
    ::unlink(tmp.c_str());
    return failure(path, why);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = errnoText();
    ::unlink(tmp.c_str());
    return failure(path, why);
  }
  return {};
}
