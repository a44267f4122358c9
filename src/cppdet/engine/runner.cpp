#include "cppdet/engine/runner.h"

#include <pwd.h>
#include <torch/torch.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <regex>

#include "cppdet/core/error.h"
#include "cppdet/io/checkpoint.h"
#include "cppdet/io/state_dict.h"
#include "cppdet/version.h"

namespace fs = std::filesystem;

namespace cppdet::engine {
namespace {

std::atomic<bool> g_interrupted{false};

void on_sigint(int) {
  g_interrupted.store(true);
  std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends the process at once
}

// Installs the Ctrl-C handler for the lifetime of run().
class SigintGuard {
 public:
  SigintGuard() {
    g_interrupted.store(false);
    struct sigaction action {};
    action.sa_handler = on_sigint;
    sigemptyset(&action.sa_mask);
    installed_ = sigaction(SIGINT, &action, &previous_) == 0;
  }
  ~SigintGuard() {
    if (installed_) sigaction(SIGINT, &previous_, nullptr);
  }

 private:
  struct sigaction previous_ {};
  bool installed_ = false;
};

// Removes "<name>.tmp.<pid>" files left by a process that was killed while writing.
void remove_stale_temporaries(const std::string& dir, RunLogger& logger) {
  static const std::regex pattern(R"(.*\.tmp\.(\d+))");
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    std::smatch m;
    if (!std::regex_match(name, m, pattern)) continue;
    const long pid = std::strtol(m[1].str().c_str(), nullptr, 10);
    if (pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH)) continue;
    fs::remove(entry.path(), ec);
    logger.info("Removed " + entry.path().string() + ", an unfinished file of an earlier run");
  }
}

std::string host_info() {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  const passwd* pw = ::getpwuid(::geteuid());
  const char* user = std::getenv("USER");
  return std::string(user ? user : (pw ? pw->pw_name : "")) + "@" + host;
}

// Points <dir>/latest.pth at `target` (a file name in the same directory) atomically.
void update_latest_link(const std::string& dir, const std::string& target) {
  const fs::path latest = fs::path(dir) / "latest.pth";
  const fs::path tmp = fs::path(dir) / ("latest.pth.tmp." + std::to_string(::getpid()));
  std::error_code ec;
  fs::remove(tmp, ec);
  fs::create_symlink(target, tmp, ec);
  if (ec) {  // no symlinks on this file system: an atomic copy instead
    fs::copy_file(fs::path(dir) / target, tmp, fs::copy_options::overwrite_existing, ec);
    if (ec) throw FileFormatError(tmp.string() + ": cannot write: " + ec.message());
  }
  fs::rename(tmp, latest, ec);
  if (ec) {
    fs::remove(tmp);
    throw FileFormatError(latest.string() + ": cannot update: " + ec.message());
  }
}

config::Value string_tuple(const std::vector<std::string>& items) {
  config::List list;
  for (const std::string& s : items) list.emplace_back(s);
  return config::Value::tuple(std::move(list));
}

}  // namespace

Runner::Runner(std::shared_ptr<torch::nn::Module> model, ForwardTrain forward_train, std::unique_ptr<Optimizer> optimizer,
               std::shared_ptr<RunLogger> logger, RunnerOptions options)
    : model_(std::move(model)),
      forward_train_(std::move(forward_train)),
      optimizer_(std::move(optimizer)),
      logger_(std::move(logger)),
      options_(std::move(options)),
      meta_(options_.meta) {
  if (!model_ || !forward_train_ || !optimizer_ || !logger_)
    throw std::invalid_argument("Runner: model, forward_train, optimizer and logger are required");
  if (options_.by_epoch && options_.max_epochs <= 0) throw ConfigError("runner.max_epochs: must be positive");
  if (!options_.by_epoch && options_.max_iters <= 0) throw ConfigError("runner.max_iters: must be positive");
  if (!meta_.contains("hook_msgs")) meta_.set("hook_msgs", config::Dict{});
}

Runner::~Runner() = default;

