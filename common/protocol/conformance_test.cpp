// Conformance of the protocol's descriptions: the catalogue (common/protocol/catalogue.hpp), the
// JSON Schemas in schemas/ and the structs of common/action_args.hpp. Every catalogue entry's
// schema files exist and every schema file belongs to an entry. Every agent action's body schema
// has a struct with the same field names (nested objects too); a full sample validates, parses
// and round-trips through to_json(); unknown fields, wrong types, missing required fields and
// values just outside each bound are refused by both; the struct's defaults are the schema's.
#include "common/action_args.hpp"

#include <doctest/doctest.h>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <set>

#include "common/protocol/catalogue.hpp"
#include "common/stream_args.hpp"

using namespace dockmesh::common;
namespace protocol = dockmesh::common::protocol;
using nlohmann::json;

namespace {

struct conformance_case {
  std::set<std::string> fields;
  std::function<result<json>(const json&)> roundtrip;  // parse, then to_json
  json sample;
};

template <class T, std::size_t N>
conformance_case make_case(const field_list<N>& fields, result<T> (*parse)(const json&),
                           json sample) {
  return {std::set<std::string>(fields.begin(), fields.end()),
          [parse](const json& body) -> result<json> {
            auto a = parse(body);
            if (!a) return a.err();
            auto again = parse(to_json(*a));
            if (!again) return again.err();
            if (!(*again == *a)) return make_error(errc::internal, "round trip changed the value");
            return to_json(*a);
          },
          std::move(sample)};
}

const std::map<std::string, conformance_case>& cases() {
  static const std::map<std::string, conformance_case> all = {
      {"ping", make_case(empty_args::fields, parse_empty_args, json::object())},
      {"host-info", make_case(empty_args::fields, parse_empty_args, json::object())},
      {"disk-usage", make_case(empty_args::fields, parse_empty_args, json::object())},
      {"list-containers",
       make_case(list_containers_args::fields, parse_list_containers_args,
                 {{"all", false}, {"label", "tier=web"}, {"name", "web"}, {"status", "running"}})},
      {"inspect-container",
       make_case(container_ref_args::fields, parse_container_ref_args, {{"id", "web-1"}})},
      {"start-container",
       make_case(container_ref_args::fields, parse_container_ref_args, {{"id", "0123abcd"}})},
      {"container-stats",
       make_case(container_ref_args::fields, parse_container_ref_args, {{"id", "web"}})},
      {"stop-container", make_case(stop_container_args::fields, parse_stop_container_args,
                                   {{"id", "web"}, {"timeout", 3}})},
      {"restart-container", make_case(stop_container_args::fields, parse_stop_container_args,
                                      {{"id", "web"}, {"timeout", 0}})},
      {"kill-container", make_case(kill_container_args::fields, parse_kill_container_args,
                                   {{"id", "web"}, {"signal", "SIGHUP"}})},
      {"remove-container", make_case(remove_container_args::fields, parse_remove_container_args,
                                     {{"id", "web"}, {"force", true}, {"volumes", true}})},
      {"delete-container", make_case(remove_container_args::fields, parse_remove_container_args,
                                     {{"id", "web"}, {"force", false}, {"volumes", false}})},
      {"container-logs", make_case(container_logs_args::fields, parse_container_logs_args,
                                   {{"id", "web"},
                                    {"tail", 50},
                                    {"since", 1700000000},
                                    {"timestamps", true},
                                    {"stdout", true},
                                    {"stderr", false}})},
      {"create-container", make_case(create_container_args::fields, parse_create_container_args,
                                     {{"image", "local/busybox:latest"},
                                      {"template", "redis"},
                                      {"name", "web"},
                                      {"cmd", {"sleep", "60"}},
                                      {"entrypoint", {"/bin/sh", "-c"}},
                                      {"env", {"A=1", "B="}},
                                      {"labels", {{"tier", "web"}}},
                                      {"working_dir", "/srv"},
                                      {"user", "1000:1000"},
                                      {"ports",
                                       {{{"container_port", 80},
                                         {"protocol", "tcp"},
                                         {"host_port", 8080},
                                         {"host_ip", "127.0.0.1"}}}},
                                      {"binds", {"data:/data:ro"}},
                                      {"volumes", {"/cache"}},
                                      {"memory", 67108864},
                                      {"cpus", 0.5},
                                      {"restart_policy", "on-failure:3"},
                                      {"network_mode", "none"},
                                      {"start", false},
                                      {"instances", 3},
                                      {"stop_timeout", 5},
                                      {"healthcheck",
                                       {{"test", {"CMD-SHELL", "true"}},
                                        {"interval_s", 2},
                                        {"timeout_s", 1},
                                        {"retries", 3},
                                        {"start_period_s", 0}}}})},
      {"follow-logs", make_case(follow_logs_args::fields, parse_follow_logs_args,
                                {{"id", "web"},
                                 {"tail", 10},
                                 {"since", 0},
                                 {"timestamps", false},
                                 {"stdout", true},
                                 {"stderr", true},
                                 {"credit", 65536}})},
      {"exec-start", make_case(exec_start_args::fields, parse_exec_start_args,
                               {{"id", "web"},
                                {"cmd", {"sh", "-c", "echo hi"}},
                                {"tty", true},
                                {"cols", 120},
                                {"rows", 40},
                                {"credit", 65536}})},
      {"follow-stats", make_case(follow_stats_args::fields, parse_follow_stats_args,
                                 {{"id", "web"}, {"credit", 8192}})},
      {"list-images", make_case(list_images_args::fields, parse_list_images_args,
                                {{"all", true}, {"reference", "local/*"}})},
      {"inspect-image", make_case(image_ref_args::fields, parse_image_ref_args,
                                  {{"image", "local/busybox:latest"}})},
      {"pull-image",
       make_case(pull_image_args::fields, parse_pull_image_args,
                 {{"image", "localhost:5000/busybox:latest"},
                  {"auth",
                   {{"username", "u"}, {"password", "p"}, {"server_address", "localhost:5000"}}}})},
      {"remove-image",
       make_case(remove_image_args::fields, parse_remove_image_args,
                 {{"image", "local/busybox:latest"}, {"force", true}, {"noprune", false}})},
  };
  return all;
}

json load(const std::string& path) {
  std::ifstream in(path);
  return json::parse(in);
}

bool valid(const json& schema_doc, const json& value, std::string* why = nullptr) {
  valijson::Schema schema;
  valijson::SchemaParser parser;
  valijson::adapters::NlohmannJsonAdapter schema_adapter(schema_doc);
  parser.populateSchema(schema_adapter, schema);
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::NlohmannJsonAdapter target(value);
  bool ok = validator.validate(schema, target, &results);
  valijson::ValidationResults::Error e;
  if (!ok && why && results.popError(e)) *why = e.description;
  return ok;
}

std::set<std::string> keys(const json& properties) {
  std::set<std::string> out;
  for (const auto& [k, v] : properties.items()) out.insert(k);
  return out;
}

// Every file of schemas/, by stem ("ping", "ping.reply"). A missing folder is a failure.
std::map<std::string, json> all_schema_files() {
  std::map<std::string, json> out;
  REQUIRE(std::filesystem::is_directory(DOCKMESH_SCHEMAS_DIR));
  for (const auto& e : std::filesystem::directory_iterator(DOCKMESH_SCHEMAS_DIR))
    if (e.path().extension() == ".json") out[e.path().stem().string()] = load(e.path().string());
  REQUIRE_FALSE(out.empty());
  return out;
}

// The body schemas of the catalogue's agent actions: the ones with a struct.
std::map<std::string, json> schema_files() {
  auto all = all_schema_files();
  std::map<std::string, json> out;
  for (const auto* spec :
       protocol::catalogue::builtin().of_kind(protocol::message_kind::agent_action)) {
    REQUIRE(all.count(spec->body_schema) == 1);
    out[spec->body_schema] = all[spec->body_schema];
  }
  return out;
}

}  // namespace

