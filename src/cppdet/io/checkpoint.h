#pragma once
// PyTorch `.pth` checkpoints, read and written without Python.
//
// Reading accepts both torch.save formats — zip (PyTorch >= 1.6) and legacy (the raw pickle
// stream MMDetection's published checkpoints use) — through an allow-list unpickler that
// never executes anything (see docs/checkpoints.md). The object may be mmcv's wrapper
// {"meta", "state_dict", "optimizer"} or a bare state dict.
//
//   io::Checkpoint ckpt = io::read_checkpoint("faster_rcnn_r50_fpn_1x_coco.pth");
//   io::LoadReport report = io::load_state_dict(*model, ckpt.state_dict, /*strict=*/false);
//
// Writing produces the zip format that Python's torch.load reads.
#include <torch/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cppdet/config/value.h"
#include "cppdet/io/saved_value.h"

namespace cppdet::io {

// Tensor names and values in file order (for writing: in the order given).
using StateDict = std::vector<std::pair<std::string, torch::Tensor>>;

struct Checkpoint {
  std::string format;  // "zip" | "legacy"
  // mmcv's meta dict (an empty Dict when the file has none). Tuples stay tuples, numpy
  // scalars become numbers, sets become lists, non-str keys become their decimal/text form,
  // and objects of other classes become strings like "<opaque mmcv.utils.config.ConfigDict>".
  config::Value meta = config::Dict{};
  // CPU tensors in file order with a leading "module." removed from each name. Tensors that
  // viewed one storage in the file are views of one tensor here (as torch.load gives).
  StateDict state_dict;
  bool has_optimizer = false;
  SavedValue optimizer;  // the "optimizer" entry when has_optimizer, else None
  // One line per lossy conversion in meta (an opaque object, a tensor, a huge int), each
  // naming the file and the meta key path. Never fatal; callers decide whether to print.
  std::vector<std::string> warnings;
};

// Reads a checkpoint file. Throws FileFormatError naming the file for anything that is not a
// well-formed checkpoint: truncated or corrupt data, a class/function outside the allow list
// anywhere but in meta, a state dict entry that is not a tensor, a big-endian file.
Checkpoint read_checkpoint(const std::string& path);

// The same from bytes already in memory; `name` stands for the file in messages.
Checkpoint read_checkpoint_bytes(std::string_view bytes, const std::string& name);

struct CheckpointToWrite {
  // mmcv's meta dict (CLASSES, config, epoch, iter, ...); None leaves "meta" out.
  config::Value meta = config::Dict{};
  StateDict state_dict;  // written in this order, as an OrderedDict
  // torch optimizer.state_dict() layout; absent leaves "optimizer" out.
  std::optional<SavedValue> optimizer;
};

// Writes {"meta", "state_dict"[, "optimizer"]} in torch.save's zip format (pickle protocol 2,
// entries archive/data.pkl, archive/data/<k>, archive/version), via a temporary file renamed
// onto `path`. Tensors are written contiguous, each with its own storage, on CPU.
void write_checkpoint(const std::string& path, const CheckpointToWrite& checkpoint);
// The bytes write_checkpoint writes (e.g. to hash them before choosing a file name).
std::string serialize_checkpoint(const CheckpointToWrite& checkpoint);

// torch's dtype name for a tensor dtype: "float32", "float16", "bfloat16", "float64",
// "int64", "int32", "int16", "int8", "uint8", "bool".
std::string dtype_name(torch::ScalarType dtype);

}  // namespace cppdet::io
