#include "broker/key_store.hpp"

#include <doctest/doctest.h>

#include "broker/join_tokens.hpp"
#include "broker/test_support.hpp"
#include "broker/zap_authenticator.hpp"
#include "common/curve_keys.hpp"

using namespace dockmesh;
using namespace dockmesh::broker;
using namespace dockmesh::broker::testing;
using common::errc;

namespace {

std::string new_key() {
  return common::generate_keypair().public_key;
}

zap_request zap(std::string domain, std::string key) {
  return zap_request{"1", std::move(domain), "127.0.0.1", "CURVE", std::move(key)};
}

}  // namespace

TEST_CASE("authorized-keys lines parse, and errors name the line") {
  std::string k1 = new_key(), k2 = new_key();
  auto ok = parse_authorized_keys("# comment\n\nagent host1.mesh.test " + k1 + "  # trailing\n" +
                                  "admin admin " + k2 + "\n");
  REQUIRE(ok.ok());
  REQUIRE(ok->size() == 2);
  CHECK((*ok)[0].who == role::agent);
  CHECK((*ok)[0].name == "host1.mesh.test");
  CHECK((*ok)[1].public_key == k2);
  auto bad_role = parse_authorized_keys("agent a " + k1 + "\nroot r " + k2 + "\n");
  REQUIRE(!bad_role.ok());
  CHECK(bad_role.err().message.find("line 2") != std::string::npos);
  CHECK(!parse_authorized_keys("agent a short\n").ok());
  CHECK(!parse_authorized_keys("agent a\n").ok());
  CHECK(!parse_authorized_keys("agent a/b " + k1 + "\n").ok());
  CHECK(!parse_authorized_keys("agent a " + k1 + " extra\n").ok());
  CHECK(!parse_authorized_keys("broker b " + k1 + "\n").ok());
  // '#' inside a key is part of the key.
  std::string hashed = "#" + k1.substr(1, 38) + "#";
  auto h = parse_authorized_keys("  # indented comment\nagent h " + hashed + " # note\n");
  REQUIRE(h.ok());
  CHECK((*h)[0].public_key == hashed);
}

TEST_CASE("merging the file never undoes a revocation; keys persist") {
  temp_dir dir;
  std::string agent = new_key(), admin = new_key();
  std::vector<key_entry> file{{agent, role::agent, "h1", key_state::accepted, 0},
                              {admin, role::admin, "admin", key_state::accepted, 0}};
  {
    state_db db(dir.str());
    key_store keys(db);
    keys.merge_authorized(file, 1);
    CHECK(keys.find(agent)->state == key_state::accepted);
    REQUIRE(keys.set_refused(agent, key_state::revoked, 2).ok());
  }
  state_db db(dir.str());
  key_store keys(db);
  keys.merge_authorized(file, 3);
  CHECK(keys.find(agent)->state == key_state::revoked);
  CHECK(keys.find(admin)->who == role::admin);
}

TEST_CASE("one accepted key per agent fqdn; names resolve to one key") {
  temp_dir dir;
  state_db db(dir.str());
  key_store keys(db);
  std::string a = new_key(), b = new_key();
  REQUIRE(keys.accept(a, role::agent, "h1", 1).ok());
  CHECK(keys.accept(b, role::agent, "h1", 1).err().code == errc::conflict);
  CHECK(keys.accept(b, role::agent, "bad/name", 1).err().code == errc::invalid_argument);
  CHECK(keys.resolve("h1")->public_key == a);
  CHECK(keys.resolve("nobody").err().code == errc::not_found);
  // Re-keying: revoke the old key, accept the new one; the name now means the new key.
  REQUIRE(keys.set_refused(a, key_state::revoked, 2).ok());
  REQUIRE(keys.accept(b, role::agent, "h1", 3).ok());
  CHECK(keys.resolve("h1")->public_key == b);
  REQUIRE(keys.accept(new_key(), role::admin, "ops", 4).ok());
  REQUIRE(keys.accept(new_key(), role::admin, "ops", 4).ok());
  CHECK(keys.resolve("ops").err().code == errc::conflict);
}

