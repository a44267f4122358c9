#include "cppdet/visualization/json_log.h"

#include <sstream>

#include "cppdet/core/atomic_file.h"
#include "cppdet/core/error.h"

namespace cppdet::visualization {

std::vector<double> LogEpoch::numbers(const std::string& key, const std::string& mode) const {
  std::vector<double> out;
  for (const nlohmann::json& r : records) {
    if (!mode.empty() && r.value("mode", std::string()) != mode) continue;
    const auto it = r.find(key);
    if (it != r.end() && it->is_number()) out.push_back(it->get<double>());
  }
  return out;
}

JsonLog parse_json_log(const std::string& text, const std::string& source) {
  JsonLog log;
  log.path = source;
  std::istringstream in(text);
  size_t line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line_no == 1) continue;  // the run meta (env_info, config, seed, exp_name)
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json record;
    try {
      record = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      throw FileFormatError(source + ":" + std::to_string(line_no) + ": not a JSON record (" + e.what() + ")");
    }
    if (!record.is_object()) throw FileFormatError(source + ":" + std::to_string(line_no) + ": not a JSON object");
    const auto epoch_it = record.find("epoch");
    if (epoch_it == record.end()) continue;
    if (!epoch_it->is_number_integer())
      throw FileFormatError(source + ":" + std::to_string(line_no) + ": \"epoch\" must be an integer");
    const int64_t epoch = epoch_it->get<int64_t>();
    record.erase("epoch");
    LogEpoch* group = nullptr;
    for (LogEpoch& e : log.epochs)
      if (e.epoch == epoch) group = &e;
    if (!group) group = &log.epochs.emplace_back(LogEpoch{epoch, {}});
    group->records.push_back(std::move(record));
  }
  return log;
}

JsonLog load_json_log(const std::string& path) { return parse_json_log(read_file(path), path); }

}  // namespace cppdet::visualization
