// read_checkpoint / write_checkpoint against Debian's python3-torch: checkpoints made by
// torch.save (tests/fixtures/io/make_checkpoints.py) read with identical values, and files
// cppdet writes read back by torch.load with identical values.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "cppdet/core/atomic_file.h"
#include "cppdet/core/error.h"
#include "cppdet/io/checkpoint.h"
#include "cppdet/io/sha256.h"
#include "python_torch.h"
#include "support/test_support.h"

namespace cppdet::io {
namespace {

using testing::dict_entry;
using testing::python_dump;
using testing::python_with_torch;
namespace fs = std::filesystem;

const char* const kMadeByTorch[] = {"mmcv_zip.pth", "mmcv_legacy.pth", "bare_zip.pth", "bare_legacy.pth"};

// make_checkpoints.py's files plus torch_view.json (dump_checkpoint.py of kMadeByTorch). CTest
// runs each test in its own process, so they are made once into the build tree, in a folder
// named after the scripts' hash, and reused (else into a temp dir for this process).
const std::string& made_dir() {
  static const std::string dir = [] {
    std::string scripts;
    for (const char* script : {"make_checkpoints.py", "fake_mmcv.py", "dump_checkpoint.py"})
      scripts += read_file(testing::fixture(std::string("io/") + script));
    const char* binary_dir = std::getenv("CPPDET_BINARY_DIR");
    const std::string base = binary_dir ? std::string(binary_dir) + "/tests/io-checkpoints" : testing::make_temp_dir("io-ckpt");
    const std::string final_dir = base + "/" + sha256_hex(scripts).substr(0, 16);
    if (fs::exists(final_dir + "/torch_view.json")) return final_dir;
    const std::string tmp = final_dir + ".tmp" + std::to_string(::getpid());
    fs::create_directories(tmp);
    // The shell-command pickles would touch final_dir/MARKER if anything ever ran them.
    testing::run_python_script("make_checkpoints.py", testing::shell_quote(tmp) + " " + testing::shell_quote(final_dir + "/MARKER"));
    std::vector<std::string> paths;
    for (const char* name : kMadeByTorch) paths.push_back(tmp + "/" + name);
    nlohmann::json by_path = python_dump(paths), view = nlohmann::json::object();
    for (size_t i = 0; i < paths.size() && !by_path.is_null(); ++i) view[kMadeByTorch[i]] = by_path[paths[i]];
    write_file_atomically(tmp + "/torch_view.json", [&](std::ostream& out) { out << view.dump(); });
    std::error_code ec;
    fs::rename(tmp, final_dir, ec);  // another process may have won the race: use its folder
    if (ec) fs::remove_all(tmp, ec);
    return final_dir;
  }();
  return dir;
}

// What torch.load finds in each of kMadeByTorch, keyed by file name.
const nlohmann::json& torch_view() {
  static const nlohmann::json view = nlohmann::json::parse(read_file(made_dir() + "/torch_view.json"));
  return view;
}

class PythonCheckpoints : public ::testing::Test {
 protected:
  void SetUp() override {
    if (python_with_torch().empty()) GTEST_SKIP() << "python3 with torch not found";
  }
};

void expect_matches_python(const std::string& name, const std::string& format) {
  SCOPED_TRACE(name);
  Checkpoint ckpt = read_checkpoint(made_dir() + "/" + name);
  EXPECT_EQ(ckpt.format, format);
  ASSERT_TRUE(torch_view().contains(name));
  const nlohmann::json& py = torch_view()[name];
  const nlohmann::json& py_state = dict_entry(py, "state_dict").is_null() ? py : dict_entry(py, "state_dict");
  ASSERT_EQ(ckpt.state_dict.size(), py_state["__dict__"].size());
  for (size_t i = 0; i < ckpt.state_dict.size(); ++i) {
    std::string py_name = py_state["__dict__"][i][0].get<std::string>();
    if (py_name.rfind("module.", 0) == 0) py_name = py_name.substr(7);
    EXPECT_EQ(ckpt.state_dict[i].first, py_name);
    testing::expect_tensor_equal(ckpt.state_dict[i].second, py_state["__dict__"][i][1], py_name);
  }
  if (!dict_entry(py, "meta").is_null()) testing::expect_value_equal(ckpt.meta, dict_entry(py, "meta"), "meta");
  EXPECT_EQ(ckpt.has_optimizer, !dict_entry(py, "optimizer").is_null());
  if (ckpt.has_optimizer) testing::expect_saved_equal(ckpt.optimizer, dict_entry(py, "optimizer"), "optimizer");
}

TEST_F(PythonCheckpoints, MmcvZipMatchesTorchLoad) { expect_matches_python("mmcv_zip.pth", "zip"); }
TEST_F(PythonCheckpoints, MmcvLegacyMatchesTorchLoad) { expect_matches_python("mmcv_legacy.pth", "legacy"); }
TEST_F(PythonCheckpoints, BareZipMatchesTorchLoad) { expect_matches_python("bare_zip.pth", "zip"); }
TEST_F(PythonCheckpoints, BareLegacyMatchesTorchLoad) { expect_matches_python("bare_legacy.pth", "legacy"); }

TEST_F(PythonCheckpoints, MetaKeepsTuplesNumpyScalarsAndOrder) {
  Checkpoint ckpt = read_checkpoint(made_dir() + "/mmcv_legacy.pth");
  const config::Dict& meta = ckpt.meta.as_dict();
  EXPECT_EQ(meta.keys().front(), "mmdet_version");
  EXPECT_EQ(meta.at("CLASSES"), config::Value::tuple({"cat", "dog", "traffic light"}));
  EXPECT_TRUE(meta.at("best_score").is_float());
  EXPECT_EQ(meta.at("best_score").as_number(), 0.384);
  EXPECT_EQ(meta.at("seed"), config::Value(int64_t{-42}));
  EXPECT_EQ(meta.at("ratio").as_number(), 0.5);
  EXPECT_EQ(meta.at("ids").as_dict().keys(), (std::vector<std::string>{"3", "1"}));
  EXPECT_TRUE(ckpt.warnings.empty());
}

TEST_F(PythonCheckpoints, ViewsShareOneStorageAndStripModulePrefix) {
  for (const char* name : {"/mmcv_zip.pth", "/mmcv_legacy.pth"}) {
    Checkpoint ckpt = read_checkpoint(made_dir() + name);
    std::map<std::string, torch::Tensor> t(ckpt.state_dict.begin(), ckpt.state_dict.end());
    EXPECT_TRUE(t.count("prefixed"));
    EXPECT_TRUE(t.at("views.rows").equal(t.at("views.base").slice(0, 1, 3)));
    EXPECT_TRUE(t.at("views.transposed").equal(t.at("views.base").t()));
    EXPECT_TRUE(t.at("views.column").equal(t.at("views.base").select(1, 2)));
    EXPECT_TRUE(t.at("views.rows").is_alias_of(t.at("views.base"))) << "torch.load keeps one storage";
  }
}

TEST_F(PythonCheckpoints, ForeignObjectsInMetaStayInert) {
  const std::string marker = made_dir() + "/MARKER";
  Checkpoint ckpt = read_checkpoint(made_dir() + "/opaque_meta_zip.pth");
  EXPECT_EQ(ckpt.meta.as_dict().at("cfg"), config::Value("<opaque fake_mmcv.ConfigDict>"));
  EXPECT_EQ(ckpt.meta.as_dict().at("hook"), config::Value("<opaque posix.system>"));
  EXPECT_EQ(ckpt.meta.as_dict().at("epoch"), config::Value(1));
  ASSERT_EQ(ckpt.warnings.size(), 2u);
  EXPECT_NE(ckpt.warnings[0].find("meta.cfg"), std::string::npos) << ckpt.warnings[0];
  EXPECT_FALSE(fs::exists(marker));
}

TEST_F(PythonCheckpoints, ShellCommandOutsideMetaIsRefusedAndNeverRuns) {
  const std::string marker = made_dir() + "/MARKER";
  for (const char* name : {"evil_zip.pth", "evil_legacy.pth", "evil_state_dict_zip.pth", "evil_raw.pkl"}) {
    SCOPED_TRACE(name);
    const std::string path = made_dir() + "/" + name;
    try {
      read_checkpoint(path);
      ADD_FAILURE() << "no error";
    } catch (const FileFormatError& e) {
      const std::string msg = e.what();
      EXPECT_EQ(msg.rfind(path, 0), 0u) << msg;
      if (std::string(name) != "evil_raw.pkl") EXPECT_NE(msg.find("posix.system"), std::string::npos) << msg;
    }
  }
  EXPECT_FALSE(fs::exists(marker));
}

TEST_F(PythonCheckpoints, TruncatedFilesAreFileFormatErrors) {
  for (const char* name : {"mmcv_zip.pth", "mmcv_legacy.pth"}) {
    const std::string bytes = read_file(made_dir() + "/" + name);
    std::vector<size_t> cuts;
    for (size_t n = 0; n < 600 && n < bytes.size(); ++n) cuts.push_back(n);
    for (size_t n = 600; n < bytes.size(); n += 37) cuts.push_back(n);
    cuts.push_back(bytes.size() - 1);
    for (size_t n : cuts) {
      EXPECT_THROW(read_checkpoint_bytes(std::string_view(bytes).substr(0, n), name), FileFormatError)
          << name << " cut at " << n;
    }
  }
}

TEST_F(PythonCheckpoints, CorruptedBytesNeverCrash) {
  const std::string original = read_file(made_dir() + "/mmcv_legacy.pth");
  for (size_t pos = 0; pos < original.size(); pos += 7) {
    std::string bytes = original;
    bytes[pos] = static_cast<char>(bytes[pos] ^ 0x5a);
    try {
      read_checkpoint_bytes(bytes, "corrupt.pth");
    } catch (const FileFormatError&) {
    }
  }
}

// Files cppdet writes are read by torch.load with the same tensors, meta and optimizer.
TEST_F(PythonCheckpoints, TorchLoadReadsWrittenCheckpoint) {
  CheckpointToWrite w;
  config::Dict meta;
  meta.set("CLASSES", config::Value::tuple({"balloon"}));
  meta.set("config", "model = dict(type='MaskRCNN')\n");
  meta.set("epoch", 12);
  meta.set("iter", int64_t{1} << 40);
  meta.set("lr", 0.02);
  meta.set("nothing", nullptr);
  meta.set("flags", config::Value::list({true, false, -7, 1e-300}));
  meta.set("empty", config::Value::tuple());
  config::Dict nested;
  nested.set("last_ckpt", "caf\u00e9.pth");
  meta.set("hook_msgs", nested);
  w.meta = meta;
  torch::Tensor base = torch::arange(12, torch::kFloat32).reshape({3, 4});
  w.state_dict = {
      {"backbone.conv1.weight", torch::linspace(-1, 1, 24).reshape({2, 3, 2, 2})},
      {"transposed_view", base.t()},
      {"half", torch::tensor({0.5, -2.0}).to(torch::kFloat16)},
      {"bfloat16", torch::tensor({1.5, 3.0}).to(torch::kBFloat16)},
      {"double", torch::tensor({1.0 / 3.0})},
      {"bn.num_batches_tracked", torch::tensor(int64_t{5})},
      {"int32", torch::tensor({-3, 4}, torch::kInt32)},
      {"uint8", torch::tensor({0, 255}, torch::kUInt8)},
      {"bool", torch::tensor({true, false})},
      {"empty", torch::zeros({0, 4})},
  };
  SavedDict state = {{int64_t{0}, SavedDict{{"momentum_buffer", torch::full({2, 3, 2, 2}, 0.25)}}}};
  SavedDict group = {{"lr", 0.02}, {"momentum", 0.9}, {"nesterov", false}, {"foreach", SavedValue()},
                     {"params", SavedValue::list({int64_t{0}})}};
  w.optimizer = SavedDict{{"state", state}, {"param_groups", SavedValue::list({group})}};

  const std::string path = testing::make_temp_dir("io-write") + "/written.pth";
  write_checkpoint(path, w);

  nlohmann::json dumped = python_dump({path});
  ASSERT_TRUE(dumped.contains(path));
  const nlohmann::json& py = dumped[path];
  testing::expect_value_equal(w.meta, dict_entry(py, "meta"), "meta");
  const nlohmann::json& py_state = dict_entry(py, "state_dict");
  ASSERT_EQ(py_state["__dict__"].size(), w.state_dict.size());
  for (size_t i = 0; i < w.state_dict.size(); ++i) {
    EXPECT_EQ(py_state["__dict__"][i][0], w.state_dict[i].first);
    testing::expect_tensor_equal(w.state_dict[i].second, py_state["__dict__"][i][1], w.state_dict[i].first);
  }
  testing::expect_saved_equal(*w.optimizer, dict_entry(py, "optimizer"), "optimizer");

  // And cppdet reads its own file back the same way.
  Checkpoint back = read_checkpoint(path);
  EXPECT_EQ(back.format, "zip");
  EXPECT_EQ(back.meta, w.meta);
  ASSERT_EQ(back.state_dict.size(), w.state_dict.size());
  for (size_t i = 0; i < back.state_dict.size(); ++i) EXPECT_TRUE(back.state_dict[i].second.equal(w.state_dict[i].second));
}

TEST(WriteCheckpoint, ZipEntryDataIsAlignedTo64Bytes) {
  const std::string path = testing::make_temp_dir("io-align") + "/a.pth";
  CheckpointToWrite w;
  w.state_dict = {{"a", torch::ones({3})}, {"b", torch::zeros({5}, torch::kInt64)}};
  write_checkpoint(path, w);
  // Data offsets: each local header's data must start at a multiple of 64.
  const std::string bytes = read_file(path);
  size_t pos = 0, entries = 0;
  while (bytes.compare(pos, 4, "PK\x03\x04") == 0) {
    auto u16 = [&](size_t at) { return static_cast<size_t>(static_cast<uint8_t>(bytes[at]) | static_cast<uint8_t>(bytes[at + 1]) << 8); };
    auto u32 = [&](size_t at) { return u16(at) | u16(at + 2) << 16; };
    const size_t data = pos + 30 + u16(pos + 26) + u16(pos + 28);
    EXPECT_EQ(data % 64, 0u) << bytes.substr(pos + 30, u16(pos + 26));
    pos = data + u32(pos + 18);
    ++entries;
  }
  EXPECT_EQ(entries, 5u);  // data.pkl, byteorder, data/0, data/1, version
}

}  // namespace
}  // namespace cppdet::io
