#include "common/storage/rocks_db.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

#include <rocksdb/write_batch.h>

using dockmesh::common::rocks_db;
using dockmesh::common::rocks_options;

namespace {

rocks_options in_memory() {
  rocks_options o;
  o.in_memory = true;
  return o;
}

rocks_options plain_map() {
  rocks_options o;
  o.plain_map = true;
  return o;
}

// The two memory media must read and write alike: the fuzz targets run on the plain map.
rocks_options medium(int i) {
  return i == 0 ? in_memory() : plain_map();
}

std::vector<std::string> keys(const rocks_db& db, std::string_view prefix, bool backwards) {
  std::vector<std::string> out;
  auto fn = [&out](std::string_view key, std::string_view) {
    out.emplace_back(key);
    return out.size() < 3;  // stops after three
  };
  auto ok = backwards ? db.scan_backwards(prefix, fn) : db.scan(prefix, fn);
  REQUIRE(ok);
  return out;
}

}  // namespace

TEST_CASE("rocks_db: put, get, erase, batches (RocksDB in memory, and the plain map)") {
  int i = 0;
  SUBCASE("rocksdb") {
    i = 0;
  }
  SUBCASE("plain map") {
    i = 1;
  }
  rocks_db db("/mem/rocks_db_test", medium(i));
  REQUIRE(db.put("a/1", "one", false));
  auto v = db.get("a/1");
  REQUIRE(v);
  CHECK(v->value_or("") == "one");
  auto missing = db.get("a/2");
  REQUIRE(missing);
  CHECK_FALSE(missing->has_value());
  rocksdb::WriteBatch batch;
  batch.Put("a/2", "two");
  batch.Delete("a/1");
  REQUIRE(db.write(batch, true));
  CHECK_FALSE(db.get("a/1")->has_value());
  CHECK(db.get("a/2")->value_or("") == "two");
  REQUIRE(db.erase("a/2", false));
  CHECK_FALSE(db.get("a/2")->has_value());
}

TEST_CASE("rocks_db: prefix scans stay inside the prefix, both ways, and stop when asked") {
  int i = 0;
  SUBCASE("rocksdb") {
    i = 0;
  }
  SUBCASE("plain map") {
    i = 1;
  }
  rocks_db db("/mem/rocks_db_scan", medium(i));
  for (std::string k : {"a/1", "a/2", "a/3", "a/4", "ab/1", "b/1", "a"})
    REQUIRE(db.put(k, "x", false));
  CHECK(keys(db, "a/", false) == std::vector<std::string>{"a/1", "a/2", "a/3"});
  CHECK(keys(db, "a/", true) == std::vector<std::string>{"a/4", "a/3", "a/2"});
  CHECK(keys(db, "c/", false).empty());
  CHECK(db.key_range("a/") == std::pair<std::string, std::string>{"a/1", "a/4"});
  CHECK(db.key_range("c/") == std::pair<std::string, std::string>{});
  // A visitor may write while it scans: RocksDB's iterator reads an implicit snapshot, the plain
  // map scans a copy; either way the scan sees the keys from before it began.
  std::vector<std::string> seen;
  REQUIRE(db.scan("a/", [&db, &seen](std::string_view key, std::string_view) {
    seen.emplace_back(key);
    return static_cast<bool>(db.put(std::string(key) + "x", "y", false));
  }));
  CHECK(seen == std::vector<std::string>{"a/1", "a/2", "a/3", "a/4"});
  CHECK(db.get("a/4x")->value_or("") == "y");
}

TEST_CASE("rocks_db: a second open of a database in use says so") {
  auto dir =
      std::filesystem::temp_directory_path() / ("rocks_db_test_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  rocks_options o;
  o.in_use_hint = "is a test holding it?";
  {
    rocks_db first(dir.string(), o);
    REQUIRE(first.put("k", "v", false));
    CHECK(first.sync_wal());  // on disk (a memory environment has no WAL to sync)
    try {
      rocks_db second(dir.string(), o);
      FAIL("the second open succeeded");
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()).find("is in use (is a test holding it?)") != std::string::npos);
    }
  }
  {
    rocks_db again(dir.string(), o);  // the lock went with the first; the write stayed
    CHECK(again.get("k")->value_or("") == "v");
  }
  std::filesystem::remove_all(dir);
}
