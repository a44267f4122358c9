// `cppdet train-step CONFIG CHECKPOINT [--steps N] [--out F.json] [--cfg-options ...]`: the
// loss-debugging aid. Builds the model and the config's training dataset and pipeline, loads
// CHECKPOINT, takes the first samples_per_gpu images in annotation-file order as one batch
// (no shuffling, no warmup) and runs N steps of forward + backward + one optimizer step at the
// config's base lr (with the config's gradient clipping), printing and writing per step
//   {"losses": {loss_rpn_cls, ..., acc, ...}, "loss": total, "grad_norms": {param: L2 norm}}
// under "steps".
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <iomanip>
#include <iostream>

#include "command.h"
#include "cppdet/apis/device.h"
#include "cppdet/core/atomic_file.h"
#include "cppdet/core/error.h"
#include "cppdet/core/warnings.h"
#include "cppdet/data/datasets/build_dataset.h"
#include "cppdet/data/loader/collate.h"
#include "cppdet/engine/optimizer.h"
#include "cppdet/engine/train.h"
#include "cppdet/engine/train_step.h"
#include "cppdet/io/checkpoint.h"
#include "cppdet/io/state_dict.h"
#include "train_common.h"

namespace cppdet::tools {

void register_train_step(CLI::App& app) {
  struct Options {
    std::string config, checkpoint, out, device = "cpu";
    int64_t steps = 1;
    std::vector<std::string> cfg_options;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("train-step", "losses and gradient norms of N training steps on the first batch");
  cmd->add_option("config", o->config, "config file")->required();
  cmd->add_option("checkpoint", o->checkpoint, "weights to start from (.pth)")->required();
  cmd->add_option("--steps", o->steps, "optimizer steps (default 1)")->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  cmd->add_option("--out", o->out, "write the steps as JSON here");
  cmd->add_option("--device", o->device, "cpu, cuda or cuda:N (default cpu)");
  add_cfg_options(*cmd, o->cfg_options);
  cmd->callback([o] {
    configure_threads();
    const std::string device = apis::check_device(o->device);
    const config::Value cfg = load_config_and_plugins(o->config, o->cfg_options);
    std::shared_ptr<models::Detector> model = build_model_for_training(cfg, 0, device);
    const io::LoadReport report = io::load_state_dict(*model, io::read_checkpoint(o->checkpoint).state_dict, false);
    if (!report.exact()) warn(report.message());

    // The batch: the first samples_per_gpu images of data.train, through its pipeline.
    const std::shared_ptr<const data::IndexedDataset> dataset =
        data::build_train_dataset(data_split(cfg, "train"), "data.train").dataset;
    const int64_t spg = engine::train_loader_sizes(cfg).first;
    if (dataset->size() < static_cast<size_t>(spg))
      throw UserError("train-step: data.train has " + std::to_string(dataset->size()) +
                      " usable image(s), samples_per_gpu is " + std::to_string(spg));
    std::vector<data::Sample> samples;
    for (int64_t i = 0; i < spg; ++i) samples.push_back(dataset->get(static_cast<size_t>(i), 0));
    const DetBatch batch = batch_to_device(data::collate(std::move(samples)), torch::Device(device));

    const config::Dict& c = cfg.as_dict();
    if (!c.contains("optimizer")) throw ConfigError("optimizer: missing");
    engine::Optimizer optimizer(*model, engine::optimizer_from_config(c.at("optimizer")));
    std::optional<engine::GradClipOptions> clip;
    if (c.contains("optimizer_config")) clip = engine::grad_clip_from_config(c.at("optimizer_config"));

    nlohmann::ordered_json steps = nlohmann::ordered_json::array();
    for (int64_t step = 1; step <= o->steps; ++step) {
      model->train();
      const engine::StepOutputs out = engine::parse_losses(model->forward_train(batch), spg);
      engine::check_finite(out, "train-step " + std::to_string(step));
      optimizer.zero_grad();
      out.loss.backward();
      nlohmann::ordered_json record, losses, norms;
      double total = 0;
      for (const auto& [name, value] : out.log_vars) {
        if (name == "loss")
          total = value;
        else
          losses[name] = value;
      }
      for (const auto& p : model->named_parameters())
        if (p.value().grad().defined()) norms[p.key()] = p.value().grad().to(torch::kFloat64).norm().item<double>();
      if (clip) optimizer.clip_grad_norm(*clip);
      optimizer.step();
      record["losses"] = losses;
      record["loss"] = total;
      record["grad_norms"] = norms;
      std::cout << "step " << step << ":";
      for (const auto& [name, value] : out.log_vars) std::cout << " " << name << ": " << std::setprecision(8) << value;
      std::cout << "\n";
      steps.push_back(std::move(record));
    }
    if (!o->out.empty()) {
      const std::string text = nlohmann::ordered_json{{"steps", steps}}.dump(1);
      write_file_atomically(o->out, [&](std::ostream& os) { os << text << "\n"; });
      std::cerr << "wrote " << o->out << "\n";
    }
  });
}

}  // namespace cppdet::tools
