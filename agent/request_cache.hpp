// request_cache: remembers recent requests by id so that a retry (same id, higher attempt) is
// answered with the first answer instead of running the action again, and a retry that arrives
// while the first attempt is still running is not started twice. Bounded in entries and in bytes
// (a reply is kept msgpack-encoded, several times smaller than its JSON tree; a few large
// list-containers replies must not pin megabytes): the oldest finished entries are forgotten
// first. A retry from a different user or role than the first is refused: request ids must not
// become a way to read someone else's answer. Bus thread only.
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/envelope.hpp"

namespace dockmesh::agent {

class request_cache {
 public:
  enum class outcome { fresh, running, answered, foreign };

  static constexpr std::size_t default_max_bytes = 2 * 1024 * 1024;

  explicit request_cache(std::size_t capacity = 1024, std::size_t max_bytes = default_max_bytes)
      : capacity_(capacity), max_bytes_(max_bytes) {}

  // First sight of `request.id` marks it running and returns fresh. Otherwise: running (drop the
  // retry), answered (*cached is the first reply), or foreign (same id, another user or role).
  outcome begin(const common::envelope& request, common::envelope* cached);
  void complete(const std::string& id, const common::envelope& reply);
  // The same with the reply already encoded (as a worker hands it over), saving an encode.
  void complete_encoded(const std::string& id, std::string reply);
  // Forgets a running request that will never complete (it could not be queued).
  void abandon(const std::string& id);

  std::size_t size() const { return entries_.size(); }
  std::size_t bytes() const { return bytes_; }  // encoded replies held

 private:
  struct entry {
    std::string user, role;
    std::optional<std::string> reply;  // msgpack, as common::encode wrote it
  };
  void evict();
  bool over_bounds() const { return entries_.size() > capacity_ || bytes_ > max_bytes_; }

  std::size_t capacity_;
  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  std::unordered_map<std::string, entry> entries_;
  std::deque<std::string> order_;
};

}  // namespace dockmesh::agent
