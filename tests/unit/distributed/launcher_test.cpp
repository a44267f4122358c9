// The launchers' environment contract (mmcv's init_dist) and Slurm node lists.
#include "cppdet/distributed/launcher.h"

#include <gtest/gtest.h>

#include <map>

#include "cppdet/core/error.h"
#include "support/test_support.h"

namespace cppdet::distributed {
namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(Launcher, PyTorchReadsTorchrunsVariables) {
  const LaunchEnv e = launch_env(Launcher::PyTorch, std::nullopt,
                                 env_of({{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"},
                                         {"MASTER_ADDR", "10.0.0.7"}, {"MASTER_PORT", "29611"}}));
  EXPECT_EQ(e.rank, 3);
  EXPECT_EQ(e.world_size, 4);
  EXPECT_EQ(e.local_rank, 1);
  EXPECT_EQ(e.master_addr, "10.0.0.7");
  EXPECT_EQ(e.master_port, 29611);
  EXPECT_FALSE(e.agent_store);
  const LaunchEnv agent = launch_env(Launcher::PyTorch, std::nullopt,
                                     env_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"},
                                             {"MASTER_PORT", "1"}, {"TORCHELASTIC_USE_AGENT_STORE", "True"}}));
  EXPECT_TRUE(agent.agent_store);
  EXPECT_EQ(agent.local_rank, 0);
}

TEST(Launcher, MissingOrBadVariablesAreNamed) {
  const auto message = [](std::map<std::string, std::string> vars) {
    return cppdet::testing::user_error_of([&] { launch_env(Launcher::PyTorch, std::nullopt, env_of(vars)); });
  };
  EXPECT_NE(message({{"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}}).find("RANK expected"),
            std::string::npos);
  EXPECT_NE(message({{"RANK", "x"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}})
                .find("RANK='x' is not a non-negative integer"),
            std::string::npos);
  EXPECT_NE(message({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}})
                .find("RANK=2 is not below WORLD_SIZE=2"),
            std::string::npos);
  EXPECT_NE(message({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}})
                .find("MASTER_PORT='70000' is not a TCP port"),
            std::string::npos);
  EXPECT_NE(message({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "5"}}).find("MASTER_ADDR expected"),
            std::string::npos);
  EXPECT_NE(cppdet::testing::user_error_of([] { parse_launcher("mpi"); }).find("none, pytorch, slurm"),
            std::string::npos);
}

TEST(Launcher, SlurmTakesTheFirstNodeAndDefaultPort) {
  const LaunchEnv e = launch_env(Launcher::Slurm, std::nullopt,
                                 env_of({{"SLURM_PROCID", "5"}, {"SLURM_NTASKS", "8"}, {"SLURM_LOCALID", "1"},
                                         {"SLURM_NODELIST", "gpu[07-08,11]"}}));
  EXPECT_EQ(e.rank, 5);
  EXPECT_EQ(e.world_size, 8);
  EXPECT_EQ(e.local_rank, 1);
  EXPECT_EQ(e.master_addr, "gpu07");
  EXPECT_EQ(e.master_port, 29500);
  // MASTER_ADDR wins over the node list; dist_params.port over MASTER_PORT.
  const LaunchEnv f = launch_env(Launcher::Slurm, 29700,
                                 env_of({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"SLURM_NODELIST", "a,b"},
                                         {"MASTER_ADDR", "10.1.1.1"}, {"MASTER_PORT", "29600"}}));
  EXPECT_EQ(f.master_addr, "10.1.1.1");
  EXPECT_EQ(f.master_port, 29700);
  const LaunchEnv g = launch_env(Launcher::Slurm, std::nullopt,
                                 env_of({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}, {"SLURM_NODELIST", "a,b"},
                                         {"MASTER_PORT", "29600"}}));
  EXPECT_EQ(g.master_addr, "a");
  EXPECT_EQ(g.master_port, 29600);
  EXPECT_EQ(launch_env(Launcher::None).world_size, 1);
}

TEST(Launcher, SlurmFirstHostOfNodeLists) {
  EXPECT_EQ(slurm_first_host("node[03-05,9],gpu1"), "node03");
  EXPECT_EQ(slurm_first_host("a,b"), "a");
  EXPECT_EQ(slurm_first_host("rack1-[2-4]"), "rack1-2");
  EXPECT_EQ(slurm_first_host("n[1-2]-[7,9]"), "n1-7");
  EXPECT_EQ(slurm_first_host("localhost"), "localhost");
  for (const char* bad : {"", "node[1-2", "node]", "node[x]", ",a"})
    EXPECT_FALSE(cppdet::testing::user_error_of([&] { slurm_first_host(bad); }).empty()) << bad;
}

}  // namespace
}  // namespace cppdet::distributed