void Runner::register_hook(std::unique_ptr<Hook> hook) {
  const int p = static_cast<int>(hook->priority());
  auto pos = hooks_.end();
  while (pos != hooks_.begin() && static_cast<int>((*(pos - 1))->priority()) > p) --pos;
  hooks_.insert(pos, std::move(hook));
}

template <typename Fn>
void Runner::call_hooks(Fn fn) {
  for (auto& hook : hooks_) fn(*hook);
}

TrainProgress Runner::progress() const {
  TrainProgress p;
  p.epoch = epoch_;
  p.iter = iter_;
  p.epoch_len = epoch_len_;
  p.max_epochs = options_.by_epoch ? options_.max_epochs : 0;
  p.max_iters = max_iters_;
  return p;
}

std::vector<double> Runner::current_lr() const {
  std::vector<double> out;
  for (size_t g = 0; g < optimizer_->num_groups(); ++g) out.push_back(optimizer_->lr(g));
  return out;
}

std::string Runner::position_text() const {
  if (options_.by_epoch)
    return "epoch " + std::to_string(epoch_ + 1) + ", iter " + std::to_string(inner_iter_ + 1) + "/" +
           std::to_string(epoch_len_) + " (global iteration " + std::to_string(iter_ + 1) + ")";
  return "iter " + std::to_string(iter_ + 1) + "/" + std::to_string(max_iters_);
}

void Runner::run_iter(const DetBatch& batch) {
  outputs_ = parse_losses(forward_train_(batch), batch.img.defined() ? batch.img.size(0) : 0);
  if (options_.group) reduce_log_vars(outputs_, *options_.group);
  check_finite(outputs_, position_text());
  for (const auto& [name, value] : outputs_.log_vars) log_buffer_.update(name, value, outputs_.num_samples);
}

bool Runner::interrupt_requested() const {
  const bool here = g_interrupted.load();
  if (!options_.group) return here;
  torch::Tensor any = torch::tensor({here ? 1 : 0}, torch::TensorOptions().dtype(torch::kInt).device(options_.group->device()));
  options_.group->all_reduce(any, distributed::ReduceOp::Max);
  return any.item<int>() != 0;
}

void Runner::backward(const torch::Tensor& loss) {
  loss.backward();
  if (data_parallel_) data_parallel_->finish_backward();
}

void Runner::barrier() {
  if (options_.group) options_.group->barrier();
}

