// broker_tests: doctest main; the broker's log lines are silenced unless DM_TEST_LOG is set.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdlib>

#include "common/log.hpp"

int main(int argc, char** argv) {
  if (!std::getenv("DM_TEST_LOG"))
    dockmesh::common::set_log_level(dockmesh::common::log_level::error);
  doctest::Context context(argc, argv);
  return context.run();
}
