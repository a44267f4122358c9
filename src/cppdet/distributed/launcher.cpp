#include "cppdet/distributed/launcher.h"

#include <cctype>
#include <cstdlib>

#include "cppdet/core/error.h"

namespace cppdet::distributed {
namespace {

// A non-negative decimal integer (at most 9 digits), or nullopt.
std::optional<int> parse_count(const std::string& text) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  for (char c : text)
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  return std::atoi(text.c_str());
}

std::string required(const EnvLookup& env, const std::string& name, const std::string& launcher) {
  const std::optional<std::string> value = env(name);
  if (!value || value->empty())
    throw UserError("--launcher " + launcher + ": environment variable " + name +
                    " expected, but not set (start the processes with scripts/dist_train.sh, torchrun or srun)");
  return *value;
}

int required_count(const EnvLookup& env, const std::string& name, const std::string& launcher) {
  const std::string text = required(env, name, launcher);
  const std::optional<int> n = parse_count(text);
  if (!n) throw UserError("--launcher " + launcher + ": " + name + "='" + text + "' is not a non-negative integer");
  return *n;
}

int optional_count(const EnvLookup& env, const std::string& name, const std::string& launcher, int fallback) {
  const std::optional<std::string> value = env(name);
  if (!value || value->empty()) return fallback;
  const std::optional<int> n = parse_count(*value);
  if (!n) throw UserError("--launcher " + launcher + ": " + name + "='" + *value + "' is not a non-negative integer");
  return *n;
}

int port_number(const std::string& text, const std::string& what) {
  const std::optional<int> n = parse_count(text);
  if (!n || *n < 1 || *n > 65535) throw UserError(what + "='" + text + "' is not a TCP port (1-65535)");
  return *n;
}

void check_ranks(const LaunchEnv& e, const std::string& rank_var, const std::string& size_var) {
  if (e.world_size < 1) throw UserError(size_var + " must be at least 1");
  if (e.rank >= e.world_size)
    throw UserError(rank_var + "=" + std::to_string(e.rank) + " is not below " + size_var + "=" +
                    std::to_string(e.world_size));
}

}  // namespace

Launcher parse_launcher(const std::string& name) {
  if (name == "none") return Launcher::None;
  if (name == "pytorch") return Launcher::PyTorch;
  if (name == "slurm") return Launcher::Slurm;
  throw UserError("--launcher: '" + name + "' is not supported (none, pytorch, slurm)");
}

std::optional<std::string> process_env(const std::string& name) {
  const char* v = std::getenv(name.c_str());
  if (!v) return std::nullopt;
  return std::string(v);
}

LaunchEnv launch_env(Launcher launcher, std::optional<int> port, const EnvLookup& env) {
  LaunchEnv e;
  if (launcher == Launcher::None) return e;
  if (launcher == Launcher::PyTorch) {
    e.rank = required_count(env, "RANK", "pytorch");
    e.world_size = required_count(env, "WORLD_SIZE", "pytorch");
    e.local_rank = optional_count(env, "LOCAL_RANK", "pytorch", 0);
    e.master_addr = required(env, "MASTER_ADDR", "pytorch");
    e.master_port = port_number(required(env, "MASTER_PORT", "pytorch"), "MASTER_PORT");
    const std::optional<std::string> agent = env("TORCHELASTIC_USE_AGENT_STORE");
    e.agent_store = agent && *agent == "True";
    check_ranks(e, "RANK", "WORLD_SIZE");
    return e;
  }
  e.rank = required_count(env, "SLURM_PROCID", "slurm");
  e.world_size = required_count(env, "SLURM_NTASKS", "slurm");
  e.local_rank = optional_count(env, "SLURM_LOCALID", "slurm", 0);
  const std::optional<std::string> addr = env("MASTER_ADDR");
  e.master_addr = addr && !addr->empty() ? *addr : slurm_first_host(required(env, "SLURM_NODELIST", "slurm"));
  if (port) {
    if (*port < 1 || *port > 65535) throw UserError("dist_params.port=" + std::to_string(*port) + " is not a TCP port (1-65535)");
    e.master_port = *port;
  } else if (const std::optional<std::string> p = env("MASTER_PORT"); p && !p->empty()) {
    e.master_port = port_number(*p, "MASTER_PORT");
  }
  check_ranks(e, "SLURM_PROCID", "SLURM_NTASKS");
  return e;
}

std::string slurm_first_host(const std::string& nodelist) {
  const auto bad = [&](const std::string& why) {
    return UserError("SLURM_NODELIST='" + nodelist + "': " + why);
  };
  std::string host;
  size_t i = 0;
  while (i < nodelist.size() && nodelist[i] != ',') {
    const char c = nodelist[i];
    if (c == ']') throw bad("unbalanced ']'");
    if (c != '[') {
      host += c;
      ++i;
      continue;
    }
    const size_t close = nodelist.find(']', i);
    if (close == std::string::npos) throw bad("unbalanced '['");
    const std::string range = nodelist.substr(i + 1, close - i - 1);
    const std::string first = range.substr(0, range.find_first_of(",-"));
    if (first.empty() || !parse_count(first)) throw bad("bad range [" + range + "]");
    host += first;
    i = close + 1;
  }
  if (host.empty()) throw bad("no host");
  return host;
}

}  // namespace cppdet::distributed