TEST_CASE("pending keys are bounded") {
  temp_dir dir;
  state_db db(dir.str());
  key_store keys(db, 3);
  for (int i = 0; i < 3; ++i) CHECK(keys.note_pending(new_key(), "", 1));
  CHECK(!keys.note_pending(new_key(), "", 1));
  CHECK(!keys.note_pending("not a key", "", 1));
  CHECK(keys.list().size() == 3);
}

TEST_CASE("ZAP: bus admits only accepted keys; control admits unknown keys as pending") {
  temp_dir dir;
  state_db db(dir.str());
  key_store keys(db);
  std::string server = new_key(), agent = new_key(), stranger = new_key(), revoked = new_key();
  REQUIRE(keys.accept(agent, role::agent, "h1", 1).ok());
  REQUIRE(keys.accept(revoked, role::bridge, "b", 1).ok());
  REQUIRE(keys.set_refused(revoked, key_state::revoked, 1).ok());
  zap_authenticator z(keys, server);
  auto a = z.decide(zap("bus", agent), 1);
  CHECK(a.ok);
  CHECK(a.user_id == "agent:h1");
  CHECK(a.public_key == agent);
  CHECK(!z.decide(zap("bus", stranger), 1).ok);
  CHECK(keys.find(stranger)->state == key_state::pending);  // listed for `keys list`
  auto p = z.decide(zap("control", stranger), 1);
  CHECK(p.ok);
  CHECK(p.user_id == "pending:" + stranger);
  CHECK(!z.decide(zap("bus", revoked), 1).ok);
  CHECK(!z.decide(zap("control", revoked), 1).ok);
  CHECK(z.decide(zap("bus", server), 1).user_id == "broker:broker");
  CHECK(!z.decide(zap("other", agent), 1).ok);
  auto plain = zap("bus", agent);
  plain.mechanism = "NULL";
  CHECK(!z.decide(plain, 1).ok);
}

TEST_CASE("ZAP request frames parse; metadata carries the public key") {
  std::string raw(32, '\x01');
  std::vector<std::string_view> frames{"1.0", "7", "bus", "127.0.0.1", "", "CURVE", raw};
  auto r = parse_zap_request(frames);
  REQUIRE(r.ok());
  CHECK(r->public_key.size() == 40);
  CHECK(r->request_id == "7");
  frames[6] = "short";
  CHECK(!parse_zap_request(frames).ok());
  frames[0] = "2.0";
  CHECK(!parse_zap_request(frames).ok());
  CHECK(!parse_zap_request(std::vector<std::string_view>{"1.0"}).ok());
  std::string md = encode_zap_metadata("K");
  CHECK(md == std::string("\x0aPublic-Key\x00\x00\x00\x01K", 16));
}

TEST_CASE("join tokens: one use, expiry, bounded ttl, stored only as a hash") {
  temp_dir dir;
  std::string token;
  {
    state_db db(dir.str());
    join_tokens tokens(db);
    CHECK(!tokens.create(0, 1000).ok());
    CHECK(!tokens.create(join_tokens::max_ttl_seconds + 1, 1000).ok());
    auto t = tokens.create(60, 1000);
    REQUIRE(t.ok());
    CHECK(t->expires_ms == 61000);
    token = t->token;
    bool stored_plain = false;
    db.for_each("t/", [&](std::string_view k, const nlohmann::json&) {
      stored_plain = stored_plain || k.find(token) != std::string_view::npos;
    });
    CHECK(!stored_plain);
  }
  state_db db(dir.str());
  join_tokens tokens(db);  // survives a restart
  CHECK(!tokens.consume("wrong", 2000));
  CHECK(tokens.consume(token, 60999));
  CHECK(!tokens.consume(token, 61000 - 1));  // spent
  auto late = tokens.create(1, 0);
  REQUIRE(late.ok());
  CHECK(!tokens.consume(late->token, 1000));  // expired at exactly ttl
  auto purged = tokens.create(1, 0);
  CHECK(tokens.purge_expired(5000) == 1);
  CHECK(!tokens.consume(purged->token, 10));
}

