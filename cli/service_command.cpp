// service_command: `dockmeshctl projects ...` and `dockmeshctl services ...`: one project or
// service control call (docs/services.md), printed like the directory commands. The CLI's key is
// an admin key: it sees every project; --for USER_ID acts for one user (names are looked up among
// that user's projects, and a project created so belongs to that user). Main thread only.
#include <stdexcept>

#include "cli/ctl_commands.hpp"
#include "common/protocol/names.hpp"

namespace dockmesh::cli {
namespace {

using json = nlohmann::json;
namespace names = common::protocol::names;

long replicas_of(const std::string& text) {
  std::size_t used = 0;
  long n = -1;
  try {
    n = std::stol(text, &used);
  } catch (const std::exception&) {
  }
  if (n < 0 || n > 1000 || used != text.size())
    throw std::invalid_argument("replicas must be 0..1000");
  return n;
}

json spec_of(const command_line& cl) {
  json spec = json::object();
  if (cl.has("spec")) {
    spec = json::parse(cl.value("spec"), nullptr, false);
    if (spec.is_discarded() || !spec.is_object())
      throw std::invalid_argument("--spec must be a JSON object");
  }
  if (cl.has("image")) spec["image"] = cl.value("image");
  if (cl.has("replicas")) spec["replicas"] = replicas_of(cl.value("replicas"));
  return spec;
}

void need_words(const command_line& cl, std::size_t n, const char* usage) {
  if (cl.words.size() != n) throw std::invalid_argument(std::string("usage: dockmeshctl ") + usage);
}

std::pair<std::string, json> projects_call(const command_line& cl) {
  std::string verb = cl.words.empty() ? "list" : cl.words[0];
  if (verb == "list") return {std::string(names::project_list), json::object()};
  if (verb == "create") {
    need_words(cl, 2, "projects create NAME");
    return {std::string(names::project_create), {{"name", cl.words[1]}}};
  }
  if (verb == "delete") {
    need_words(cl, 2, "projects delete ID|NAME");
    return {std::string(names::project_delete), {{"project", cl.words[1]}}};
  }
  throw std::invalid_argument("projects: list, create NAME or delete ID|NAME");
}

std::pair<std::string, json> services_call(const command_line& cl) {
  const std::string& verb = cl.words[0];
  if (verb == "list") {
    json body = json::object();
    if (cl.has("project")) body["project"] = cl.value("project");
    return {std::string(names::service_list), body};
  }
  if (verb == "create") {
    need_words(cl, 3, "services create PROJECT NAME --image I [--replicas N] [--spec JSON]");
    return {std::string(names::service_create),
            {{"project", cl.words[1]}, {"name", cl.words[2]}, {"spec", spec_of(cl)}}};
  }
  if (verb == "scale") {
    need_words(cl, 3, "services scale SERVICE N");
    return {std::string(names::service_scale),
            {{"service", cl.words[1]}, {"replicas", replicas_of(cl.words[2])}}};
  }
  need_words(cl, 2, "services get|update|delete SERVICE");
  json body = {{"service", cl.words[1]}};
  if (verb == "get") return {std::string(names::service_get), body};
  if (verb == "delete") return {std::string(names::service_delete), body};
  if (verb == "update") {
    body["spec"] = spec_of(cl);
    return {std::string(names::service_update), body};
  }
  throw std::invalid_argument("services: list, get, create, update, scale or delete");
}

}  // namespace

int run_service_command(const ctl_context& ctx) {
  std::pair<std::string, json> call;
  try {
    call = ctx.cl.command == "projects" ? projects_call(ctx.cl) : services_call(ctx.cl);
  } catch (const std::invalid_argument& e) {
    return ctx.fail(exit_code::usage_or_timeout, e.what());
  }
  if (ctx.cl.has("for")) call.second["user"] = ctx.cl.value("for");
  zmq::context_t zctx;
  common::control_client control(zctx, ctx.bus_options());
  return print_control_call(ctx, control, call.first, std::move(call.second));
}

}  // namespace dockmesh::cli
