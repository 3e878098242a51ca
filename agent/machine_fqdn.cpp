#include "agent/machine_fqdn.hpp"

#include <netdb.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <stdexcept>

namespace dockmesh::agent {

std::string machine_fqdn() {
  std::array<char, 256> buf{};
  if (::gethostname(buf.data(), buf.size() - 1) != 0 || buf[0] == '\0')
    throw std::runtime_error("no --fqdn given and the host name cannot be read");
  std::string name(buf.data());
  addrinfo hints{};
  hints.ai_flags = AI_CANONNAME;
  addrinfo* found = nullptr;
  // The canonical name when the resolver has one with a domain; else the plain host name.
  if (::getaddrinfo(name.c_str(), nullptr, &hints, &found) == 0 && found) {
    if (found->ai_canonname && std::string(found->ai_canonname).find('.') != std::string::npos)
      name = found->ai_canonname;
    ::freeaddrinfo(found);
  }
  for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

}  // namespace dockmesh::agent
