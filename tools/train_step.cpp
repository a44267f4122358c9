// `cppdet train-step CONFIG [CHECKPOINT] [--steps N] [--out F.json] [--save-grads G.pth]
// [--save-weights W.pth] [--launcher ...] [--cfg-options ...]`: the loss-debugging aid.
// Builds the model and the config's training dataset and pipeline, loads CHECKPOINT (without
// one: the from-scratch initialisation with seed 0), takes the first samples_per_gpu images
// in annotation-file order as one batch (no shuffling, no warmup) and runs N steps of
// forward + backward + one optimizer step at the config's base lr (with the config's gradient
// clipping), printing and writing per step
//   {"losses": {loss_rpn_cls, ..., acc, ...}, "loss": total, "grad_norms": {param: L2 norm}}
// under "steps". Distributed (--launcher), rank r takes images r*spg .. (r+1)*spg - 1 of the
// file; the gradients are averaged over the ranks after backward and the printed values are
// the ranks' means (as training logs them). --save-grads writes the (averaged) gradients of
// the last step before clipping, --save-weights the weights after it, as .pth state dicts;
// "{rank}" in their paths is replaced by the rank, and without it only rank 0 writes.
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
#include "cppdet/distributed/data_parallel.h"
#include "cppdet/engine/optimizer.h"
#include "cppdet/engine/train.h"
#include "cppdet/engine/train_step.h"
#include "cppdet/io/checkpoint.h"
#include "cppdet/io/state_dict.h"
#include "launch.h"
#include "train_common.h"

