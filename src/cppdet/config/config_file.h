#pragma once
// Reading an MMDetection config file as mmcv 1.x's Config.fromfile does — without running
// Python: the .py file's declarative subset (see docs/configs.md), .json or .yaml, its
// `_base_` files merged, then --cfg-options applied. Errors are ConfigError naming
// "file:line:col: ..." or the key path.
//
//   Value cfg = load_config("configs/faster_rcnn/faster_rcnn_r50_fpn_1x_coco.py",
//                           {"model.rpn_head.anchor_generator.scales=[4]"});
//   std::cout << dump_python(cfg);
#include <string>
#include <vector>

#include "cppdet/config/value.h"

namespace cppdet::config {

// The merged config of `path` (a dict), with `cfg_options` ("a.b.c=value" strings as given
// to --cfg-options) applied on top.
Value load_config(const std::string& path, const std::vector<std::string>& cfg_options = {});

// One config file's own content (no `_base_` merging, no {{_base_.x}} substitution), read
// from memory. `filename` names the file in messages and picks the syntax by its extension
// (.py, .json, .yaml/.yml; .txt is read as Python, for dumped configs). Never executes anything.
Value parse_config_text(const std::string& text, const std::string& filename);

// mmcv's DictAction: "a.b=1,2" -> {"a.b": [1, 2]} (flat dotted keys, in argument order).
// Throws ConfigError for an argument without '='.
Dict parse_cfg_options(const std::vector<std::string>& options);
// mmcv's Config.merge_from_dict(options, allow_list_keys=True): dotted keys create nested
// dicts, integer parts index into existing lists. Errors name the key.
void merge_cfg_options(Value& cfg, const Dict& options);

// mmcv's `_base_` merge of `child` into `base` (recursive dicts, `_delete_=True`, other
// values replace); `where` names the child in error messages.
Value merge_into_base(const Value& child, const Value& base, const std::string& where = "");

// JSON with tuples as {"__tuple__": [...]}; floats always re-read as floats (1.0, 1e-05).
std::string dump_json(const Value& cfg);
// Python text in mmcv's pretty_text style (`key = value` lines, dict(...) for
// identifier-keyed dicts); reading it back gives an identical tree.
std::string dump_python(const Value& cfg);
// Reads the tagged JSON that dump_json writes (and the oracle's merged-config .json files).
Value value_from_tagged_json(const std::string& text);

}  // namespace cppdet::config