TEST_CASE("every catalogue entry has its schema files and every schema file an entry") {
  auto files = all_schema_files();
  std::set<std::string> named;
  for (const auto& e : protocol::catalogue::builtin().entries()) {
    CAPTURE(e.name);
    for (const auto* stem : {&e.body_schema, &e.reply_schema}) {
      if (stem->empty()) continue;
      named.insert(*stem);
      CHECK(files.count(*stem) == 1);
    }
    bool request = e.kind == protocol::message_kind::agent_action ||
                   e.kind == protocol::message_kind::control_call;
    CHECK(request != e.reply_schema.empty());  // requests are answered, nothing else is
  }
  // This file's loops name a pair's parts as references, not as a structured binding: CAPTURE is
  // a lambda, which clang 14 cannot make capture a binding.
  for (const auto& file : files) {
    const std::string& stem = file.first;
    const json& doc = file.second;
    CAPTURE(stem);
    CHECK(named.count(stem) == 1);
    CHECK(doc.value("$schema", "") == "http://json-schema.org/draft-07/schema#");
    CHECK(doc.value("type", "") == "object");
    CHECK_FALSE(doc.value("description", "").empty());
  }
}

TEST_CASE("every agent action of the catalogue has a struct") {
  for (const auto* spec :
       protocol::catalogue::builtin().of_kind(protocol::message_kind::agent_action)) {
    CAPTURE(spec->name);
    CHECK(cases().count(spec->body_schema) == 1);
  }
}