namespace cppdet::tools {
namespace {

// `path` for this rank: "{rank}" replaced; "" when another rank writes it.
std::string rank_path(const std::string& path, const distributed::ProcessGroup* group) {
  const size_t at = path.find("{rank}");
  if (at == std::string::npos) return !group || group->is_master() ? path : "";
  return path.substr(0, at) + std::to_string(group ? group->rank() : 0) + path.substr(at + 6);
}

void write_tensors(const std::string& path, io::StateDict tensors) {
  io::CheckpointToWrite ckpt;
  ckpt.meta = config::Value();
  ckpt.state_dict = std::move(tensors);
  io::write_checkpoint(path, ckpt);
}

}  // namespace

void register_train_step(CLI::App& app) {
  struct Options {
    std::string config, checkpoint, out, save_grads, save_weights, device = "cpu";
    int64_t steps = 1;
    std::vector<std::string> cfg_options;
    LaunchOptions launch;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("train-step", "losses and gradient norms of N training steps on the first batch");
  cmd->add_option("config", o->config, "config file")->required();
  cmd->add_option("checkpoint", o->checkpoint, "weights to start from (.pth; default: initialised from scratch, seed 0)");
  cmd->add_option("--steps", o->steps, "optimizer steps (default 1)")->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  cmd->add_option("--out", o->out, "write the steps as JSON here");
  cmd->add_option("--save-grads", o->save_grads, "write the last step's gradients (.pth; {rank} = the rank)");
  cmd->add_option("--save-weights", o->save_weights, "write the weights after the last step (.pth; {rank} = the rank)");
  cmd->add_option("--device", o->device, "cpu, cuda or cuda:N (default cpu)");
  add_cfg_options(*cmd, o->cfg_options);
  add_launch_options(*cmd, o->launch);
  cmd->callback([o] {
    configure_threads();
    const config::Value cfg = load_config_and_plugins(o->config, o->cfg_options);
    const Launched launched = launch(o->launch, cfg, apis::check_device(o->device));
    const std::string& device = launched.device;
    distributed::ProcessGroup* group = launched.group.get();
    const bool master = !group || group->is_master();
    const int64_t rank = group ? group->rank() : 0, world = group ? group->world_size() : 1;
    std::shared_ptr<models::Detector> model = build_model_for_training(cfg, 0, device);
    if (!o->checkpoint.empty()) {
      const io::LoadReport report = io::load_state_dict(*model, io::read_checkpoint(o->checkpoint).state_dict, false);
      if (!report.exact() && master) warn(report.message());
    }

    // The batch: this rank's samples_per_gpu images of data.train, through its pipeline.
    const std::shared_ptr<const data::IndexedDataset> dataset =
        data::build_train_dataset(data_split(cfg, "train"), "data.train").dataset;
    const int64_t spg = engine::train_loader_sizes(cfg).first;
    if (dataset->size() < static_cast<size_t>(spg * world))
      throw UserError("train-step: data.train has " + std::to_string(dataset->size()) + " usable image(s), " +
                      std::to_string(world) + " process(es) of samples_per_gpu " + std::to_string(spg) + " need " +
                      std::to_string(spg * world));
    std::vector<data::Sample> samples;
    for (int64_t i = rank * spg; i < (rank + 1) * spg; ++i) samples.push_back(dataset->get(static_cast<size_t>(i), 0));
    const DetBatch batch = batch_to_device(data::collate(std::move(samples)), torch::Device(device));

    const config::Dict& c = cfg.as_dict();
    if (!c.contains("optimizer")) throw ConfigError("optimizer: missing");
    engine::Optimizer optimizer(*model, engine::optimizer_from_config(c.at("optimizer")));
    std::optional<engine::GradClipOptions> clip;
    if (c.contains("optimizer_config")) clip = engine::grad_clip_from_config(c.at("optimizer_config"));
    std::unique_ptr<distributed::DistributedDataParallel> ddp;
    if (group && world > 1) {
      distributed::DataParallelOptions dp;
      if (const config::Value* fu = c.find("find_unused_parameters"); fu && !fu->is_none())
        dp.find_unused_parameters = fu->as_bool();
      ddp = std::make_unique<distributed::DistributedDataParallel>(*model, *group, dp);
    }

    nlohmann::ordered_json steps = nlohmann::ordered_json::array();
    for (int64_t step = 1; step <= o->steps; ++step) {
      model->train();
      engine::StepOutputs out = engine::parse_losses(model->forward_train(batch), spg);
      if (group) engine::reduce_log_vars(out, *group);
      engine::check_finite(out, "train-step " + std::to_string(step));
      optimizer.zero_grad();
      out.loss.backward();
      if (ddp) ddp->finish_backward();
      nlohmann::ordered_json record, losses, norms;
      double total = 0;
      for (const auto& [name, value] : out.log_vars) {
        if (name == "loss")
          total = value;
        else
          losses[name] = value;
      }
      io::StateDict grads;
      for (const auto& p : model->named_parameters()) {
        if (!p.value().grad().defined()) continue;
        norms[p.key()] = p.value().grad().to(torch::kFloat64).norm().item<double>();
        if (step == o->steps && !o->save_grads.empty()) grads.emplace_back(p.key(), p.value().grad().clone());
      }
      if (const std::string path = rank_path(o->save_grads, group); step == o->steps && !path.empty())
        write_tensors(path, std::move(grads));
      if (clip) optimizer.clip_grad_norm(*clip);
      optimizer.step();
      record["losses"] = losses;
      record["loss"] = total;
      record["grad_norms"] = norms;
      if (master) {
        std::cout << "step " << step << ":";
        for (const auto& [name, value] : out.log_vars) std::cout << " " << name << ": " << std::setprecision(8) << value;
        std::cout << "\n";
      }
      steps.push_back(std::move(record));
    }
    if (const std::string path = rank_path(o->save_weights, group); !path.empty())
      write_tensors(path, io::module_state_dict(*model));
    if (!o->out.empty() && master) {
      const std::string text = nlohmann::ordered_json{{"steps", steps}}.dump(1);
      write_file_atomically(o->out, [&](std::ostream& os) { os << text << "\n"; });
      std::cerr << "wrote " << o->out << "\n";
    }
  });
}

}  // namespace cppdet::tools
