// request_cache: remembers recent requests by id so that a retry (same id, higher attempt) is
// answered with the first answer instead of running the action again, and a retry that arrives
// while the first attempt is still running is not started twice. Bounded: the oldest finished
// entries are forgotten first. A retry from a different user or role than the first is refused:
// request ids must not become a way to read someone else's answer. Bus thread only.
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

  explicit request_cache(std::size_t capacity = 4096) : capacity_(capacity) {}

  // First sight of `request.id` marks it running and returns fresh. Otherwise: running (drop the
  // retry), answered (*cached is the first reply), or foreign (same id, another user or role).
  outcome begin(const common::envelope& request, const common::envelope** cached);
  void complete(const std::string& id, common::envelope reply);
  // Forgets a running request that will never complete (it could not be queued).
  void abandon(const std::string& id);

  std::size_t size() const { return entries_.size(); }

 private:
  struct entry {
    std::string user, role;
    std::optional<common::envelope> reply;
  };
  void evict();

  std::size_t capacity_;
  std::unordered_map<std::string, entry> entries_;
  std::deque<std::string> order_;
};

}  // namespace dockmesh::agent
