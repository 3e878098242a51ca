// Writing a secret to a file so that no reader ever sees it half written: the content goes to a
// temporary file beside the target (mode 0600 from creation), is synced, then renamed over the
// target. A reader that polls for the file (a test, an installer, a person) sees either nothing
// or the whole secret. Start-up code; throws std::runtime_error naming the path on failure.
#pragma once

#include <string>

namespace dockmesh::common {

void write_private_file(const std::string& path, const std::string& content);  // throws; 0600

}  // namespace dockmesh::common
