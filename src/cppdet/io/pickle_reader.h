#pragma once
// A safe reader for the pickle streams torch.save writes (protocols 2-5 binary opcodes plus
// the few text ones protocol 2 uses: GLOBAL, INT, LONG, FLOAT, GET, PUT). Torch-free.
//
// Nothing is ever called or imported: the stream is decoded into a graph of plain nodes.
// The few callables torch.save needs (OrderedDict, set, _codecs.encode, torch's tensor
// rebuild functions, numpy scalars) are interpreted by this reader; any other global becomes
// a `Foreign` node (and calling or building one gives an `Opaque` node) that the caller must
// accept (inside mmcv's meta) or refuse. Sizes are bounded: malformed input throws
// FileFormatError and never crashes, hangs or allocates more than the input can justify.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cppdet::io::pickle {

using NodeId = uint32_t;

enum class Kind {
  None, Bool, Int, BigInt, Float, String, Bytes,
  List, Tuple, Dict, Set,
  Global,   // an allowed class or function used as a value (e.g. a storage type)
  Foreign,  // a global outside the allow list (never resolved)
  Opaque,   // the result of calling or building a Foreign global
  Storage,  // a persistent id ('storage', torch.XStorage, key, location, numel[, view])
  Tensor,   // torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)
  NumpyDtype,
};

struct Node {
  Kind kind = Kind::None;
  int64_t i = 0;  // Bool, Int; Storage: numel; Tensor: storage offset (elements)
  double f = 0;   // Float
  // String/Bytes: the text (UTF-8 / raw); BigInt: little-endian two's complement bytes;
  // Global/Foreign/Opaque: "module.name"; Storage: torch dtype name; NumpyDtype: "<f8" etc.
  std::string text;
  // List/Tuple/Set: elements; Dict: key0, value0, key1, value1, ...; Opaque: the call
  // arguments and built state (kept only so callers can see everything it reaches);
  // Tensor: {storage}.
  std::vector<NodeId> items;
  std::vector<int64_t> sizes, strides;  // Tensor
  // Storage: the key of the storage data ("0" in zip files, a number in legacy ones) and,
  // for a legacy storage view, the element range [view_offset, view_offset + view_numel).
  std::string key;
  int64_t view_offset = -1;
  int64_t view_numel = 0;
};

// A decoded stream: `nodes[root]` is the object; `foreign` lists every Foreign node, in the
// order the stream named them.
struct Graph {
  std::vector<Node> nodes;
  NodeId root = 0;
  std::vector<NodeId> foreign;
  size_t end_offset = 0;  // offset just past the STOP opcode
};

// Decodes one pickle starting at `offset` in `bytes`. `where` (a file name) starts every
// error message. Throws FileFormatError on truncation, corruption, an unsupported opcode, or
// an allowed callable given arguments of the wrong shape.
Graph read_pickle(std::string_view bytes, size_t offset, const std::string& where);

// torch's dtype name for a storage class name ("FloatStorage" -> "float32"); "" if unknown.
std::string storage_dtype(const std::string& storage_class);
// Bytes per element of a torch dtype name ("float32" -> 4); 0 if unknown.
int64_t dtype_size(const std::string& dtype);

}  // namespace cppdet::io::pickle
