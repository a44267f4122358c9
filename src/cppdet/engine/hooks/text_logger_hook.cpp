#include "cppdet/engine/hooks/text_logger_hook.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cppdet/core/error.h"
#include "cppdet/engine/runner.h"

namespace cppdet::engine {
namespace {

std::string json_string(const std::string& s) { return nlohmann::json(s).dump(-1, ' ', /*ensure_ascii=*/true); }

std::string json_value(const config::Value& v) {
  switch (v.kind()) {
    case config::Value::Kind::Float: return json_rounded_float(v.as_number());
    case config::Value::Kind::Int: return std::to_string(v.as_int());
    case config::Value::Kind::Bool: return v.as_bool() ? "true" : "false";
    case config::Value::Kind::String: return json_string(v.as_string());
    case config::Value::Kind::None: return "null";
    case config::Value::Kind::List:
    case config::Value::Kind::Tuple: {
      std::string out = "[";
      for (size_t i = 0; i < v.as_sequence().size(); ++i) out += (i ? ", " : "") + json_value(v.as_sequence()[i]);
      return out + "]";
    }
    case config::Value::Kind::Dict: {
      std::string out = "{";
      const config::Dict& d = v.as_dict();
      for (size_t i = 0; i < d.size(); ++i) out += (i ? ", " : "") + json_string(d.keys()[i]) + ": " + json_value(d.values()[i]);
      return out + "}";
    }
  }
  return "null";
}

std::string printf_string(const char* fmt, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

}  // namespace

std::string format_eta(int64_t seconds) {
  const int64_t days = seconds / 86400;
  const int64_t rest = seconds % 86400;
  char hms[32];
  std::snprintf(hms, sizeof hms, "%lld:%02lld:%02lld", static_cast<long long>(rest / 3600),
                static_cast<long long>(rest / 60 % 60), static_cast<long long>(rest % 60));
  if (days == 0) return hms;
  return std::to_string(days) + (days == 1 ? " day, " : " days, ") + hms;
}

std::string json_rounded_float(double v) {
  const double rounded = std::strtod(printf_string("%.5f", v).c_str(), nullptr);
  return nlohmann::json(rounded).dump();
}

void TextLoggerHook::before_run(Runner& runner) {
  start_iter_ = runner.iter();
  time_sec_tot_ = 0.0;
  runner.log_buffer().clear();
  if (!options_.json_path.empty() && runner.is_master()) append_json(json_value(config::Value(runner.options().meta)));
}

void TextLoggerHook::before_train_epoch(Runner& runner) { runner.log_buffer().clear(); }

void TextLoggerHook::append_json(const std::string& line) {
  std::ofstream out(options_.json_path, std::ios::app);
  out << line << "\n";
  if (!out) throw FileFormatError(options_.json_path + ": cannot append to the JSON log");
}

void TextLoggerHook::after_train_iter(Runner& runner) {
  LogBuffer& buffer = runner.log_buffer();
  const int64_t n = options_.interval;
  const bool end_of_epoch = runner.inner_iter() + 1 == runner.epoch_len();
  if (options_.by_epoch && (runner.inner_iter() + 1) % n == 0) buffer.average(n);
  else if (!options_.by_epoch && (runner.iter() + 1) % n == 0) buffer.average(n);
  else if (end_of_epoch && !options_.ignore_last) buffer.average(n);
  if (!buffer.ready()) return;
  log(runner);
  buffer.clear_output();
  if (!options_.by_epoch) buffer.clear();  // bounded history over long iteration-based runs
}

void TextLoggerHook::after_train_epoch(Runner& runner) {
  if (!runner.log_buffer().ready()) return;
  log(runner);
  runner.log_buffer().clear_output();
}

void TextLoggerHook::log(Runner& runner) {
  if (!runner.is_master()) return;
  config::Dict out = runner.log_buffer().output();
  const bool train = out.contains("time");
  config::Dict record;
  record.set("mode", train ? "train" : "val");
  record.set("epoch", runner.epoch() + 1);
  if (const config::Value* eval_iters = out.find("eval_iter_num")) {
    record.set("iter", *eval_iters);
    out.erase("eval_iter_num");
  } else {
    record.set("iter", options_.by_epoch ? runner.inner_iter() + 1 : runner.iter() + 1);
  }
  const std::vector<double> lrs = runner.current_lr();
  record.set("lr", lrs.empty() ? 0.0 : lrs.front());
  if (train) record.set("memory", int64_t{0});
  for (size_t i = 0; i < out.size(); ++i) record.set(out.keys()[i], out.values()[i]);

  // Text line.
  const bool end_of_epoch = runner.inner_iter() + 1 == runner.epoch_len();
  const config::Value* exp_name = runner.options().meta.find("exp_name");
  if (exp_name && ((runner.iter() + 1) % options_.interval_exp_name == 0 || (options_.by_epoch && end_of_epoch)))
    runner.logger().info("Exp name: " + exp_name->as_string());
  std::string line;
  if (train) {
    line = options_.by_epoch ? "Epoch [" + std::to_string(runner.epoch() + 1) + "][" +
                                   std::to_string(record.at("iter").as_int()) + "/" +
                                   std::to_string(runner.epoch_len()) + "]\t"
                             : "Iter [" + std::to_string(record.at("iter").as_int()) + "/" +
                                   std::to_string(runner.max_iters()) + "]\t";
    line += "lr: " + printf_string("%.3e", record.at("lr").as_number()) + ", ";
    const double time = out.at("time").as_number();
    time_sec_tot_ += time * static_cast<double>(options_.interval);
    const double avg = time_sec_tot_ / static_cast<double>(runner.iter() - start_iter_ + 1);
    const double eta = avg * static_cast<double>(runner.max_iters() - runner.iter() - 1);
    line += "eta: " + format_eta(static_cast<int64_t>(eta)) + ", ";
    line += "time: " + printf_string("%.3f", time) + ", ";
    line += "data_time: " + printf_string("%.3f", out.at("data_time").as_number()) + ", ";
    line += "memory: " + std::to_string(record.at("memory").as_int()) + ", ";
  } else {
    line = options_.by_epoch ? "Epoch(val) [" + std::to_string(runner.epoch() + 1) + "][" +
                                   std::to_string(record.at("iter").as_int()) + "]\t"
                             : "Iter(val) [" + std::to_string(record.at("iter").as_int()) + "]\t";
  }
  std::string items;
  for (size_t i = 0; i < record.size(); ++i) {
    const std::string& key = record.keys()[i];
    if (key == "mode" || key == "epoch" || key == "iter" || key == "lr" || key == "time" || key == "data_time" ||
        key == "memory")
      continue;
    const config::Value& v = record.values()[i];
    std::string text;
    if (v.is_float()) text = printf_string("%.4f", v.as_number());
    else if (v.is_int()) text = std::to_string(v.as_int());
    else if (v.is_string()) text = v.as_string();
    else text = v.brief();
    items += (items.empty() ? "" : ", ") + key + ": " + text;
  }
  runner.logger().info(line + items);

  if (!options_.json_path.empty()) {
    std::string json = "{";
    for (size_t i = 0; i < record.size(); ++i)
      json += (i ? ", " : "") + json_string(record.keys()[i]) + ": " + json_value(record.values()[i]);
    append_json(json + "}");
  }
}

}  // namespace cppdet::engine
