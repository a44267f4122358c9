#include "cppdet/visualization/train_time.h"

#include <cmath>
#include <cstdio>

#include "cppdet/core/error.h"

namespace cppdet::visualization {

TrainTimeStats compute_train_time(const JsonLog& log, bool include_outliers) {
  if (log.epochs.empty())
    throw UserError(log.path + ": no training records; reduce the log interval in the config so that it is "
                    "less than the iterations of one epoch");
  TrainTimeStats s;
  double total = 0;
  size_t count = 0;
  for (const LogEpoch& e : log.epochs) {
    std::vector<double> times = e.numbers("time", "train");
    if (!include_outliers && !times.empty()) times.erase(times.begin());
    if (times.empty())
      throw UserError(log.path + ": epoch " + std::to_string(e.epoch) + " has no \"time\" value to average" +
                      (include_outliers ? "" : " besides its first (try --include-outliers)"));
    double sum = 0;
    for (double t : times) sum += t;
    s.epoch_mean_time.push_back(sum / static_cast<double>(times.size()));
    total += sum;
    count += times.size();
  }
  const std::vector<double>& m = s.epoch_mean_time;
  double mean = 0;
  for (size_t i = 0; i < m.size(); ++i) {
    if (m[i] > m[s.slowest_epoch]) s.slowest_epoch = i;
    if (m[i] < m[s.fastest_epoch]) s.fastest_epoch = i;
    mean += m[i];
  }
  mean /= static_cast<double>(m.size());
  double var = 0;
  for (double v : m) var += (v - mean) * (v - mean);
  s.std_over_epochs = std::sqrt(var / static_cast<double>(m.size()));
  s.average_iter_time = total / static_cast<double>(count);
  ++s.slowest_epoch;
  ++s.fastest_epoch;
  return s;
}

std::string format_train_time(const std::string& path, const TrainTimeStats& s) {
  char buf[512];
  std::string out = "-----Analyze train time of " + path + "-----\n";
  std::snprintf(buf, sizeof buf, "slowest epoch %zu, average time is %.4f\n", s.slowest_epoch,
                s.epoch_mean_time[s.slowest_epoch - 1]);
  out += buf;
  std::snprintf(buf, sizeof buf, "fastest epoch %zu, average time is %.4f\n", s.fastest_epoch,
                s.epoch_mean_time[s.fastest_epoch - 1]);
  out += buf;
  std::snprintf(buf, sizeof buf, "time std over epochs is %.4f\n", s.std_over_epochs);
  out += buf;
  std::snprintf(buf, sizeof buf, "average iter time: %.4f s/iter\n\n", s.average_iter_time);
  out += buf;
  return out;
}

}  // namespace cppdet::visualization