TEST_CASE("schema properties and struct fields are the same names, nested objects included") {
  for (const auto& schema : schema_files()) {
    const std::string& name = schema.first;
    const json& doc = schema.second;
    CAPTURE(name);
    REQUIRE(cases().count(name) == 1);
    CHECK(doc.value("$schema", "") == "http://json-schema.org/draft-07/schema#");
    CHECK(doc.value("additionalProperties", true) == false);
    CHECK(keys(doc["properties"]) == cases().at(name).fields);
  }
  auto create = load(DOCKMESH_SCHEMAS_DIR "/create-container.json");
  CHECK(keys(create["properties"]["ports"]["items"]["properties"]) ==
        std::set<std::string>(port_spec::fields.begin(), port_spec::fields.end()));
  CHECK(keys(create["properties"]["healthcheck"]["properties"]) ==
        std::set<std::string>(healthcheck_spec::fields.begin(), healthcheck_spec::fields.end()));
  auto pull = load(DOCKMESH_SCHEMAS_DIR "/pull-image.json");
  CHECK(keys(pull["properties"]["auth"]["properties"]) ==
        std::set<std::string>(registry_auth::fields.begin(), registry_auth::fields.end()));
}

TEST_CASE("samples validate, parse, round-trip, and the struct's JSON validates too") {
  for (const auto& schema : schema_files()) {
    const std::string& name = schema.first;
    const json& doc = schema.second;
    CAPTURE(name);
    const auto& c = cases().at(name);
    std::string why;
    CHECK_MESSAGE(valid(doc, c.sample, &why), why);
    auto back = c.roundtrip(c.sample);
    REQUIRE_MESSAGE(back.ok(), (back.ok() ? "" : back.err().message));
    CHECK_MESSAGE(valid(doc, *back, &why), why);
  }
}

TEST_CASE("unknown fields, wrong types and missing required fields fail in both") {
  for (const auto& schema : schema_files()) {
    const std::string& name = schema.first;
    const json& doc = schema.second;
    CAPTURE(name);
    const auto& c = cases().at(name);
    json extra = c.sample;
    extra["no_such_field"] = 1;
    CHECK_FALSE(valid(doc, extra));
    auto r = c.roundtrip(extra);
    REQUIRE_FALSE(r.ok());
    CHECK(r.err().message.find("no_such_field") != std::string::npos);
    for (const auto& req : doc.value("required", json::array())) {
      json missing = c.sample;
      missing.erase(req.get<std::string>());
      CHECK_FALSE(valid(doc, missing));
      auto m = c.roundtrip(missing);
      REQUIRE_FALSE(m.ok());
      CHECK(m.err().message.find(req.get<std::string>()) != std::string::npos);
    }
    for (const auto& item : c.sample.items()) {
      const std::string& field = item.key();
      json wrong = c.sample;
      wrong[field] = json::array({json::object()});  // no field of any action takes this
      CAPTURE(field);
      CHECK_FALSE(valid(doc, wrong));
      auto w = c.roundtrip(wrong);
      REQUIRE_FALSE(w.ok());
      CHECK(w.err().message.find(field) != std::string::npos);
    }
    CHECK_FALSE(c.roundtrip(json::array()).ok());
    CHECK_FALSE(c.roundtrip(json("text")).ok());
  }
}

