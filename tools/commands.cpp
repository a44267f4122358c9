#include "commands.h"

namespace cppdet::tools {

// Each is defined in tools/<name>.cpp.

void register_all(CLI::App& app) {
}

}  // namespace cppdet::tools
