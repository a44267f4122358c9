// read_checkpoint: the two torch.save containers, tensor materialisation, and the
// conversion of the decoded pickle graph into meta / state_dict / optimizer.
#include <algorithm>
#include <cstring>
#include <map>
#include <optional>

#include "cppdet/core/atomic_file.h"
#include "cppdet/core/error.h"
#include "cppdet/io/checkpoint.h"
#include "cppdet/io/pickle_reader.h"
#include "cppdet/io/zip_reader.h"

namespace cppdet::io {

namespace {

using pickle::Graph;
using pickle::Kind;
using pickle::Node;
using pickle::NodeId;

constexpr int kMaxDepth = 128;
// Work allowed when converting the graph (nodes visited + string bytes copied): shared
// references could otherwise make a small file expand exponentially.
constexpr size_t kConversionBudget = size_t{1} << 27;
// config::Dict inserts in linear time; mmcv's meta dicts hold a dozen keys.
constexpr size_t kMaxMetaDictSize = 10000;

torch::ScalarType scalar_type_of(const std::string& dtype) {
  static const std::map<std::string, torch::ScalarType> kTypes = {
      {"float32", torch::kFloat32}, {"float16", torch::kFloat16}, {"bfloat16", torch::kBFloat16},
      {"float64", torch::kFloat64}, {"int64", torch::kInt64},     {"int32", torch::kInt32},
      {"int16", torch::kInt16},     {"int8", torch::kInt8},       {"uint8", torch::kUInt8},
      {"bool", torch::kBool},
  };
  return kTypes.at(dtype);
}

// A 1-D tensor holding `numel` elements of `dtype` copied from `bytes` (little-endian).
torch::Tensor tensor_from_bytes(std::string_view bytes, const std::string& dtype, int64_t numel) {
  const bool is_bool = dtype == "bool";
  torch::Tensor t = torch::empty({numel}, is_bool ? torch::kUInt8 : scalar_type_of(dtype));
  if (numel > 0) std::memcpy(t.data_ptr(), bytes.data(), numel * pickle::dtype_size(dtype));
  return is_bool ? t.ne(0) : t;  // any nonzero byte is True, as in C
}

// Where a pickle's storages come from: zip entries or the legacy stream's raw records.
class StorageSource {
 public:
  virtual ~StorageSource() = default;
  // The 1-D tensor of the storage `node` refers to (its root data, narrowed for a view).
  virtual torch::Tensor root(const Node& storage) = 0;
};

class ZipStorages : public StorageSource {
 public:
  ZipStorages(const ZipReader& zip, std::string prefix, std::string where)
      : zip_(zip), prefix_(std::move(prefix)), where_(std::move(where)) {}
  torch::Tensor root(const Node& storage) override {
    auto it = loaded_.find(storage.key);
    if (it != loaded_.end()) {
      const torch::Tensor& t = it->second;
      if (t.numel() != storage.i || t.scalar_type() != scalar_type_of(storage.text))
        throw FileFormatError(where_ + ": storage '" + storage.key + "' is declared with two types or sizes");
      return t;
    }
    std::string data = zip_.read(prefix_ + "data/" + storage.key);
    const int64_t esize = pickle::dtype_size(storage.text);
    if (static_cast<uint64_t>(storage.i) > data.size() / esize)
      throw FileFormatError(where_ + ": storage '" + storage.key + "' holds " + std::to_string(data.size()) +
                            " bytes, fewer than its " + std::to_string(storage.i) + " " + storage.text + " elements");
    return loaded_[storage.key] = tensor_from_bytes(data, storage.text, storage.i);
  }

 private:
  const ZipReader& zip_;
  std::string prefix_;
  std::string where_;
  std::map<std::string, torch::Tensor> loaded_;
};

class LegacyStorages : public StorageSource {
 public:
  explicit LegacyStorages(std::map<std::string, torch::Tensor> loaded) : loaded_(std::move(loaded)) {}
  torch::Tensor root(const Node& storage) override { return loaded_.at(storage.key); }

 private:
  std::map<std::string, torch::Tensor> loaded_;
};

// Turns graph nodes into meta / state dict / optimizer values, checking on the way.
class Converter {
 public:
  Converter(const Graph& g, StorageSource& storages, std::string where, std::vector<std::string>& warnings)
      : g_(g), storages_(storages), where_(std::move(where)), warnings_(warnings), reached_(g.nodes.size(), false) {}

