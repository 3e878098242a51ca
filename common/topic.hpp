// topic: the bus topics of docs/protocol.md, built and parsed in one place.
// Every topic ends in '/', and a name segment may not contain '/', so subscribing to the prefix
// `req/host/a/` can never match `req/host/ab/` (the prefix-collision bug). Handlers never build
// topic strings by hand: they call these. Pure functions, any thread.
#pragma once

#include <string>
#include <string_view>

#include "common/result.hpp"

namespace dockmesh::common {

enum class topic_kind { ann, req_any, req_host, req_all, rep, evt_host, dir };

struct topic {
  topic_kind kind;
  std::string name;  // fqdn for req_host/evt_host, client id for rep; empty otherwise
  std::string str() const;
};

// A segment (fqdn or client id): 1..253 chars of [A-Za-z0-9._-], not starting with '.' or '-'.
bool valid_segment(std::string_view s);

result<topic> make_topic(topic_kind kind, std::string_view name = {});
result<topic> parse_topic(std::string_view s);

// Ready-made strings for the common cases; the fqdn/client-id versions validate.
std::string topic_ann();
std::string topic_req_any();
std::string topic_req_all();
std::string topic_dir();
result<std::string> topic_req_host(std::string_view fqdn);
result<std::string> topic_evt_host(std::string_view fqdn);
result<std::string> topic_rep(std::string_view client_id);

}  // namespace dockmesh::common
