#pragma once
// The list of subcommands. Add a `register_<name>` declaration here and its call in
// commands.cpp when adding tools/<name>.cpp.
#include <CLI/CLI.hpp>

namespace cppdet::tools {

void register_all(CLI::App& app);

}  // namespace cppdet::tools
