// write_checkpoint: the torch.save zip format, pickled with protocol 2 as torch does.
#include <cstring>
#include <sstream>

#include "cppdet/core/atomic_file.h"
#include "cppdet/core/error.h"
#include "cppdet/io/checkpoint.h"
#include "cppdet/io/pickle_writer.h"
#include "cppdet/io/zip_writer.h"

namespace cppdet::io {

namespace {

const char* storage_class(torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kFloat32: return "FloatStorage";
    case torch::kFloat16: return "HalfStorage";
    case torch::kBFloat16: return "BFloat16Storage";
    case torch::kFloat64: return "DoubleStorage";
    case torch::kInt64: return "LongStorage";
    case torch::kInt32: return "IntStorage";
    case torch::kInt16: return "ShortStorage";
    case torch::kInt8: return "CharStorage";
    case torch::kUInt8: return "ByteStorage";
    case torch::kBool: return "BoolStorage";
    default: return nullptr;
  }
}

// Pickles values and collects each tensor's data as a storage record "data/<index>".
class CheckpointPickler {
 public:
  std::vector<std::string> storages;  // raw little-endian bytes, index = storage key

  void value(const config::Value& v) {
    switch (v.kind()) {
      case config::Value::Kind::None: w.none(); return;
      case config::Value::Kind::Bool: w.boolean(v.as_bool()); return;
      case config::Value::Kind::Int: w.integer(v.as_int()); return;
      case config::Value::Kind::Float: w.floating(v.as_number()); return;
      case config::Value::Kind::String: w.string(v.as_string()); return;
      case config::Value::Kind::List: list(v.as_sequence(), [&](const config::Value& x) { value(x); }); return;
      case config::Value::Kind::Tuple: tuple(v.as_sequence(), [&](const config::Value& x) { value(x); }); return;
      case config::Value::Kind::Dict: {
        const config::Dict& d = v.as_dict();
        w.empty_dict();
        if (d.empty()) return;
        w.mark();
        for (size_t i = 0; i < d.size(); ++i) {
          w.string(d.keys()[i]);
          value(d.values()[i]);
        }
        w.setitems();
        return;
      }
    }
  }

  void value(const SavedValue& v) {
    switch (v.kind()) {
      case SavedValue::Kind::None: w.none(); return;
      case SavedValue::Kind::Bool: w.boolean(v.as_bool()); return;
      case SavedValue::Kind::Int: w.integer(v.as_int()); return;
      case SavedValue::Kind::Float: w.floating(v.as_float()); return;
      case SavedValue::Kind::String: w.string(v.as_string()); return;
      case SavedValue::Kind::Tensor: tensor(v.as_tensor(), "optimizer"); return;
      case SavedValue::Kind::List: list(v.as_sequence(), [&](const SavedValue& x) { value(x); }); return;
      case SavedValue::Kind::Tuple: tuple(v.as_sequence(), [&](const SavedValue& x) { value(x); }); return;
      case SavedValue::Kind::Dict: {
        w.empty_dict();
        if (v.as_dict().empty()) return;
        w.mark();
        for (const auto& [key, item] : v.as_dict()) {
          if (std::holds_alternative<int64_t>(key)) w.integer(std::get<int64_t>(key));
          else w.string(std::get<std::string>(key));
          value(item);
        }
        w.setitems();
        return;
      }
    }
  }

  // collections.OrderedDict of name -> tensor, as Module.state_dict() returns.
  void state_dict(const StateDict& tensors) {
    ordered_dict();
    if (tensors.empty()) return;
    w.mark();
    for (const auto& [name, t] : tensors) {
      w.string(name);
      tensor(t, name);
    }
    w.setitems();
  }

  // torch._utils._rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict())
  void tensor(const torch::Tensor& t, const std::string& what) {
    if (!t.defined()) throw UserError("cannot save '" + what + "': undefined tensor");
    const char* cls = storage_class(t.scalar_type());
    if (!cls) throw UserError("cannot save '" + what + "': unsupported dtype " + std::string(c10::toString(t.scalar_type())));
    torch::Tensor data = t.detach().to(torch::kCPU).contiguous();
    std::string bytes(static_cast<size_t>(data.numel()) * data.element_size(), '\0');
    if (!bytes.empty()) std::memcpy(bytes.data(), data.data_ptr(), bytes.size());
    const std::string key = std::to_string(storages.size());
    storages.push_back(std::move(bytes));

    w.global("torch._utils", "_rebuild_tensor_v2");
    w.mark();
    w.mark();
    w.string("storage");
    w.global("torch", cls);
    w.string(key);
    w.string("cpu");
    w.integer(data.numel());
    w.tuple();
    w.persistent_id();
    w.integer(0);
    ints(data.sizes());
    ints(data.strides());
    w.boolean(false);
    ordered_dict();
    w.tuple();
    w.reduce();
  }

  PickleWriter w;

 private:
  template <class Item, class Fn>
  void list(const std::vector<Item>& items, Fn each) {
    w.empty_list();
    if (items.empty()) return;
    w.mark();
    for (const Item& x : items) each(x);
    w.appends();
  }
  template <class Item, class Fn>
  void tuple(const std::vector<Item>& items, Fn each) {
    if (items.empty()) return w.empty_tuple();
    w.mark();
    for (const Item& x : items) each(x);
    w.tuple();
  }
  void ints(c10::IntArrayRef values) {
    if (values.empty()) return w.empty_tuple();
    w.mark();
    for (int64_t v : values) w.integer(v);
    w.tuple();
  }
  void ordered_dict() {
    w.global("collections", "OrderedDict");
    w.empty_tuple();
    w.reduce();
  }
};

}  // namespace

std::string serialize_checkpoint(const CheckpointToWrite& checkpoint) {
  if (!checkpoint.meta.is_none() && !checkpoint.meta.is_dict())
    throw UserError("cannot save a checkpoint: meta must be a dict, got " + checkpoint.meta.type_name());
  CheckpointPickler p;
  p.w.empty_dict();
  p.w.mark();
  if (!checkpoint.meta.is_none()) {
    p.w.string("meta");
    p.value(checkpoint.meta);
  }
  p.w.string("state_dict");
  p.state_dict(checkpoint.state_dict);
  if (checkpoint.optimizer) {
    p.w.string("optimizer");
    p.value(*checkpoint.optimizer);
  }
  p.w.setitems();
  const std::string pkl = p.w.finish();

  std::ostringstream out;
  ZipWriter zip(out);
  zip.add("archive/data.pkl", pkl);
  zip.add("archive/byteorder", "little");
  for (size_t i = 0; i < p.storages.size(); ++i) zip.add("archive/data/" + std::to_string(i), p.storages[i]);
  zip.add("archive/version", "3\n");
  zip.finish();
  return out.str();
}

void write_checkpoint(const std::string& path, const CheckpointToWrite& checkpoint) {
  const std::string bytes = serialize_checkpoint(checkpoint);
  write_file_atomically(path, [&](std::ostream& out) { out.write(bytes.data(), static_cast<std::streamsize>(bytes.size())); });
}

}  // namespace cppdet::io
