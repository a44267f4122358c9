#include "commands.h"

namespace cppdet::tools {

// Each is defined in tools/<name>.cpp.
void register_print_config(CLI::App& app);
void register_checkpoint(CLI::App& app);
void register_eval_coco(CLI::App& app);
void register_infer(CLI::App& app);
void register_demo(CLI::App& app);

void register_all(CLI::App& app) {
  register_print_config(app);
  register_checkpoint(app);
  register_eval_coco(app);
  register_infer(app);
  register_demo(app);
}

}  // namespace cppdet::tools
