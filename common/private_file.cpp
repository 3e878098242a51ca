#include "common/private_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <stdexcept>

namespace dockmesh::common {

void write_private_file(const std::string& path, const std::string& content) {
  std::string temporary = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot write " + path);
  bool ok = ::fchmod(fd, 0600) == 0;  // 0600 even under an unusual umask
  ok = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) && ok;
  ok = ::fsync(fd) == 0 && ok;
  ok = ::close(fd) == 0 && ok;
  if (ok && std::rename(temporary.c_str(), path.c_str()) == 0) return;
  ::unlink(temporary.c_str());
  throw std::runtime_error("cannot write " + path);
}

}  // namespace dockmesh::common
