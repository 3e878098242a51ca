// container_stats: turns Docker's one-shot stats document (GET /containers/{id}/stats?stream=false,
// which already holds the previous sample in precpu_stats) into the few numbers an operator wants:
// CPU %, memory usage/limit, network and block I/O, pids. Pure function, any thread.
#pragma once

#include <nlohmann/json.hpp>

namespace dockmesh::agent {

nlohmann::json summarize_stats(const nlohmann::json& stats);

}  // namespace dockmesh::agent
