// `cppdet checkpoint inspect FILE [--json]`, `cppdet checkpoint model CONFIG [--json]` (the
// state_dict a config's model has, to compare with a checkpoint) and
// `cppdet checkpoint publish IN OUT.pth` (MMDetection's
// tools/model_converters/publish_model.py, writing the zip format).
#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>
#include <vector>

#include "command.h"
#include "cppdet/config/config_file.h"
#include "cppdet/core/atomic_file.h"
#include "cppdet/core/error.h"
#include "cppdet/core/warnings.h"
#include "cppdet/io/checkpoint.h"
#include "cppdet/io/sha256.h"
#include "cppdet/io/state_dict.h"
#include "cppdet/models/detector.h"

namespace cppdet::tools {

namespace {

void print_warnings(const io::Checkpoint& ckpt) {
  for (const std::string& w : ckpt.warnings) warn(w);
}

std::string shape_text(const torch::Tensor& t) {
  std::string out = "[";
  for (int64_t d = 0; d < t.dim(); ++d) out += (d ? ", " : "") + std::to_string(t.size(d));
  return out + "]";
}

// [{"name", "dtype", "shape"}] of each tensor, in order.
nlohmann::ordered_json tensors_json(const io::StateDict& state_dict) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const auto& [name, t] : state_dict)
    out.push_back({{"name", name}, {"dtype", io::dtype_name(t.scalar_type())}, {"shape", t.sizes().vec()}});
  return out;
}

void print_tensors(const io::StateDict& state_dict) {
  int64_t elements = 0;
  for (const auto& entry : state_dict) elements += entry.second.numel();
  std::cout << "tensors: " << state_dict.size() << " (" << elements << " elements)\n";
  for (const auto& [name, t] : state_dict)
    std::cout << "  " << name << "  " << io::dtype_name(t.scalar_type()) << "  " << shape_text(t) << "\n";
}

void inspect(const std::string& path, bool as_json) {
  io::Checkpoint ckpt = io::read_checkpoint(path);
  print_warnings(ckpt);
  if (as_json) {
    nlohmann::ordered_json out;
    out["format"] = ckpt.format;
    out["meta"] = nlohmann::ordered_json::parse(config::dump_json(ckpt.meta));
    out["tensors"] = tensors_json(ckpt.state_dict);
    std::cout << out.dump(2) << "\n";
    return;
  }
  std::cout << "format: " << ckpt.format << "\nmeta:\n";
  const config::Dict& meta = ckpt.meta.as_dict();
  for (size_t i = 0; i < meta.size(); ++i) {
    const config::Value& v = meta.values()[i];
    const bool long_text = v.is_string() && v.as_string().find('\n') != std::string::npos;
    std::cout << "  " << meta.keys()[i] << ": "
              << (long_text ? "<text, " + std::to_string(v.as_string().size()) + " characters>" : v.brief()) << "\n";
  }
  std::cout << "optimizer: " << (ckpt.has_optimizer ? "yes" : "no") << "\n";
  print_tensors(ckpt.state_dict);
}

// The state_dict of the model a config builds (what `cppdet train` saves and `cppdet test`
// loads): parameters and buffers in the model's order.
void model_state(const std::string& config_path, const std::vector<std::string>& cfg_options, bool as_json) {
  const config::Value cfg = load_config_and_plugins(config_path, cfg_options);
  if (!cfg.is_dict() || !cfg.as_dict().contains("model")) throw ConfigError(config_path + ": no `model` dict");
  const std::shared_ptr<models::Detector> model = models::build_detector(cfg.as_dict().at("model"));
  const io::StateDict state_dict = io::module_state_dict(*model);
  if (as_json) {
    nlohmann::ordered_json out;
    out["tensors"] = tensors_json(state_dict);
    std::cout << out.dump(2) << "\n";
    return;
  }
  print_tensors(state_dict);
}

// Writes IN without its optimizer state to "<OUT without .pth>-<sha256[:8]>.pth".
void publish(const std::string& in, const std::string& out) {
  io::Checkpoint ckpt = io::read_checkpoint(in);
  print_warnings(ckpt);
  io::CheckpointToWrite to_write;
  to_write.meta = ckpt.meta;
  to_write.state_dict = ckpt.state_dict;
  const std::string bytes = io::serialize_checkpoint(to_write);
  const std::string stem = out.size() > 4 && out.compare(out.size() - 4, 4, ".pth") == 0 ? out.substr(0, out.size() - 4) : out;
  const std::string final_path = stem + "-" + io::sha256_hex(bytes).substr(0, 8) + ".pth";
  write_file_atomically(final_path, [&](std::ostream& os) { os.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
  std::cout << final_path << "\n";
}

}  // namespace

void register_checkpoint(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("checkpoint", "inspect or publish a PyTorch .pth checkpoint");
  cmd->require_subcommand(1);

  struct InspectArgs {
    std::string file;
    bool json = false;
  };
  auto inspect_args = std::make_shared<InspectArgs>();
  CLI::App* inspect_cmd = cmd->add_subcommand("inspect", "print a checkpoint's format, meta and tensors (name, dtype, shape)");
  inspect_cmd->add_option("file", inspect_args->file, "checkpoint (.pth, zip or legacy format)")->required();
  inspect_cmd->add_flag("--json", inspect_args->json, R"(print {"format", "meta", "tensors": [{"name", "dtype", "shape"}]})");
  inspect_cmd->callback([inspect_args] { inspect(inspect_args->file, inspect_args->json); });

  struct ModelArgs {
    std::string config;
    std::vector<std::string> cfg_options;
    bool json = false;
  };
  auto model_args = std::make_shared<ModelArgs>();
  CLI::App* model_cmd =
      cmd->add_subcommand("model", "print the state_dict (name, dtype, shape) of the model a config builds");
  model_cmd->add_option("config", model_args->config, "config file")->required();
  model_cmd->add_flag("--json", model_args->json, R"(print {"tensors": [{"name", "dtype", "shape"}]})");
  add_cfg_options(*model_cmd, model_args->cfg_options);
  model_cmd->callback([model_args] { model_state(model_args->config, model_args->cfg_options, model_args->json); });

  struct PublishArgs {
    std::string in, out;
  };
  auto publish_args = std::make_shared<PublishArgs>();
  CLI::App* publish_cmd = cmd->add_subcommand(
      "publish", "drop optimizer state and write OUT-<sha256[:8]>.pth in zip format (prints the path)");
  publish_cmd->add_option("in", publish_args->in, "input checkpoint")->required();
  publish_cmd->add_option("out", publish_args->out, "output name, e.g. work_dirs/faster_rcnn.pth")->required();
  publish_cmd->callback([publish_args] { publish(publish_args->in, publish_args->out); });
}

}  // namespace cppdet::tools
