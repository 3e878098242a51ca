#include "ui-bridge/static_files.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace dockmesh::bridge {

namespace fs = std::filesystem;

std::string mime_type_for(std::string_view path) {
  auto dot = path.rfind('.');
  std::string_view ext = dot == std::string_view::npos ? "" : path.substr(dot);
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  return "application/octet-stream";
}

static_files static_files::load_dir(const std::string& dir) {
  if (!fs::is_directory(dir)) throw std::runtime_error("static directory " + dir + " not found");
  static_files out;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.file_size() > 8 * 1024 * 1024) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // Appended, not `"/" + std::string`: GCC 12 at -O3 warns -Wrestrict (a false positive inside
    // std::string).
    std::string url = "/";
    url.append(fs::relative(entry.path(), dir).generic_string());
    out.add(url, std::move(content));
  }
  return out;
}

void static_files::add(const std::string& path, std::string content) {
  files_[path] = static_file{std::move(content), mime_type_for(path)};
}

const static_file* static_files::find(std::string_view path) const {
  if (path == "/" || path.empty()) path = "/index.html";
  auto it = files_.find(path);
  return it == files_.end() ? nullptr : &it->second;
}

}  // namespace dockmesh::bridge