TEST_CASE("parsers name the field and never throw on hostile shapes") {
  auto r = parse_stop_container_args({{"id", "x"}, {"timeout", "10"}});
  REQUIRE_FALSE(r.ok());
  CHECK(r.err().message == "field 'timeout' must be an integer, got string");
  CHECK(
      parse_stop_container_args({{"id", "x"}, {"timeout", 99999}}).err().message.find("timeout") !=
      std::string::npos);
  CHECK(parse_stop_container_args({{"id", "x"}, {"timeout", 1.5}}).err().message.find("timeout") !=
        std::string::npos);
  CHECK(parse_stop_container_args({{"id", "x"}, {"timeout", 18446744073709551615ull}})
            .err()
            .message.find("timeout") != std::string::npos);
  CHECK(parse_container_ref_args({{"id", ""}}).err().message == "field 'id' must not be empty");
  CHECK(parse_container_ref_args({{"id", std::string(200, 'a')}}).err().message.find("longer") !=
        std::string::npos);
  auto env = parse_create_container_args({{"image", "x"}, {"env", {"A=1", 5}}});
  CHECK(env.err().message == "field 'env[1]' must be a string, got an integer");
  auto port =
      parse_create_container_args({{"image", "x"}, {"ports", {{{"container_port", 70000}}}}});
  CHECK(port.err().message.find("ports[0].container_port") != std::string::npos);
  auto label = parse_create_container_args({{"image", "x"}, {"labels", {{"a", 1}}}});
  CHECK(label.err().message == "field 'labels.a' must be a string, got an integer");
  CHECK(parse_create_container_args(json::object()).err().message.find("image") !=
        std::string::npos);
  auto auth = parse_pull_image_args({{"image", "x"}, {"auth", {{"user", "u"}}}});
  CHECK(auth.err().message.find("auth.user") != std::string::npos);
  CHECK(parse_container_logs_args({{"id", "x"}, {"tail", "some"}}).err().message.find("tail") !=
        std::string::npos);
  CHECK(parse_container_logs_args({{"id", "x"}, {"tail", "all"}})->tail == -1);
  CHECK(parse_empty_args(nullptr).ok());
  json deep = json::array();
  for (int i = 0; i < 1000; ++i) deep = json::array({deep});
  CHECK_FALSE(parse_create_container_args({{"image", "x"}, {"cmd", deep}}).ok());
}

namespace {

// The sample with only the schema's required fields (of the first "anyOf" alternative too).
json required_only(const json& doc, const json& sample) {
  json out = json::object();
  json required = doc.value("required", json::array());
  if (doc.contains("anyOf"))
    for (const auto& r : doc["anyOf"][0].value("required", json::array())) required.push_back(r);
  for (const auto& r : required) out[r.get<std::string>()] = sample.at(r.get<std::string>());
  return out;
}

}  // namespace

TEST_CASE("the struct's defaults are the schema's defaults") {
  for (const auto& schema : schema_files()) {
    const std::string& name = schema.first;
    const json& doc = schema.second;
    CAPTURE(name);
    const auto& c = cases().at(name);
    auto parsed = c.roundtrip(required_only(doc, c.sample));
    REQUIRE_MESSAGE(parsed.ok(), (parsed.ok() ? "" : parsed.err().message));
    for (const auto& property : doc["properties"].items()) {
      const std::string& field = property.key();
      const json& prop = property.value();
      if (!prop.contains("default")) continue;
      CAPTURE(field);
      CHECK(parsed->at(field) == prop["default"]);
    }
  }
}

TEST_CASE("types agree, and values just outside a bound are refused by both") {
  for (const auto& schema : schema_files()) {
    const std::string& name = schema.first;
    const json& doc = schema.second;
    CAPTURE(name);
    const auto& c = cases().at(name);
    auto full = c.roundtrip(c.sample);
    REQUIRE(full.ok());
    for (const auto& property : doc["properties"].items()) {
      const std::string& field = property.key();
      const json& prop = property.value();
      CAPTURE(field);
      std::string type = prop.value("type", "");
      const json& v = full->at(field);
      if (type == "integer") CHECK(v.is_number_integer());
      if (type == "number") CHECK(v.is_number());
      if (type == "string") CHECK(v.is_string());
      if (type == "boolean") CHECK(v.is_boolean());
      if (type == "array") CHECK((v.is_array() || v.is_null()));
      if (type == "object") CHECK((v.is_object() || v.is_null()));
      if (type != "integer") continue;
      for (const auto& limit : {std::pair{"minimum", -1}, std::pair{"maximum", 1}}) {
        const char* bound = limit.first;
        int step = limit.second;
        if (!prop.contains(bound)) continue;
        CAPTURE(bound);
        json at = c.sample, beyond = c.sample;
        at[field] = prop[bound].get<std::int64_t>();
        beyond[field] = prop[bound].get<std::int64_t>() + step;
        CHECK(valid(doc, at));
        CHECK(c.roundtrip(at).ok());
        CHECK_FALSE(valid(doc, beyond));
        CHECK_FALSE(c.roundtrip(beyond).ok());
      }
    }
  }
}
