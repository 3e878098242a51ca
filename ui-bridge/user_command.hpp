// user_command: `dockmesh-bridge user add|passwd|remove|list --data-dir DIR`, user management
// straight on the bridge's RocksDB. RocksDB allows one process per database, so this works while
// the bridge is stopped; while it runs, use the admin API (/api/v1/users) instead -- the command
// says so. Runs in main's thread and may block.
#pragma once

#include <iosfwd>

namespace dockmesh::bridge {

// argv[0] is "user". Returns the process exit code (0 ok, 1 failed, 2 usage).
int run_user_command(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace dockmesh::bridge
