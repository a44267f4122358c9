#pragma once
// The server's log: "[2024-05-01 12:00:00.123] [info] message" lines on stdout, each flushed
// as it is written (spdlog logger "cppdet.serve").
#include <spdlog/logger.h>

namespace cppdet::serving {

spdlog::logger& server_log();

}  // namespace cppdet::serving
