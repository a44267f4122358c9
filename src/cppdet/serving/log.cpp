#include "cppdet/serving/log.h"

#include <spdlog/sinks/stdout_sinks.h>

#include <memory>

namespace cppdet::serving {

spdlog::logger& server_log() {
  static const std::shared_ptr<spdlog::logger> logger = [] {
    auto l = std::make_shared<spdlog::logger>("cppdet.serve", std::make_shared<spdlog::sinks::stdout_sink_mt>());
    l->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] %v");
    l->set_level(spdlog::level::info);
    l->flush_on(spdlog::level::info);
    return l;
  }();
  return *logger;
}

}  // namespace cppdet::serving