RunStatus Runner::run(const data::DataLoader& loader) {
  epoch_len_ = static_cast<int64_t>(loader.size());
  if (epoch_len_ == 0) throw UserError("the training data loader has no batches (empty dataset?)");
  max_iters_ = options_.by_epoch ? options_.max_epochs * epoch_len_ : options_.max_iters;
  std::error_code ec;
  fs::create_directories(options_.work_dir, ec);
  if (ec) throw FileFormatError(options_.work_dir + ": cannot create the work dir: " + ec.message());
  if (is_master()) remove_stale_temporaries(options_.work_dir, *logger_);
  if (options_.group && options_.group->world_size() > 1)
    data_parallel_ = std::make_unique<distributed::DistributedDataParallel>(*model_, *options_.group, options_.data_parallel);

  logger_->info("Start running, host: " + host_info() + ", work_dir: " + fs::absolute(options_.work_dir).string());
  std::string table = "Hooks will be executed in the following order:";
  for (const auto& hook : hooks_) {
    std::string pname = std::string("(") + priority_name(hook->priority());
    pname.resize(13, ' ');
    table += "\n" + pname + ") " + hook->name();
  }
  logger_->info(table);
  logger_->info(options_.by_epoch ? "workflow: [('train', 1)], max: " + std::to_string(options_.max_epochs) + " epochs"
                                  : "workflow: [('train', 1)], max: " + std::to_string(max_iters_) + " iters");

  SigintGuard sigint;
  bool interrupted = false;
  int64_t interrupted_inner = 0;  // batches of epoch_ done when interrupted (epoch mode)
  try {
    call_hooks([&](Hook& h) { h.before_run(*this); });
    if (options_.by_epoch) {
      while (epoch_ < options_.max_epochs && !interrupted) {
        model_->train();
        call_hooks([&](Hook& h) { h.before_train_epoch(*this); });
        auto batches = loader.epoch(epoch_, static_cast<size_t>(resume_inner_iter_));
        resume_inner_iter_ = 0;
        inner_iter_ = static_cast<int64_t>(batches->position());
        while (std::optional<DetBatch> batch = batches->next()) {
          inner_iter_ = static_cast<int64_t>(batches->position()) - 1;
          call_hooks([&](Hook& h) { h.before_train_iter(*this); });
          run_iter(*batch);
          call_hooks([&](Hook& h) { h.after_train_iter(*this); });
          ++iter_;
          if (interrupt_requested() && inner_iter_ + 1 < epoch_len_) {
            interrupted = true;
            interrupted_inner = inner_iter_ + 1;
            break;
          }
        }
        if (interrupted) break;
        call_hooks([&](Hook& h) { h.after_train_epoch(*this); });
        ++epoch_;
        interrupted = interrupt_requested() && epoch_ < options_.max_epochs;
      }
    } else {
      epoch_ = iter_ / epoch_len_;
      while (iter_ < max_iters_ && !interrupted) {
        auto batches = loader.epoch(epoch_, static_cast<size_t>(iter_ % epoch_len_));
        while (iter_ < max_iters_) {
          std::optional<DetBatch> batch = batches->next();
          if (!batch) break;
          inner_iter_ = static_cast<int64_t>(batches->position()) - 1;
          model_->train();
          call_hooks([&](Hook& h) { h.before_train_iter(*this); });
          run_iter(*batch);
          call_hooks([&](Hook& h) { h.after_train_iter(*this); });
          ++iter_;
          if (interrupt_requested() && iter_ < max_iters_) {
            interrupted = true;
            break;
          }
        }
        if (iter_ % epoch_len_ == 0) ++epoch_;
      }
    }
    if (interrupted) {
      save_interrupted(options_.by_epoch ? interrupted_inner : iter_ % epoch_len_);
      return RunStatus::Interrupted;
    }
    call_hooks([&](Hook& h) { h.after_run(*this); });
  } catch (const NonFiniteLossError& e) {
    logger_->error(std::string(e.what()) + "; training stopped, checkpoints are unchanged");
    throw;
  }
  return RunStatus::Completed;
}

void Runner::save_interrupted(int64_t inner) {
  if (!is_master()) {
    barrier();
    return;
  }
  config::Dict extra;
  extra.set("cppdet_version", kVersion);
  extra.set("CLASSES", string_tuple(options_.classes));
  const std::string path = (fs::path(options_.work_dir) / "interrupted.pth").string();
  config::Dict meta = extra;
  for (size_t i = 0; i < meta_.size(); ++i) meta.set(meta_.keys()[i], meta_.values()[i]);
  meta.set("epoch", options_.by_epoch ? epoch_ : epoch_ + 1);
  meta.set("iter", iter_);
  meta.set("inner_iter", inner);
  meta.set("time", asctime_now());
  meta.set("CLASSES", string_tuple(options_.classes));
  io::CheckpointToWrite ckpt;
  ckpt.meta = meta;
  ckpt.state_dict = io::module_state_dict(*model_);
  ckpt.optimizer = optimizer_->state_dict();
  io::write_checkpoint(path, ckpt);
  update_latest_link(options_.work_dir, "interrupted.pth");
  barrier();
  logger_->info("Interrupted at " + (options_.by_epoch ? "epoch " + std::to_string(epoch_ + 1) + ", " : std::string()) +
                "iter " + std::to_string(iter_) + "; saved " + path +
                " (latest.pth points to it; continue with --auto-resume)");
}