  const Node& node(NodeId id) const { return g_.nodes[id]; }
  [[noreturn]] void fail(const std::string& what) const { throw FileFormatError(where_ + ": " + what); }

  // The value of a str-keyed entry of a dict node, or nullopt.
  std::optional<NodeId> entry(NodeId dict, const std::string& key) const {
    const Node& d = node(dict);
    std::optional<NodeId> found;
    for (size_t k = 0; k + 1 < d.items.size(); k += 2) {
      const Node& kn = node(d.items[k]);
      if (kn.kind == Kind::String && kn.text == key) found = d.items[k + 1];  // last one wins
    }
    return found;
  }

  // Every global outside the allow list must have been reached from meta.
  void check_foreign_reached() const {
    for (NodeId id : g_.foreign)
      if (!reached_[id])
        fail("refusing to load: the pickle refers to '" + node(id).text +
             "', which is not on the allow list (outside 'meta' only tensors, numbers, strings, "
             "lists, tuples, sets and dicts may appear); nothing was executed");
  }

  config::Value meta(NodeId id, const std::string& path, int depth = 0) {
    spend(id, path, depth);
    const Node& n = node(id);
    switch (n.kind) {
      case Kind::None: return {};
      case Kind::Bool: return n.i != 0;
      case Kind::Int: return n.i;
      case Kind::Float: return n.f;
      case Kind::String: return n.text;
      case Kind::List:
      case Kind::Tuple:
      case Kind::Set: {
        config::List items;
        for (NodeId item : n.items) items.push_back(meta(item, path + "[" + std::to_string(items.size()) + "]", depth + 1));
        return n.kind == Kind::Tuple ? config::Value::tuple(std::move(items)) : config::Value::list(std::move(items));
      }
      case Kind::Dict: {
        if (n.items.size() / 2 > kMaxMetaDictSize)
          fail(path + ": dict with more than " + std::to_string(kMaxMetaDictSize) + " entries in meta");
        config::Dict d;
        for (size_t k = 0; k + 1 < n.items.size(); k += 2) {
          std::string key = key_text(n.items[k], path, depth);
          d.set(key, meta(n.items[k + 1], path + "." + key, depth + 1));
        }
        return d;
      }
      case Kind::Bytes:
        if (is_text(n.text)) return n.text;
        return lossy(path, "bytes", "<bytes of length " + std::to_string(n.text.size()) + ">");
      case Kind::BigInt: return lossy(path, "an integer too large for int64", "<int of " + std::to_string(n.text.size()) + " bytes>");
      case Kind::Tensor: {
        std::string shape;
        for (int64_t size : n.sizes) shape += (shape.empty() ? "" : ", ") + std::to_string(size);
        return lossy(path, "a tensor", "<tensor " + node(n.items[0]).text + " [" + shape + "]>");
      }
      case Kind::Storage: return lossy(path, "a storage", "<storage " + n.text + ">");
      case Kind::Foreign:
      case Kind::Opaque:
        mark_reached(id, 0);
        return lossy(path, "an object of class " + n.text, "<opaque " + n.text + ">");
      default: return lossy(path, "an object of class " + n.text, "<opaque " + n.text + ">");
    }
  }

  torch::Tensor tensor(NodeId id, const std::string& path) {
    const Node& n = node(id);
    if (n.kind != Kind::Tensor) fail(path + " holds " + describe(n) + ", not a tensor");
    const Node& storage = node(n.items[0]);
    torch::Tensor data = storages_.root(storage);
    if (storage.view_offset >= 0) data = data.narrow(0, storage.view_offset, storage.view_numel);
    const int64_t available = data.numel();
    // Every element the view touches must lie inside its storage.
    const bool empty = std::find(n.sizes.begin(), n.sizes.end(), 0) != n.sizes.end();
    if (empty) {
      if (n.i > available) fail(path + ": tensor storage offset past the end of its storage");
    } else {
      unsigned __int128 numel = 1, last = static_cast<uint64_t>(n.i);
      for (size_t d = 0; d < n.sizes.size(); ++d) {
        numel *= static_cast<uint64_t>(n.sizes[d]);
        last += static_cast<unsigned __int128>(n.sizes[d] - 1) * static_cast<uint64_t>(n.strides[d]);
        if (numel > static_cast<uint64_t>(available)) fail(path + ": tensor has more elements than its storage");
        if (last >= static_cast<uint64_t>(available)) fail(path + ": tensor view reaches past the end of its storage");
      }
      if (last >= static_cast<uint64_t>(available)) fail(path + ": tensor storage offset past the end of its storage");  // 0-d
    }
    return data.as_strided(n.sizes, n.strides, data.storage_offset() + n.i);
  }