TEST_CASE("etcd records apply in etcd's order; a pending note never replaces a decision") {
  temp_dir dir;
  state_db db(dir.str());
  key_store keys(db);
  std::vector<std::pair<std::string, std::string>> sent;  // (op, state)
  keys.set_mirror([&](const key_entry& e, key_write how) {
    auto c = etcd_key_command(e, how);
    sent.emplace_back(c.value("op", ""), c["record"].value("state", ""));
  });
  std::string k = new_key();
  auto record = [&](const char* state, const char* name) {
    return nlohmann::json{{"public_key", k}, {"role", "bridge"}, {"name", name}, {"state", state}};
  };
  // ZAP heard the key first: a note, created only if absent.
  REQUIRE(keys.note_pending(k, "", 1));
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].first == "note-key");
  CHECK(keys.apply_remote(record("pending", ""), 5) == false);
  // An operator accepts it here; before the put comes back, the note (written by another broker
  // before the put) arrives again, as a snapshot would bring it: the decision stays.
  REQUIRE(keys.accept(k, role::bridge, "b1", 2).ok());
  CHECK(sent.back().first == "put-key");
  CHECK(keys.find(k)->local_ahead);
  (void)keys.apply_remote(record("pending", ""), 6);
  CHECK(keys.find(k)->state == key_state::accepted);
  // The put comes back: etcd agrees, and an older record can no longer apply.
  (void)keys.apply_remote(record("accepted", "b1"), 7);
  CHECK_FALSE(keys.find(k)->local_ahead);
  (void)keys.apply_remote(record("pending", ""), 6);
  CHECK(keys.find(k)->state == key_state::accepted);
  // A naming of the key sent as a renote carries the revision it was read at.
  CHECK(etcd_key_command(*keys.find(k), key_write::renote).value("revision", 0) == 7);
  // Revocation is an operator act: the later revision wins, and cuts the key off.
  CHECK(keys.apply_remote(record("revoked", "b1"), 9));
  CHECK(keys.find(k)->state == key_state::revoked);
  (void)keys.apply_remote(record("accepted", "b1"), 8);  // older: ignored
  CHECK(keys.find(k)->state == key_state::revoked);
  (void)keys.apply_remote(record("accepted", "b1"), 10);  // a later acceptance: it wins
  CHECK(keys.find(k)->state == key_state::accepted);
  // A decision etcd did not take: the next snapshot's record replaces it, even an old one.
  REQUIRE(keys.set_refused(k, key_state::revoked, 11).ok());
  keys.etcd_missed(k);
  (void)keys.apply_remote(record("accepted", "b1"), 10);
  CHECK(keys.find(k)->state == key_state::accepted);
}

TEST_CASE("seeding etcd with --authorized-keys: seeds for accepted keys, held against notes") {
  temp_dir dir;
  state_db db(dir.str());
  key_store keys(db);
  std::string k = new_key(), p = new_key();
  keys.merge_authorized({{k, role::bridge, "b1", key_state::accepted, 0}}, 1);
  REQUIRE(keys.note_pending(p, "", 1));
  std::vector<nlohmann::json> sent;
  keys.set_mirror(
      [&](const key_entry& e, key_write how) { sent.push_back(etcd_key_command(e, how)); });
  keys.seed_mirror();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].value("op", "") == "seed-key");
  CHECK(sent[0].value("public_key", "") == k);
  // etcd still holds another broker's note for the key: it does not regress the seed.
  (void)keys.apply_remote(
      {{"public_key", k}, {"role", "agent"}, {"name", ""}, {"state", "pending"}}, 3);
  CHECK(keys.find(k)->state == key_state::accepted);
  CHECK(keys.find(k)->name == "b1");
}
