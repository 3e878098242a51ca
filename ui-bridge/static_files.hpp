// static_files: the web UI (ui-bridge/web/), read into memory once at start-up so that serving a
// file never touches the disk from a Beast handler. Only the files present at start are served; a
// request path is looked up in that table, so `..` and other traversal tricks simply miss. "/"
// serves index.html. Read-only after construction: any thread.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace dockmesh::bridge {

struct static_file {
  std::string content;
  std::string mime;
};

class static_files {
 public:
  static_files() = default;
  // Loads every regular file under `dir` (recursively, up to 8 MiB each); throws if `dir` is
  // missing.
  static static_files load_dir(const std::string& dir);
  void add(const std::string& path, std::string content);  // "/app.js"

  const static_file* find(std::string_view path) const;
  std::size_t size() const { return files_.size(); }

 private:
  std::map<std::string, static_file, std::less<>> files_;
};

std::string mime_type_for(std::string_view path);

}  // namespace dockmesh::bridge
