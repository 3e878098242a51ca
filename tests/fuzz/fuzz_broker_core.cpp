// Fuzz target: the broker's decisions, without sockets (broker/broker_core.hpp): a sequence of
// what the hub would feed it — announcements that passed topic_acl, shared req/any/ requests,
// replies to the broker's own sub-requests, control requests from any kind of identity, and
// clock ticks — against a fresh RocksDB directory per input (in /dev/shm when it exists).
// Input: operations, each an opcode byte, selector bytes and a sized JSON body.
// Properties: nothing throws or crashes; every publication goes to a well-formed topic with an
// envelope that encodes and decodes back; every control reply does too, and refuses (403) all
// but `enroll` from pending or unknown identities; topic_acl's allocation-free topic parser
// agrees with common::parse_topic on every topic it sees.
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "broker/broker_core.hpp"
#include "broker/topic_acl.hpp"
#include "common/log.hpp"
#include "common/protocol/names.hpp"
#include "common/topic.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace dm_names = dockmesh::common::protocol::names;

using namespace dockmesh::broker;
using namespace dockmesh::common;
namespace fs = std::filesystem;
namespace fuzz = dockmesh::fuzz;

namespace {

struct keys {
  std::string agent1, agent2, bridge, admin, stranger;
};

std::string public_key() {
  char pub[41], sec[41];
  zmq_curve_keypair(pub, sec);
  return pub;
}

const keys& the_keys() {
  static const keys k{public_key(), public_key(), public_key(), public_key(), public_key()};
  return k;
}

// A scratch directory for the per-input databases, removed when the process exits.
struct scratch_dir {
  fs::path path;
  scratch_dir() {
    std::string base = fs::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
    std::string tmpl = base + "/dm-fuzz-broker-XXXXXX";
    FUZZ_CHECK(mkdtemp(tmpl.data()) != nullptr, "cannot create a scratch directory");
    path = tmpl;
    const keys& k = the_keys();
    std::ofstream(path / "authorized_keys") << "agent host1.mesh.test " << k.agent1 << "\n"
                                            << "agent host2.mesh.test " << k.agent2 << "\n"
                                            << "bridge bridge " << k.bridge << "\n"
                                            << "admin admin " << k.admin << "\n";
  }
  ~scratch_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

const fs::path& scratch_root() {
  static const scratch_dir dir;
  return dir.path;
}

void check_publication(const publication& p) {
  auto t = parse_topic(p.topic);
  FUZZ_CHECK(t.ok(), "broker published on a malformed topic: " + p.topic);
  topic_view v;
  FUZZ_CHECK(classify_topic(p.topic, v) && v.kind == t->kind && v.name == t->name,
             "topic_acl and parse_topic disagree on " + p.topic);
  auto back = decode(encode(p.env));
  FUZZ_CHECK(back.ok(), "broker published an undecodable envelope: " + back.err().message);
  FUZZ_CHECK(fuzz::dumps_as_json(to_json(p.env).dump()), "publication not printable");
}

void check_reply(const envelope& req, const envelope& rep, const identity& who) {
  auto back = decode(encode(rep));
  FUZZ_CHECK(back.ok(), "undecodable control reply: " + back.err().message);
  FUZZ_CHECK(rep.re == req.id, "control reply does not answer the request id");
  if ((who.who == role::pending || who.who == role::unknown) && req.action != dm_names::enroll)
    FUZZ_CHECK(rep.code == 403,
               "identity without a role got " + std::to_string(rep.code) + " for " + req.action);
}

const char* const announce_actions[] = {"register", "heartbeat", "unregister", "inventory",
                                        "bogus"};
const char* const control_actions[] = {
    "hosts", "host", "containers", "container", "enroll", "keys-list", "keys-accept", "keys-reject",
    "keys-revoke", "token-create", "stats", "nope",
    // projects and services (service_calls)
    "project-create", "project-list", "project-delete", "service-create", "service-list",
    "service-get", "service-update", "service-scale", "service-delete",
    // host pools and quotas (host_policy_calls)
    "host-policy-set", "host-policy-list", "quota-set", "quota-list", "team-set", "team-delete",
    "team-list"};

class session {
 public:
  session(fs::path dir, std::int64_t now) : now_(now) {
    broker_settings s;
    s.data_dir = dir.string();
    s.plain_map_store = true;  // no RocksDB: opening one per input took ~13 ms of each run
    s.authorized_keys_file = (scratch_root() / "authorized_keys").string();
    core_ = std::make_unique<broker_core>(s, public_key(), now_);
    collect(core_->startup(now_));
  }

