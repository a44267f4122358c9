#pragma once
// Moving weights between a LibTorch module and a checkpoint's state dict, with mmcv's
// load_checkpoint semantics: names are `named_parameters()` + `named_buffers()` names.
#include <torch/nn/module.h>

#include <string>
#include <vector>

#include "cppdet/io/checkpoint.h"

namespace cppdet::io {

struct SizeMismatch {
  std::string name;
  std::vector<int64_t> checkpoint_shape;
  std::vector<int64_t> model_shape;
};

struct LoadReport {
  std::vector<std::string> missing_keys;     // in the model, not in the checkpoint (model order;
                                             // names containing "num_batches_tracked" left out)
  std::vector<std::string> unexpected_keys;  // in the checkpoint, not in the model (file order)
  std::vector<SizeMismatch> size_mismatches; // present in both with other shapes: NOT copied
  std::vector<std::string> loaded_keys;      // copied into the model

  bool exact() const { return missing_keys.empty() && unexpected_keys.empty() && size_mismatches.empty(); }
  // mmcv's text: "The model and loaded state dict do not match exactly\n\nsize mismatch for
  // <name>: copying a param with shape torch.Size([81, 1024]) from checkpoint, the shape in
  // current model is torch.Size([2, 1024]).\nunexpected key in source state_dict: a, b\n\n
  // missing keys in source state_dict: c\n"; "" when exact().
  std::string message() const;
};

// Copies every checkpoint tensor whose name and shape match a parameter or buffer of `model`
// (converted to its dtype and device), without recording gradients. strict=true throws
// UserError carrying report.message() when the match is not exact (after copying, as torch does).
LoadReport load_state_dict(torch::nn::Module& model, const StateDict& state_dict, bool strict = false);

// The module's parameters and buffers in torch's state_dict() order (each module's own
// parameters, then its own buffers, then its children in registration order). The tensors
// are the module's own (not copies); undefined tensors are skipped.
StateDict module_state_dict(const torch::nn::Module& model);

}  // namespace cppdet::io