  StateDict state_dict(NodeId id, const std::string& path) {
    const Node& n = node(id);
    if (n.kind != Kind::Dict) fail(path + " holds " + describe(n) + ", not a dict of tensors");
    StateDict out;
    std::map<std::string, size_t> index;
    for (size_t k = 0; k + 1 < n.items.size(); k += 2) {
      const Node& key = node(n.items[k]);
      if (key.kind != Kind::String) fail(path + " has a key that is " + describe(key) + ", not a str");
      std::string name = key.text.rfind("module.", 0) == 0 ? key.text.substr(7) : key.text;
      torch::Tensor t = tensor(n.items[k + 1], path + "['" + key.text + "']");
      auto [it, inserted] = index.emplace(name, out.size());
      if (inserted) out.emplace_back(name, t);
      else out[it->second].second = t;  // a repeated key replaces, as in a Python dict
    }
    return out;
  }

  SavedValue saved(NodeId id, const std::string& path, int depth = 0) {
    spend(id, path, depth);
    const Node& n = node(id);
    switch (n.kind) {
      case Kind::None: return {};
      case Kind::Bool: return n.i != 0;
      case Kind::Int: return n.i;
      case Kind::Float: return n.f;
      case Kind::String: return n.text;
      case Kind::Tensor: return tensor(id, path);
      case Kind::List:
      case Kind::Tuple:
      case Kind::Set: {
        SavedList items;
        for (NodeId item : n.items) items.push_back(saved(item, path + "[" + std::to_string(items.size()) + "]", depth + 1));
        return n.kind == Kind::Tuple ? SavedValue::tuple(std::move(items)) : SavedValue::list(std::move(items));
      }
      case Kind::Dict: {
        SavedDict d;
        std::map<SavedKey, size_t> index;
        for (size_t k = 0; k + 1 < n.items.size(); k += 2) {
          const Node& key = node(n.items[k]);
          SavedKey sk;
          if (key.kind == Kind::String) sk = key.text;
          else if (key.kind == Kind::Int) sk = key.i;
          else fail(path + " has a key that is " + describe(key) + " (only str and int keys are supported)");
          std::string sub = path + "." + (key.kind == Kind::String ? key.text : std::to_string(key.i));
          SavedValue v = saved(n.items[k + 1], sub, depth + 1);
          auto [it, inserted] = index.emplace(sk, d.size());
          if (inserted) d.emplace_back(std::move(sk), std::move(v));
          else d[it->second].second = std::move(v);  // a repeated key replaces, as in Python
        }
        return d;
      }
      default: fail(path + " holds " + describe(n) + ", which is not supported outside 'meta'");
    }
  }

  std::string describe(const Node& n) const {
    switch (n.kind) {
      case Kind::None: return "None";
      case Kind::Bool: return "a bool";
      case Kind::Int:
      case Kind::BigInt: return "an int";
      case Kind::Float: return "a float";
      case Kind::String: return "a str";
      case Kind::Bytes: return "bytes";
      case Kind::List: return "a list";
      case Kind::Tuple: return "a tuple";
      case Kind::Dict: return "a dict";
      case Kind::Set: return "a set";
      case Kind::Tensor: return "a tensor";
      case Kind::Storage: return "a storage";
      default: return "an object of class " + n.text;
    }
  }

 private:
  void spend(NodeId id, const std::string& path, int depth) {
    if (depth > kMaxDepth) fail(path + ": nesting deeper than " + std::to_string(kMaxDepth) + " levels (or a cycle)");
    used_ += 1 + node(id).text.size() + path.size();
    if (used_ > kConversionBudget) fail("object graph too large once shared references are expanded");
  }

