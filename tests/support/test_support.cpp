#include "support/test_support.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <vector>

namespace fs = std::filesystem;

namespace cppdet::testing {
namespace {

// Leaked on purpose: the atexit handler below runs after static destructors would.
std::vector<std::string>& temp_dirs() {
  static auto* dirs = new std::vector<std::string>();
  return *dirs;
}

void remove_temp_dirs() {
  for (const std::string& d : temp_dirs()) {
    std::error_code ec;
    fs::remove_all(d, ec);
  }
}

}  // namespace

std::string source_dir() {
  if (const char* v = std::getenv("CPPDET_SOURCE_DIR")) return v;
  return CPPDET_SOURCE_DIR_DEFAULT;
}

std::string fixture(const std::string& relative) { return source_dir() + "/tests/fixtures/" + relative; }

std::string shared_dir() {
  const fs::path candidate = fs::path(source_dir()).parent_path() / "shared";
  return fs::is_directory(candidate) ? candidate.string() : std::string();
}

std::string cppdet_exe() {
  if (const char* v = std::getenv("CPPDET_EXE")) return v;
  return CPPDET_EXE_DEFAULT;
}

std::string make_temp_dir(const std::string& tag) {
  static std::once_flag once;
  std::call_once(once, [] { std::atexit(remove_temp_dirs); });
  std::string pattern = (fs::temp_directory_path() / ("cppdet-" + tag + "-XXXXXX")).string();
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  if (!::mkdtemp(buf.data())) return {};
  temp_dirs().emplace_back(buf.data());
  return temp_dirs().back();
}

int free_tcp_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = -1;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

CommandResult run_command(const std::string& command_line) {
  CommandResult result;
  FILE* pipe = ::popen((command_line + " 2>&1").c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) result.output.append(buf.data(), n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

CommandResult run_cppdet(const std::string& args) { return run_command(shell_quote(cppdet_exe()) + " " + args); }

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const std::map<std::string, std::string>& shipped_configs() {
  static const std::map<std::string, std::string> m = {
      {"faster_rcnn_r50_fpn_1x_coco", "faster_rcnn/faster_rcnn_r50_fpn_1x_coco.py"},
      {"faster_rcnn_r50_fpn_2x_coco", "faster_rcnn/faster_rcnn_r50_fpn_2x_coco.py"},
      {"faster_rcnn_r50_caffe_fpn_1x_coco", "faster_rcnn/faster_rcnn_r50_caffe_fpn_1x_coco.py"},
      {"faster_rcnn_r50_fpn_1x_voc0712", "pascal_voc/faster_rcnn_r50_fpn_1x_voc0712.py"},
      {"mask_rcnn_r50_fpn_1x_coco", "mask_rcnn/mask_rcnn_r50_fpn_1x_coco.py"},
      {"mask_rcnn_r50_caffe_fpn_1x_coco", "mask_rcnn/mask_rcnn_r50_caffe_fpn_1x_coco.py"},
      {"mask_rcnn_r50_caffe_fpn_mstrain-poly_1x_coco", "mask_rcnn/mask_rcnn_r50_caffe_fpn_mstrain-poly_1x_coco.py"},
      {"mask_rcnn_r50_caffe_fpn_mstrain-poly_3x_coco", "mask_rcnn/mask_rcnn_r50_caffe_fpn_mstrain-poly_3x_coco.py"},
      {"mask_rcnn_r50_fpn_1x_cityscapes", "cityscapes/mask_rcnn_r50_fpn_1x_cityscapes.py"},
      {"mask_rcnn_r50_caffe_fpn_mstrain-poly_1x_balloon", "balloon/mask_rcnn_r50_caffe_fpn_mstrain-poly_1x_balloon.py"},
      {"retinanet_r50_fpn_1x_coco", "retinanet/retinanet_r50_fpn_1x_coco.py"},
      {"fcos_r50_caffe_fpn_gn-head_1x_coco", "fcos/fcos_r50_caffe_fpn_gn-head_1x_coco.py"},
      {"fcos_center-normbbox-centeronreg-giou_r50_caffe_fpn_gn-head_1x_coco",
       "fcos/fcos_center-normbbox-centeronreg-giou_r50_caffe_fpn_gn-head_1x_coco.py"},
      {"atss_r50_fpn_1x_coco", "atss/atss_r50_fpn_1x_coco.py"},
      {"gfl_r50_fpn_1x_coco", "gfl/gfl_r50_fpn_1x_coco.py"},
  };
  return m;
}

std::vector<std::string> json_logs(const std::string& work_dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(work_dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() > 9 && name.substr(name.size() - 9) == ".log.json") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<nlohmann::json> log_records(const std::string& log_json) {
  std::vector<nlohmann::json> out;
  const std::string text = read_text(log_json);
  const size_t complete = text.rfind('\n') == std::string::npos ? 0 : text.rfind('\n') + 1;
  std::istringstream lines(text.substr(0, complete));
  for (std::string line; std::getline(lines, line);) {
    nlohmann::json j = nlohmann::json::parse(line);  // a malformed complete line throws
    if (j.is_object() && j.contains("mode")) out.push_back(std::move(j));
  }
  return out;
}

}  // namespace cppdet::testing
