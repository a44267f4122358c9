#pragma once
// analyze_logs.py cal_train_time: per epoch, the mean of the train records' "time" (the
// first logged value of each epoch left out unless include_outliers); the slowest and fastest
// epoch by that mean, the population std of the epoch means, and the mean over all values.
#include <string>
#include <vector>

#include "cppdet/visualization/json_log.h"

namespace cppdet::visualization {

struct TrainTimeStats {
  std::vector<double> epoch_mean_time;  // per epoch, in log order
  size_t slowest_epoch = 0;             // 1-based position in the log (first one on ties)
  size_t fastest_epoch = 0;
  double std_over_epochs = 0;
  double average_iter_time = 0;  // s/iter
};

// UserError naming the log when an epoch has no time value left to average.
TrainTimeStats compute_train_time(const JsonLog& log, bool include_outliers);

// The tool's printed block:
//   -----Analyze train time of <path>-----
//   slowest epoch 2, average time is 0.5000
//   fastest epoch 1, average time is 0.4000
//   time std over epochs is 0.0500
//   average iter time: 0.4500 s/iter
//   <blank line>
std::string format_train_time(const std::string& path, const TrainTimeStats& stats);

}  // namespace cppdet::visualization
