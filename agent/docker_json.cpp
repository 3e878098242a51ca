#include "agent/docker_json.hpp"

namespace dockmesh::agent {

std::string container_name_of(const json& c) {
  std::string name = str_of(c, "Name");
  if (name.empty()) {
    const json& names = field_of(c, "Names");
    if (names.is_array() && !names.empty() && names[0].is_string())
      name = names[0].get<std::string>();
  }
  if (!name.empty() && name[0] == '/') name.erase(0, 1);
  return name;
}

}  // namespace dockmesh::agent