  // Marks an opaque object and everything it was built from as accepted (it sits in meta).
  void mark_reached(NodeId id, int depth) {
    if (reached_[id] || depth > kMaxDepth) return;
    reached_[id] = true;
    for (NodeId part : node(id).items) mark_reached(part, depth + 1);
  }

  std::string key_text(NodeId id, const std::string& path, int depth) {
    const Node& k = node(id);
    switch (k.kind) {
      case Kind::String: return k.text;
      case Kind::Int: return std::to_string(k.i);
      case Kind::Bool: return k.i ? "True" : "False";
      case Kind::None: return "None";
      default: {
        config::Value v = meta(id, path + ".<key>", depth + 1);
        return v.is_string() ? v.as_string() : v.brief();
      }
    }
  }

  static bool is_text(const std::string& s) {
    for (char c : s)
      if (static_cast<unsigned char>(c) >= 0x80) return false;
    return true;
  }

  config::Value lossy(const std::string& path, const std::string& what, const std::string& text) {
    warnings_.push_back(where_ + ": " + path + " holds " + what + "; kept as the string \"" + text + "\"");
    return text;
  }

  const Graph& g_;
  StorageSource& storages_;
  std::string where_;
  std::vector<std::string>& warnings_;
  std::vector<bool> reached_;
  size_t used_ = 0;
};

// Splits the decoded object into the Checkpoint fields (mmcv wrapper or bare state dict).
Checkpoint assemble(const Graph& g, StorageSource& storages, const std::string& where, std::string format) {
  Checkpoint ckpt;
  ckpt.format = std::move(format);
  Converter conv(g, storages, where, ckpt.warnings);
  const Node& root = conv.node(g.root);
  std::optional<NodeId> state_dict = root.kind == Kind::Dict ? conv.entry(g.root, "state_dict") : std::nullopt;
  std::optional<NodeId> meta = state_dict ? conv.entry(g.root, "meta") : std::nullopt;
  if (meta) ckpt.meta = conv.meta(*meta, "meta");
  conv.check_foreign_reached();
  if (meta && !ckpt.meta.is_dict()) conv.fail("'meta' holds a " + ckpt.meta.type_name() + ", not a dict");
  if (root.kind != Kind::Dict) conv.fail("the saved object is " + conv.describe(root) + ", not a checkpoint dict");
  ckpt.state_dict = conv.state_dict(state_dict ? *state_dict : g.root, state_dict ? "state_dict" : "state dict");
  if (std::optional<NodeId> optimizer = state_dict ? conv.entry(g.root, "optimizer") : std::nullopt) {
    ckpt.has_optimizer = true;
    ckpt.optimizer = conv.saved(*optimizer, "optimizer");
  }
  return ckpt;
}

Checkpoint read_zip(std::string_view bytes, const std::string& where) {
  ZipReader zip(bytes, where);
  std::string prefix;
  bool found = false;
  for (const std::string& name : zip.names()) {
    size_t slash = name.find('/');
    if (slash != std::string::npos && name.substr(slash + 1) == "data.pkl") {
      prefix = name.substr(0, slash + 1);
      found = true;
      break;
    }
  }
  if (!found) throw FileFormatError(where + ": zip archive without a '<name>/data.pkl' entry; not a torch.save file");
  if (zip.contains(prefix + "byteorder") && zip.read(prefix + "byteorder") != "little")
    throw FileFormatError(where + ": big-endian checkpoints are not supported");
  std::string pkl = zip.read(prefix + "data.pkl");
  Graph g = pickle::read_pickle(pkl, 0, where + " (" + prefix + "data.pkl)");
  ZipStorages storages(zip, prefix, where);
  return assemble(g, storages, where, "zip");
}

// The legacy stream: magic number, protocol version, sys_info, the object, the list of
// storage keys, then each storage as an int64 element count followed by its raw bytes.
Checkpoint read_legacy(std::string_view bytes, const std::string& where) {
  static const std::string kMagic("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 10);  // 0x1950a86a20f9469cfc6c
  Graph magic = pickle::read_pickle(bytes, 0, where);
  const Node& m = magic.nodes[magic.root];
  if (m.kind != Kind::BigInt || m.text != kMagic)
    throw FileFormatError(where + ": not a PyTorch checkpoint (no zip header and no torch.save magic number)");
  Graph version = pickle::read_pickle(bytes, magic.end_offset, where);
  const Node& v = version.nodes[version.root];
  if (v.kind != Kind::Int || v.i != 1001)
    throw FileFormatError(where + ": unsupported legacy torch.save protocol version");
  Graph sys_info = pickle::read_pickle(bytes, version.end_offset, where);
  const Node& info = sys_info.nodes[sys_info.root];
  for (size_t k = 0; info.kind == Kind::Dict && k + 1 < info.items.size(); k += 2) {
    const Node& key = sys_info.nodes[info.items[k]];
    const Node& value = sys_info.nodes[info.items[k + 1]];
    if (key.kind == Kind::String && key.text == "little_endian" && value.kind == Kind::Bool && !value.i)
      throw FileFormatError(where + ": big-endian checkpoints are not supported");
  }
  Graph g = pickle::read_pickle(bytes, sys_info.end_offset, where);
  Graph keys = pickle::read_pickle(bytes, g.end_offset, where);
  const Node& key_list = keys.nodes[keys.root];
  if (key_list.kind != Kind::List) throw FileFormatError(where + ": corrupt legacy checkpoint (no storage key list)");

  std::map<std::string, const Node*> declared;  // root key -> a storage node naming it
  for (const Node& n : g.nodes)
    if (n.kind == Kind::Storage) {
      auto [it, inserted] = declared.emplace(n.key, &n);
      if (!inserted && (it->second->text != n.text || it->second->i != n.i))
        throw FileFormatError(where + ": storage '" + n.key + "' is declared with two types or sizes");
    }
  std::map<std::string, torch::Tensor> loaded;
  size_t pos = keys.end_offset;
  for (NodeId id : key_list.items) {
    const Node& key = keys.nodes[id];
    if (key.kind != Kind::String) throw FileFormatError(where + ": corrupt legacy checkpoint (storage key is not a str)");
    auto it = declared.find(key.text);
    if (it == declared.end()) throw FileFormatError(where + ": storage '" + key.text + "' is listed but never used");
    const Node& storage = *it->second;
    if (bytes.size() - pos < 8) throw FileFormatError(where + ": truncated (storage '" + key.text + "' is missing)");
    int64_t numel = 0;
    for (int b = 7; b >= 0; --b) numel = static_cast<int64_t>((static_cast<uint64_t>(numel) << 8) | static_cast<uint8_t>(bytes[pos + b]));
    pos += 8;
    if (numel != storage.i)
      throw FileFormatError(where + ": storage '" + key.text + "' has " + std::to_string(numel) + " elements, " +
                            std::to_string(storage.i) + " expected");
    const uint64_t nbytes = static_cast<uint64_t>(numel) * pickle::dtype_size(storage.text);
    if (nbytes > bytes.size() - pos) throw FileFormatError(where + ": truncated (storage '" + key.text + "' is cut short)");
    loaded[key.text] = tensor_from_bytes(bytes.substr(pos, nbytes), storage.text, numel);
    pos += nbytes;
  }
  for (const auto& [key, node] : declared)
    if (!loaded.count(key)) throw FileFormatError(where + ": storage '" + key + "' has no data");
  LegacyStorages storages(std::move(loaded));
  return assemble(g, storages, where, "legacy");
}

}  // namespace

Checkpoint read_checkpoint_bytes(std::string_view bytes, const std::string& name) {
  if (looks_like_zip(bytes)) return read_zip(bytes, name);
  if (bytes.size() > 262 && bytes.substr(257, 5) == "ustar")
    throw FileFormatError(name + ": tar-format checkpoints (PyTorch < 0.4) are not supported");
  return read_legacy(bytes, name);
}

Checkpoint read_checkpoint(const std::string& path) { return read_checkpoint_bytes(read_file(path), path); }

std::string dtype_name(torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kFloat32: return "float32";
    case torch::kFloat16: return "float16";
    case torch::kBFloat16: return "bfloat16";
    case torch::kFloat64: return "float64";
    case torch::kInt64: return "int64";
    case torch::kInt32: return "int32";
    case torch::kInt16: return "int16";
    case torch::kInt8: return "int8";
    case torch::kUInt8: return "uint8";
    case torch::kBool: return "bool";
    default: return c10::toString(dtype);
  }
}

}  // namespace cppdet::io
