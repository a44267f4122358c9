#include "cppdet/io/pickle_reader.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <unordered_map>
#include <utility>

#include "cppdet/core/error.h"

namespace cppdet::io::pickle {

namespace {

// Upper bound on decoded objects; a real checkpoint needs a few thousand.
constexpr size_t kMaxNodes = size_t{1} << 22;
constexpr size_t kMaxDims = 64;

// Pickle opcodes (Python's Lib/pickle.py names).
enum Op : uint8_t {
  MARK = '(', STOP = '.', POP = '0', POP_MARK = '1', DUP = '2', FLOAT = 'F', INT = 'I',
  BININT = 'J', BININT1 = 'K', LONG = 'L', BININT2 = 'M', NONE = 'N', BINPERSID = 'Q',
  REDUCE = 'R', SHORT_BINSTRING = 'U', BINSTRING = 'T', BINUNICODE = 'X', APPEND = 'a',
  BUILD = 'b', GLOBAL = 'c', DICT = 'd', EMPTY_DICT = '}', APPENDS = 'e', GET = 'g',
  BINGET = 'h', LONG_BINGET = 'j', LIST = 'l', EMPTY_LIST = ']', PUT = 'p', BINPUT = 'q',
  LONG_BINPUT = 'r', SETITEM = 's', TUPLE = 't', EMPTY_TUPLE = ')', SETITEMS = 'u',
  BINFLOAT = 'G', PROTO = 0x80, NEWOBJ = 0x81, TUPLE1 = 0x85, TUPLE2 = 0x86, TUPLE3 = 0x87,
  NEWTRUE = 0x88, NEWFALSE = 0x89, LONG1 = 0x8a, LONG4 = 0x8b, BINBYTES = 'B',
  SHORT_BINBYTES = 'C', SHORT_BINUNICODE = 0x8c, BINUNICODE8 = 0x8d, BINBYTES8 = 0x8e,
  EMPTY_SET = 0x8f, ADDITEMS = 0x90, FROZENSET = 0x91, NEWOBJ_EX = 0x92, STACK_GLOBAL = 0x93,
  MEMOIZE = 0x94, FRAME = 0x95, BYTEARRAY8 = 0x96,
};

const char* const kStorageClasses[][2] = {
    {"FloatStorage", "float32"}, {"HalfStorage", "float16"},   {"BFloat16Storage", "bfloat16"},
    {"DoubleStorage", "float64"}, {"LongStorage", "int64"},    {"IntStorage", "int32"},
    {"ShortStorage", "int16"},    {"CharStorage", "int8"},     {"ByteStorage", "uint8"},
    {"BoolStorage", "bool"},      {"UntypedStorage", "uint8"},
};

// "torch.FloatStorage" -> "float32"; old files saved on a GPU name "torch.cuda.FloatStorage"
// (loaded to the CPU here, as with map_location="cpu"). "" for anything else.
std::string storage_class_dtype(const std::string& global) {
  for (const char* prefix : {"torch.cuda.", "torch."})
    if (global.rfind(prefix, 0) == 0) return storage_dtype(global.substr(std::strlen(prefix)));
  return "";
}

// Globals that may appear: functions this reader interprets and classes used as values.
bool is_allowed_global(const std::string& name) {
  static const char* const kAllowed[] = {
      "collections.OrderedDict", "builtins.set", "builtins.frozenset", "_codecs.encode",
      "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2",
      "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
      "torch._tensor._rebuild_from_type_v2", "torch.Tensor", "torch._tensor.Tensor",
      "torch.nn.parameter.Parameter", "torch.device", "numpy.dtype",
      "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar",
  };
  for (const char* a : kAllowed)
    if (name == a) return true;
  return !storage_class_dtype(name).empty();
}

bool is_valid_utf8(std::string_view s) {
  static const uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<uint8_t>(s[i]);
    size_t extra = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : 4;
    if (extra == 4 || extra > s.size() - i - 1) return false;
    uint32_t cp = extra == 0 ? c : c & (0x3f >> extra);
    for (size_t k = 1; k <= extra; ++k) {
      auto cc = static_cast<uint8_t>(s[i + k]);
      if ((cc >> 6) != 2) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (cp < kMin[extra] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += extra + 1;
  }
  return true;
}

double half_to_double(uint16_t h) {
  int exponent = (h >> 10) & 0x1f;
  int mantissa = h & 0x3ff;
  double v = exponent == 0    ? std::ldexp(mantissa, -24)
             : exponent == 31 ? (mantissa ? NAN : INFINITY)
                              : std::ldexp(mantissa + 1024, exponent - 25);
  return (h & 0x8000) ? -v : v;
}

Node make_node(Kind kind, int64_t i = 0, double f = 0) {
  Node n;
  n.kind = kind;
  n.i = i;
  n.f = f;
  return n;
}

class Reader {
 public:
  Reader(std::string_view in, size_t offset, const std::string& where)
      : in_(in), pos_(offset), where_(where) {
    add(make_node(Kind::None));
    add(make_node(Kind::Bool, 0));
    add(make_node(Kind::Bool, 1));
  }

  Graph run() {
    if (pos_ > in_.size()) fail("offset past the end");
    while (true) {
      op_start_ = pos_;
      const uint8_t op = u8();
      if (op == STOP) {
        graph_.root = pop();
        graph_.end_offset = pos_;
        return std::move(graph_);
      }
      step(op);
    }
  }

 private:
  static constexpr NodeId kNone = 0, kFalse = 1, kTrue = 2;

  [[noreturn]] void fail(const std::string& what) const {
    throw FileFormatError(where_ + ": corrupt or unsupported pickle data at byte " +
                          std::to_string(op_start_) + ": " + what);
  }

  // ---- input ----
  std::string_view take(uint64_t n) {
    if (n > in_.size() - pos_) fail("truncated data (needs " + std::to_string(n) + " more bytes)");
    std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  uint64_t uint_le(int bytes) {
    std::string_view s = take(bytes);
    uint64_t v = 0;
    for (int k = bytes - 1; k >= 0; --k) v = (v << 8) | static_cast<uint8_t>(s[k]);
    return v;
  }
  uint8_t u8() { return static_cast<uint8_t>(take(1)[0]); }
  std::string_view line() {
    size_t end = in_.find('\n', pos_);
    if (end == std::string_view::npos) fail("truncated data (unterminated line)");
    std::string_view s = in_.substr(pos_, end - pos_);
    pos_ = end + 1;
    return s;
  }
  int64_t parse_int(std::string_view s) {
    int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) fail("bad integer '" + std::string(s) + "'");
    return v;
  }

  // ---- graph and stack ----
  NodeId add(Node n) {
    if (graph_.nodes.size() >= kMaxNodes) fail("more than " + std::to_string(kMaxNodes) + " objects");
    graph_.nodes.push_back(std::move(n));
    return static_cast<NodeId>(graph_.nodes.size() - 1);
  }
  Node& node(NodeId id) { return graph_.nodes[id]; }
  size_t stack_floor() const { return marks_.empty() ? 0 : marks_.back(); }
  NodeId pop() {
    if (stack_.size() <= stack_floor()) fail("stack underflow");
    NodeId v = stack_.back();
    stack_.pop_back();
    return v;
  }
  NodeId top() {
    if (stack_.size() <= stack_floor()) fail("stack underflow");
    return stack_.back();
  }
  void push(NodeId id) { stack_.push_back(id); }
  std::vector<NodeId> pop_mark() {
    if (marks_.empty()) fail("no MARK on the stack");
    std::vector<NodeId> items(stack_.begin() + marks_.back(), stack_.end());
    stack_.resize(marks_.back());
    marks_.pop_back();
    return items;
  }
  NodeId make(Kind kind, std::vector<NodeId> items = {}) {
    Node n = make_node(kind);
    n.items = std::move(items);
    return add(std::move(n));
  }
  NodeId make_int(int64_t v) { return add(make_node(Kind::Int, v)); }
  NodeId make_text(Kind kind, std::string_view s) {
    if (kind == Kind::String && !is_valid_utf8(s)) fail("string is not valid UTF-8");
    Node n = make_node(kind);
    n.text = std::string(s);
    return add(std::move(n));
  }
  NodeId make_long(std::string_view le) {
    // Shortest two's complement form; up to 8 bytes fit int64.
    size_t n = le.size();
    if (n == 0) return make_int(0);
    bool negative = static_cast<uint8_t>(le[n - 1]) & 0x80;
    if (n <= 8) {
      uint64_t v = negative ? ~uint64_t{0} : 0;
      for (size_t k = n; k-- > 0;) v = (v << 8) | static_cast<uint8_t>(le[k]);  // sign-extends
      return make_int(static_cast<int64_t>(v));
    }
    return make_text(Kind::BigInt, le);
  }
  NodeId make_global(std::string module, const std::string& name) {
    if (module == "__builtin__") module = "builtins";
    std::string full = module + "." + name;
    bool allowed = is_allowed_global(full);
    NodeId id = make_text(allowed ? Kind::Global : Kind::Foreign, full);
    if (!allowed) graph_.foreign.push_back(id);
    return id;
  }
  const std::string& text_of(NodeId id, const char* what) {
    Kind k = node(id).kind;
    if (k != Kind::String) fail(std::string(what) + " must be a str");
    return node(id).text;
  }
  int64_t int_of(NodeId id, const char* what) {
    if (node(id).kind != Kind::Int) fail(std::string(what) + " must be an int");
    return node(id).i;
  }
  std::vector<int64_t> ints_of(NodeId id, const char* what) {
    const Node& n = node(id);
    if (n.kind != Kind::Tuple && n.kind != Kind::List) fail(std::string(what) + " must be a tuple of ints");
    if (n.items.size() > kMaxDims) fail(std::string(what) + " has too many dimensions");
    std::vector<int64_t> out;
    for (NodeId item : n.items) {
      int64_t v = int_of(item, what);
      if (v < 0) fail(std::string(what) + " holds a negative value");
      out.push_back(v);
    }
    return out;
  }

  // ---- one opcode ----
  void step(uint8_t op) {
    switch (op) {
      case PROTO: {
        uint8_t proto = u8();
        if (proto > 5) fail("pickle protocol " + std::to_string(proto) + " is not supported");
        return;
      }
      case FRAME: uint_le(8); return;
      case MARK: marks_.push_back(stack_.size()); return;
      case POP:
        if (stack_.size() > stack_floor()) stack_.pop_back();
        else pop_mark();
        return;
      case POP_MARK: pop_mark(); return;
      case DUP: push(top()); return;
      case NONE: push(kNone); return;
      case NEWTRUE: push(kTrue); return;
      case NEWFALSE: push(kFalse); return;
      case INT: {
        std::string_view s = line();
        if (s == "00" || s == "01") push(s == "01" ? kTrue : kFalse);
        else push(make_int(parse_int(s)));
        return;
      }
      case LONG: {
        std::string_view s = line();
        if (!s.empty() && s.back() == 'L') s.remove_suffix(1);
        push(make_int(parse_int(s)));
        return;
      }
      case BININT: push(make_int(static_cast<int32_t>(uint_le(4)))); return;
      case BININT1: push(make_int(u8())); return;
      case BININT2: push(make_int(static_cast<int64_t>(uint_le(2)))); return;
      case LONG1: push(make_long(take(u8()))); return;
      case LONG4: {
        auto n = static_cast<int32_t>(uint_le(4));
        if (n < 0) fail("negative LONG4 size");
        push(make_long(take(n)));
        return;
      }
      case FLOAT: {
        std::string s(line());
        char* end = nullptr;
        double v = std::strtod(s.c_str(), &end);
        if (s.empty() || end != s.c_str() + s.size()) fail("bad float '" + s + "'");
        push(add(make_node(Kind::Float, 0, v)));
        return;
      }
      case BINFLOAT: {
        uint64_t bits = 0;
        for (char c : take(8)) bits = (bits << 8) | static_cast<uint8_t>(c);  // big-endian
        double v;
        std::memcpy(&v, &bits, sizeof v);
        push(add(make_node(Kind::Float, 0, v)));
        return;
      }
      case SHORT_BINUNICODE: push(make_text(Kind::String, take(u8()))); return;
      case BINUNICODE: push(make_text(Kind::String, take(uint_le(4)))); return;
      case BINUNICODE8: push(make_text(Kind::String, take(uint_le(8)))); return;
      case SHORT_BINSTRING:
      case BINSTRING: {  // Python 2 str: text when it is UTF-8, else bytes
        std::string_view s = take(op == SHORT_BINSTRING ? u8() : uint_le(4));
        push(make_text(is_valid_utf8(s) ? Kind::String : Kind::Bytes, s));
        return;
      }
      case SHORT_BINBYTES: push(make_text(Kind::Bytes, take(u8()))); return;
      case BINBYTES: push(make_text(Kind::Bytes, take(uint_le(4)))); return;
      case BINBYTES8:
      case BYTEARRAY8: push(make_text(Kind::Bytes, take(uint_le(8)))); return;
      case EMPTY_LIST: push(make(Kind::List)); return;
      case EMPTY_TUPLE: push(make(Kind::Tuple)); return;
      case EMPTY_DICT: push(make(Kind::Dict)); return;
      case EMPTY_SET: push(make(Kind::Set)); return;
      case LIST: push(make(Kind::List, pop_mark())); return;
      case TUPLE: push(make(Kind::Tuple, pop_mark())); return;
      case FROZENSET: push(make(Kind::Set, pop_mark())); return;
      case TUPLE1:
      case TUPLE2:
      case TUPLE3: {
        std::vector<NodeId> items(op - TUPLE1 + 1);
        for (size_t k = items.size(); k-- > 0;) items[k] = pop();
        push(make(Kind::Tuple, std::move(items)));
        return;
      }
      case DICT: {
        std::vector<NodeId> items = pop_mark();
        if (items.size() % 2) fail("DICT with an odd number of items");
        push(make(Kind::Dict, std::move(items)));
        return;
      }
      case APPEND: {
        NodeId v = pop();
        extend(top(), {v}, Kind::List);
        return;
      }
      case APPENDS: {
        std::vector<NodeId> items = pop_mark();
        extend(top(), items, Kind::List);
        return;
      }
      case SETITEM: {
        NodeId v = pop();
        NodeId k = pop();
        extend(top(), {k, v}, Kind::Dict);
        return;
      }
      case SETITEMS: {
        std::vector<NodeId> items = pop_mark();
        if (items.size() % 2) fail("SETITEMS with an odd number of items");
        extend(top(), items, Kind::Dict);
        return;
      }
      case ADDITEMS: {
        std::vector<NodeId> items = pop_mark();
        extend(top(), items, Kind::Set);
        return;
      }
      case GLOBAL: {
        std::string module(line());
        std::string name(line());
        push(make_global(std::move(module), name));
        return;
      }
      case STACK_GLOBAL: {
        NodeId name = pop();
        NodeId module = pop();
        push(make_global(text_of(module, "STACK_GLOBAL module"), text_of(name, "STACK_GLOBAL name")));
        return;
      }
      case REDUCE:
      case NEWOBJ: {
        NodeId args = pop();
        NodeId callable = pop();
        push(call(callable, args));
        return;
      }
      case NEWOBJ_EX: {
        NodeId kwargs = pop();
        NodeId args = pop();
        NodeId cls = pop();
        if (node(kwargs).kind != Kind::Dict || !node(kwargs).items.empty()) {
          if (!is_foreign(cls)) fail("keyword arguments to " + node(cls).text);
          push(opaque(cls, {args, kwargs}));
          return;
        }
        push(call(cls, args));
        return;
      }
      case BUILD: {
        NodeId state = pop();
        build(top(), state);
        return;
      }
      case BINPERSID: push(persistent_load(pop())); return;
      case GET: memo_get(static_cast<uint64_t>(parse_int(line()))); return;
      case BINGET: memo_get(u8()); return;
      case LONG_BINGET: memo_get(uint_le(4)); return;
      case PUT: memo_[static_cast<uint64_t>(parse_int(line()))] = top(); return;
      case BINPUT: memo_[u8()] = top(); return;
      case LONG_BINPUT: memo_[uint_le(4)] = top(); return;
      case MEMOIZE: memo_[memo_.size()] = top(); return;
      default: {
        char buf[8];
        std::snprintf(buf, sizeof buf, "0x%02x", op);
        fail(std::string("unsupported opcode ") + buf);
      }
    }
  }

  void memo_get(uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) fail("memo entry " + std::to_string(index) + " is not defined");
    push(it->second);
  }

  bool is_foreign(NodeId id) {
    Kind k = node(id).kind;
    return k == Kind::Foreign || k == Kind::Opaque;
  }

  NodeId opaque(NodeId source, std::vector<NodeId> parts) {
    Node n = make_node(Kind::Opaque);
    n.text = node(source).text;
    n.items = std::move(parts);
    n.items.insert(n.items.begin(), source);
    return add(std::move(n));
  }

  // APPEND(S)/SETITEM(S)/ADDITEMS onto `target`, which must be of kind `expected`; an
  // opaque object (a dict or list subclass from another library) keeps them as parts.
  void extend(NodeId target, const std::vector<NodeId>& items, Kind expected) {
    Node& t = node(target);
    if (t.kind != expected && !is_foreign(target)) {
      static const char* const kNames[] = {"list", "dict", "set"};
      fail(std::string("adding items to a non-") +
           kNames[expected == Kind::List ? 0 : expected == Kind::Dict ? 1 : 2]);
    }
    t.items.insert(t.items.end(), items.begin(), items.end());
  }

  void build(NodeId target, NodeId state) {
    Node& t = node(target);
    switch (t.kind) {
      case Kind::Foreign:
      case Kind::Opaque: t.items.push_back(state); return;
      case Kind::Dict: return;  // OrderedDict attributes such as state_dict._metadata
      case Kind::NumpyDtype: {  // state = (version, byteorder, ...)
        const Node& s = node(state);
        if (s.kind != Kind::Tuple || s.items.size() < 2) fail("bad numpy.dtype state");
        const std::string& order = text_of(s.items[1], "numpy.dtype byte order");
        if (order.size() != 1) fail("bad numpy.dtype byte order");
        node(target).i = order[0];
        return;
      }
      default: fail("BUILD on an object that takes no state");
    }
  }

  // ---- the allow-listed callables ----
  NodeId call(NodeId callable, NodeId args_id) {
    if (is_foreign(callable)) return opaque(callable, {args_id});
    if (node(callable).kind != Kind::Global) fail("calling an object that is not a function");
    if (node(args_id).kind != Kind::Tuple) fail("arguments of " + node(callable).text + " are not a tuple");
    const std::string name = node(callable).text;
    const std::vector<NodeId> args = node(args_id).items;
    auto need = [&](size_t lo, size_t hi) {
      if (args.size() < lo || args.size() > hi)
        fail(name + " takes " + std::to_string(lo) + (lo == hi ? "" : "-" + std::to_string(hi)) +
             " arguments, got " + std::to_string(args.size()));
    };
    if (name == "collections.OrderedDict") {
      need(0, 1);
      NodeId d = make(Kind::Dict);
      if (!args.empty()) {
        const Node& pairs = node(args[0]);
        if (pairs.kind != Kind::List && pairs.kind != Kind::Tuple) fail("OrderedDict() of a non-list");
        std::vector<NodeId> items;
        for (NodeId p : pairs.items) {
          const Node& pair = node(p);
          if ((pair.kind != Kind::Tuple && pair.kind != Kind::List) || pair.items.size() != 2)
            fail("OrderedDict() item is not a pair");
          items.insert(items.end(), pair.items.begin(), pair.items.end());
        }
        node(d).items = std::move(items);
      }
      return d;
    }
    if (name == "builtins.set" || name == "builtins.frozenset") {
      need(0, 1);
      if (args.empty()) return make(Kind::Set);
      Kind k = node(args[0]).kind;
      if (k != Kind::List && k != Kind::Tuple && k != Kind::Set) fail(name + "() of a non-sequence");
      return make(Kind::Set, node(args[0]).items);
    }
    if (name == "_codecs.encode") return latin1_encode(args);
    if (name == "torch._utils._rebuild_tensor" || name == "torch._utils._rebuild_tensor_v2") {
      if (name == "torch._utils._rebuild_tensor") need(4, 4);
      else need(6, 7);
      return make_tensor(args);
    }
    if (name == "torch._utils._rebuild_parameter" || name == "torch._utils._rebuild_parameter_with_state") {
      need(name == "torch._utils._rebuild_parameter" ? 3 : 4, name == "torch._utils._rebuild_parameter" ? 3 : 4);
      if (node(args[0]).kind != Kind::Tensor) fail(name + " of a non-tensor");
      return args[0];
    }
    if (name == "torch._tensor._rebuild_from_type_v2") {
      need(4, 4);
      const std::string& func = node(args[0]).text;
      const std::string& type = node(args[1]).text;
      if (node(args[0]).kind != Kind::Global || func.rfind("torch._utils._rebuild_tensor", 0) != 0)
        fail("_rebuild_from_type_v2 with an unsupported function");
      if (node(args[1]).kind != Kind::Global ||
          (type != "torch.Tensor" && type != "torch._tensor.Tensor" && type != "torch.nn.parameter.Parameter"))
        fail("_rebuild_from_type_v2 of an unsupported tensor type");
      return call(args[0], args[2]);
    }
    if (name == "torch.device") {
      need(1, 2);
      std::string device = text_of(args[0], "torch.device type");
      if (args.size() == 2) device += ":" + std::to_string(int_of(args[1], "torch.device index"));
      return make_text(Kind::String, device);
    }
    if (name == "numpy.dtype") {
      need(1, 3);
      Node n = make_node(Kind::NumpyDtype, '=');
      n.text = text_of(args[0], "numpy.dtype");
      return add(std::move(n));
    }
    if (name == "numpy.core.multiarray.scalar" || name == "numpy._core.multiarray.scalar") {
      need(2, 2);
      return numpy_scalar(args[0], args[1]);
    }
    fail(name + " cannot be called");  // an allowed class used as a function
  }

  // _codecs.encode(text, "latin1"): how protocol 2 stores Python 3 bytes.
  NodeId latin1_encode(const std::vector<NodeId>& args) {
    if (args.size() != 2) fail("_codecs.encode takes 2 arguments");
    const std::string& text = text_of(args[0], "_codecs.encode text");
    const std::string& codec = text_of(args[1], "_codecs.encode codec");
    if (codec != "latin1" && codec != "latin-1" && codec != "latin_1") fail("_codecs.encode with codec " + codec);
    std::string out;
    for (size_t i = 0; i < text.size(); ++i) {
      auto c = static_cast<uint8_t>(text[i]);
      if (c < 0x80) {
        out += static_cast<char>(c);
      } else if ((c >> 5) == 6 && c <= 0xc3 && i + 1 < text.size()) {  // U+0080..U+00FF
        out += static_cast<char>(((c & 0x1f) << 6) | (static_cast<uint8_t>(text[++i]) & 0x3f));
      } else {
        fail("_codecs.encode: character outside latin-1");
      }
    }
    return make_text(Kind::Bytes, out);
  }

  NodeId make_tensor(const std::vector<NodeId>& args) {
    if (node(args[0]).kind != Kind::Storage) fail("tensor rebuilt from a non-storage");
    int64_t offset = int_of(args[1], "tensor storage offset");
    if (offset < 0) fail("negative tensor storage offset");
    std::vector<int64_t> sizes = ints_of(args[2], "tensor size");
    std::vector<int64_t> strides = ints_of(args[3], "tensor stride");
    if (sizes.size() != strides.size()) fail("tensor size and stride differ in length");
    Node n = make_node(Kind::Tensor, offset);
    n.items = {args[0]};
    n.sizes = std::move(sizes);
    n.strides = std::move(strides);
    return add(std::move(n));
  }

  NodeId numpy_scalar(NodeId dtype_id, NodeId data_id) {
    const Node& dtype = node(dtype_id);
    const Node& data = node(data_id);
    if (dtype.kind != Kind::NumpyDtype) fail("numpy scalar without a dtype");
    if (data.kind != Kind::Bytes && data.kind != Kind::String) fail("numpy scalar without bytes");
    std::string spec = dtype.text;
    char order = static_cast<char>(dtype.i);
    if (!spec.empty() && std::strchr("<>=|", spec[0])) {
      order = spec[0];
      spec.erase(0, 1);
    }
    if (spec.size() != 2 || !std::strchr("fiub", spec[0]) || !std::strchr("1248", spec[1]))
      fail("unsupported numpy scalar dtype '" + dtype.text + "'");
    const size_t size = spec[1] - '0';
    if (data.text.size() != size) fail("numpy scalar has " + std::to_string(data.text.size()) + " bytes, dtype needs " + std::to_string(size));
    uint64_t bits = 0;
    for (size_t k = 0; k < size; ++k) {
      size_t src = order == '>' ? k : size - 1 - k;  // most significant byte first
      bits = (bits << 8) | static_cast<uint8_t>(data.text[src]);
    }
    switch (spec[0]) {
      case 'b': return bits ? kTrue : kFalse;
      case 'u':
        if (bits > static_cast<uint64_t>(INT64_MAX)) fail("numpy uint64 scalar too large");
        return make_int(static_cast<int64_t>(bits));
      case 'i': {
        const int shift = 64 - 8 * static_cast<int>(size);
        return make_int(static_cast<int64_t>(bits << shift) >> shift);
      }
      default: {
        double v;
        if (size == 8) {
          std::memcpy(&v, &bits, 8);
        } else if (size == 4) {
          uint32_t b32 = static_cast<uint32_t>(bits);
          float f;
          std::memcpy(&f, &b32, 4);
          v = f;
        } else if (size == 2) {
          v = half_to_double(static_cast<uint16_t>(bits));
        } else {
          fail("unsupported numpy float size");
        }
        return add(make_node(Kind::Float, 0, v));
      }
    }
  }

  // ('storage', torch.FloatStorage, key, location, numel[, (view_key, offset, view_numel)])
  NodeId persistent_load(NodeId pid_id) {
    const Node& pid = node(pid_id);
    if (pid.kind != Kind::Tuple || pid.items.empty()) fail("persistent id is not a tuple");
    const std::vector<NodeId> parts = pid.items;
    if (node(parts[0]).kind != Kind::String || node(parts[0]).text != "storage")
      fail("persistent id of a kind other than 'storage'");
    if (parts.size() != 5 && parts.size() != 6) fail("storage persistent id has " + std::to_string(parts.size()) + " fields");
    const Node& type = node(parts[1]);
    if (type.kind == Kind::Foreign) fail("storage of class " + type.text + " is not allowed");
    std::string dtype = type.kind == Kind::Global ? storage_class_dtype(type.text) : "";
    if (dtype.empty()) fail("persistent id without a torch storage class");
    Node n = make_node(Kind::Storage, int_of(parts[4], "storage size"));
    if (n.i < 0) fail("negative storage size");
    n.text = dtype;
    const Node& key = node(parts[2]);
    if (key.kind == Kind::Int) n.key = std::to_string(key.i);
    else n.key = text_of(parts[2], "storage key");
    text_of(parts[3], "storage location");
    if (parts.size() == 6 && node(parts[5]).kind != Kind::None) {
      const Node& view = node(parts[5]);
      if (view.kind != Kind::Tuple || view.items.size() != 3) fail("bad storage view");
      n.view_offset = int_of(view.items[1], "storage view offset");
      n.view_numel = int_of(view.items[2], "storage view size");
      if (n.view_offset < 0 || n.view_numel < 0 || n.view_offset > n.i || n.view_numel > n.i - n.view_offset)
        fail("storage view outside its storage");
    }
    return add(std::move(n));
  }

  std::string_view in_;
  size_t pos_;
  size_t op_start_ = 0;
  std::string where_;
  Graph graph_;
  std::vector<NodeId> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, NodeId> memo_;
};

}  // namespace

Graph read_pickle(std::string_view bytes, size_t offset, const std::string& where) {
  return Reader(bytes, offset, where).run();
}

std::string storage_dtype(const std::string& storage_class) {
  for (const auto& entry : kStorageClasses)
    if (storage_class == entry[0]) return entry[1];
  return "";
}

int64_t dtype_size(const std::string& dtype) {
  if (dtype == "float64" || dtype == "int64") return 8;
  if (dtype == "float32" || dtype == "int32") return 4;
  if (dtype == "float16" || dtype == "bfloat16" || dtype == "int16") return 2;
  if (dtype == "int8" || dtype == "uint8" || dtype == "bool") return 1;
  return 0;
}

}  // namespace cppdet::io::pickle