void Runner::save_checkpoint(const std::string& out_dir, const std::string& filename, bool save_optimizer,
                             bool update_latest, const config::Dict& extra_meta) {
  if (!is_master()) return;
  config::Dict meta = extra_meta;
  for (size_t i = 0; i < meta_.size(); ++i) meta.set(meta_.keys()[i], meta_.values()[i]);
  // Called from after_train_epoch / after_train_iter, before the counters advance.
  meta.set("epoch", epoch_ + 1);
  meta.set("iter", options_.by_epoch ? iter_ : iter_ + 1);
  meta.set("time", asctime_now());
  meta.set("CLASSES", string_tuple(options_.classes));
  io::CheckpointToWrite ckpt;
  ckpt.meta = meta;
  ckpt.state_dict = io::module_state_dict(*model_);
  if (save_optimizer) ckpt.optimizer = optimizer_->state_dict();
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  io::write_checkpoint((fs::path(out_dir) / filename).string(), ckpt);
  if (update_latest) update_latest_link(out_dir, filename);
}

void Runner::resume(const std::string& checkpoint_path) {
  io::Checkpoint ckpt = io::read_checkpoint(checkpoint_path);
  const io::LoadReport report = io::load_state_dict(*model_, ckpt.state_dict, /*strict=*/false);
  if (!report.exact()) logger_->warning(report.message());
  if (!ckpt.meta.is_dict() || !ckpt.meta.as_dict().contains("epoch") || !ckpt.meta.as_dict().contains("iter"))
    throw FileFormatError(checkpoint_path + ": meta has no epoch/iter; use load_from for weights-only checkpoints");
  const config::Dict& meta = ckpt.meta.as_dict();
  epoch_ = meta.at("epoch").as_int();
  iter_ = meta.at("iter").as_int();
  resume_inner_iter_ = 0;
  if (const config::Value* inner = meta.find("inner_iter")) {
    if (options_.by_epoch) resume_inner_iter_ = inner->as_int();
  }
  if (!options_.by_epoch) epoch_ = std::max<int64_t>(epoch_ - 1, 0);
  if (const config::Value* msgs = meta.find("hook_msgs"); msgs && msgs->is_dict()) {
    config::Dict& ours = meta_.at("hook_msgs").as_dict();
    for (size_t i = 0; i < msgs->as_dict().size(); ++i) ours.set(msgs->as_dict().keys()[i], msgs->as_dict().values()[i]);
  }
  if (const config::Value* fp16 = meta.find("fp16"); fp16 && fp16->is_dict()) meta_.set("fp16", *fp16);
  if (ckpt.has_optimizer) optimizer_->load_state_dict(ckpt.optimizer, checkpoint_path);
  logger_->info("resumed epoch " + std::to_string(epoch_) + ", iter " + std::to_string(iter_) +
                (resume_inner_iter_ > 0 ? " (inside epoch " + std::to_string(epoch_ + 1) + " after batch " +
                                              std::to_string(resume_inner_iter_) + ")"
                                        : std::string()));
}

std::optional<std::string> find_latest_checkpoint(const std::string& work_dir) {
  const fs::path latest = fs::path(work_dir) / "latest.pth";
  std::error_code ec;
  if (fs::exists(latest, ec)) return latest.string();
  static const std::regex numbered(R"(.*_(\d+)\.pth)");
  std::optional<std::string> best;
  long best_n = -1;
  for (const auto& entry : fs::directory_iterator(work_dir, ec)) {
    const std::string name = entry.path().filename().string();
    std::smatch m;
    if (!std::regex_match(name, m, numbered)) continue;
    const long n = std::strtol(m[1].str().c_str(), nullptr, 10);
    if (n > best_n) {
      best_n = n;
      best = entry.path().string();
    }
  }
  return best;
}

const char* priority_name(Priority p) {
  switch (p) {
    case Priority::Highest: return "HIGHEST";
    case Priority::VeryHigh: return "VERY_HIGH";
    case Priority::High: return "HIGH";
    case Priority::AboveNormal: return "ABOVE_NORMAL";
    case Priority::Normal: return "NORMAL";
    case Priority::BelowNormal: return "BELOW_NORMAL";
    case Priority::Low: return "LOW";
    case Priority::VeryLow: return "VERY_LOW";
    case Priority::Lowest: return "LOWEST";
  }
  return "NORMAL";
}

}  // namespace cppdet::engine
