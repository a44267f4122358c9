#include "commands.h"

namespace cppdet::tools {

// Each is defined in tools/<name>.cpp.
void register_print_config(CLI::App& app);
void register_checkpoint(CLI::App& app);
void register_eval_coco(CLI::App& app);
void register_infer(CLI::App& app);
void register_demo(CLI::App& app);
void register_test(CLI::App& app);
void register_eval_results(CLI::App& app);
void register_convert(CLI::App& app);
void register_analyze_logs(CLI::App& app);
void register_browse_dataset(CLI::App& app);
void register_benchmark(CLI::App& app);
void register_data(CLI::App& app);
void register_train(CLI::App& app);
void register_train_step(CLI::App& app);
void register_serve(CLI::App& app);
void register_quantize(CLI::App& app);

void register_all(CLI::App& app) {
  register_print_config(app);
  register_checkpoint(app);
  register_eval_coco(app);
  register_infer(app);
  register_demo(app);
  register_test(app);
  register_eval_results(app);
  register_convert(app);
  register_analyze_logs(app);
  register_browse_dataset(app);
  register_benchmark(app);
  register_data(app);
  register_train(app);
  register_train_step(app);
  register_serve(app);
  register_quantize(app);
}

}  // namespace cppdet::tools