  void step(fuzz::byte_reader& in) {
    std::uint8_t op = in.byte();
    std::uint8_t sel = in.byte();
    nlohmann::json body = nlohmann::json::parse(in.sized(), nullptr, false);
    if (body.is_discarded()) body = nlohmann::json::object();
    envelope env;
    env.id = new_message_id();
    env.body = body.is_object() ? body : nlohmann::json();
    switch (op % 5) {
      case 0:
        announce(sel, env);
        break;
      case 1:
        shared(sel, env);
        break;
      case 2:
        own_reply(sel, env);
        break;
      case 3:
        control(sel, env);
        break;
      default:
        now_ += 50 * (sel + 1);
        collect(core_->tick(now_));
        break;
    }
  }

 private:
  void announce(std::uint8_t sel, envelope& env) {
    identity who{role::agent, sel & 1 ? "host2.mesh.test" : "host1.mesh.test"};
    env.action = announce_actions[(sel >> 1) % std::size(announce_actions)];
    env.from = (sel & 0x40) ? "host3.mesh.test" : who.name;
    topic_view v;
    FUZZ_CHECK(classify_topic("ann/", v), "ann/ does not classify");
    if (check_publish(who, v) != acl_decision::allow) return;
    if (check_announcement(who, env) != acl_decision::allow) return;
    collect(core_->on_announcement(env, now_));
  }

  void shared(std::uint8_t sel, envelope& env) {
    env.action = std::string(sel & 1 ? dm_names::create_container
                                     : (sel & 2 ? dm_names::ping : dm_names::list_containers));
    env.from = "bridge-1";
    env.reply_to = sel & 4 ? "rep/bridge-1/" : "not a topic";
    env.user = "alice";
    env.role = sel & 8 ? "admin" : "user";
    env.deadline = sel & 16 ? now_ + 5000 : 0;
    collect(core_->on_shared_request(env, now_));
  }

  void own_reply(std::uint8_t sel, envelope& env) {
    if (sub_requests_.empty()) return;
    env.re = sub_requests_[sel % sub_requests_.size()];
    env.from = sel & 0x80 ? "host2.mesh.test" : "host1.mesh.test";
    static const int codes[] = {200, 201, 400, 404, 409, 500, 503, 504};
    env.code = codes[(sel >> 2) % std::size(codes)];
    if (env.code >= 400) env.err = error{from_status(env.code), "failed"};
    collect(core_->on_own_reply(env, now_));
  }

  void control(std::uint8_t sel, envelope& env) {
    const keys& k = the_keys();
    struct caller {
      identity who;
      const std::string* key;
    };
    const caller callers[] = {{{role::admin, "admin"}, &k.admin},
                              {{role::bridge, "bridge"}, &k.bridge},
                              {{role::agent, "host1.mesh.test"}, &k.agent1},
                              {{role::pending, k.stranger}, &k.stranger},
                              {{role::unknown, ""}, &k.stranger}};
    const caller& c = callers[sel % std::size(callers)];
    env.action = control_actions[(sel >> 3) % std::size(control_actions)];
    env.from = "ctl-1";
    auto out = core_->on_control(c.who, *c.key, env, now_);
    check_reply(env, out.reply, c.who);
  }

  void collect(const publications& ps) {
    for (const auto& p : ps) {
      check_publication(p);
      if (p.topic.rfind("req/host/", 0) == 0 && sub_requests_.size() < 64)
        sub_requests_.push_back(p.env.id);
    }
  }

  std::int64_t now_;
  std::unique_ptr<broker_core> core_;
  std::vector<std::string> sub_requests_;
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  set_log_level(log_level::error);  // the broker logs every refusal at debug/info
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static int n = 0;
  fs::path dir = scratch_root() / ("db" + std::to_string(n++));
  try {
    session s(dir, 1700000000000);
    fuzz::byte_reader in(data, size);
    for (int i = 0; i < 32 && !in.empty(); ++i) s.step(in);
  } catch (const std::exception& ex) {
    FUZZ_CHECK(false, std::string("broker_core threw: ") + ex.what());
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  return 0;
}
