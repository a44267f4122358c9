// The allow-list unpickler on hand-made pickle streams (no Python needed).
#include "cppdet/io/pickle_reader.h"

#include <gtest/gtest.h>

#include "cppdet/core/error.h"
#include "cppdet/io/checkpoint.h"

namespace cppdet::io::pickle {
namespace {

// A string literal with its embedded NUL bytes.
template <size_t N>
std::string b(const char (&literal)[N]) {
  return std::string(literal, N - 1);
}

Graph read(const std::string& bytes) { return read_pickle(bytes, 0, "test.pkl"); }
const Node& root(const Graph& g) { return g.nodes[g.root]; }

std::string error_of(const std::string& bytes) {
  try {
    read(bytes);
  } catch (const FileFormatError& e) {
    return e.what();
  }
  return "";
}

TEST(PickleReader, Scalars) {
  EXPECT_EQ(root(read(b("\x80\x02K\x07."))).i, 7);
  EXPECT_EQ(root(read(b("\x80\x02J\xff\xff\xff\xff."))).i, -1);
  EXPECT_EQ(root(read(b("\x80\x02M\x01\x02."))).i, 0x201);
  // LONG1: 2**40 and -2**40.
  EXPECT_EQ(root(read(b("\x80\x02\x8a\x06\x00\x00\x00\x00\x00\x01."))).i, int64_t{1} << 40);
  EXPECT_EQ(root(read(b("\x80\x02\x8a\x06\x00\x00\x00\x00\x00\xff."))).i, -(int64_t{1} << 40));
  // BINFLOAT is big-endian: 0.5 = 3fe0000000000000.
  EXPECT_EQ(root(read(b("\x80\x02G\x3f\xe0\x00\x00\x00\x00\x00\x00."))).f, 0.5);
  EXPECT_EQ(root(read(b("\x80\x02X\x02\x00\x00\x00" "hi."))).text, "hi");
  EXPECT_EQ(root(read("\x80\x02\x88.")).kind, Kind::Bool);
  EXPECT_EQ(root(read("I01\n.")).i, 1);
  EXPECT_EQ(root(read("F0.25\n.")).f, 0.25);
}

TEST(PickleReader, ContainersAndMemo) {
  // [1, 2] memoized, then (memo0, memo0).
  Graph g = read(b("\x80\x02](K\x01K\x02" "eq\x00h\x00h\x00\x86."));
  ASSERT_EQ(root(g).kind, Kind::Tuple);
  ASSERT_EQ(root(g).items.size(), 2u);
  EXPECT_EQ(root(g).items[0], root(g).items[1]);
  EXPECT_EQ(g.nodes[root(g).items[0]].items.size(), 2u);
  // {'a': None} via SETITEMS.
  Graph d = read(b("\x80\x02}(X\x01\x00\x00\x00" "aNu."));
  ASSERT_EQ(root(d).kind, Kind::Dict);
  EXPECT_EQ(root(d).items.size(), 2u);
}

TEST(PickleReader, BytesViaCodecsEncodeAndNumpyScalar) {
  // numpy.float64(0.384) as protocol 2 writes it: scalar(dtype('f8', False, True) + BUILD, encode(latin1 text)).
  std::string p = b("\x80\x02" "cnumpy.core.multiarray\nscalar\n" "cnumpy\ndtype\n" "X\x02\x00\x00\x00" "f8\x89\x88\x87R"
                    "(K\x03X\x01\x00\x00\x00" "<NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb"
                    "c_codecs\nencode\n");
  double v = 0.384;
  std::string raw(reinterpret_cast<const char*>(&v), 8), latin1_as_utf8;
  for (unsigned char c : raw) {
    if (c < 0x80) latin1_as_utf8 += static_cast<char>(c);
    else latin1_as_utf8 += {static_cast<char>(0xc0 | (c >> 6)), static_cast<char>(0x80 | (c & 0x3f))};
  }
  p += "X" + std::string(1, static_cast<char>(latin1_as_utf8.size())) + std::string(3, '\0') + latin1_as_utf8;
  p += b("X\x06\x00\x00\x00" "latin1\x86R\x86R.");
  Graph g = read(p);
  ASSERT_EQ(root(g).kind, Kind::Float);
  EXPECT_EQ(root(g).f, 0.384);
  EXPECT_TRUE(g.foreign.empty());
}

TEST(PickleReader, ForeignGlobalsAreRecordedNeverCalled) {
  Graph g = read(b("\x80\x02" "cposix\nsystem\nX\x04\x00\x00\x00" "echo\x85R."));
  ASSERT_EQ(g.foreign.size(), 1u);
  EXPECT_EQ(g.nodes[g.foreign[0]].text, "posix.system");
  EXPECT_EQ(root(g).kind, Kind::Opaque);
}

TEST(PickleReader, RejectsMalformedStreams) {
  EXPECT_NE(error_of("\x80\x02K").find("truncated"), std::string::npos);
  EXPECT_NE(error_of("\x80\x02(").find("truncated"), std::string::npos);
  EXPECT_NE(error_of("\x80\x02.").find("stack underflow"), std::string::npos);
  EXPECT_NE(error_of("\x80\x02h\x05.").find("memo entry 5"), std::string::npos);
  EXPECT_NE(error_of("\x80\x09N.").find("protocol 9"), std::string::npos);
  EXPECT_NE(error_of("\x80\x02S'x'\n.").find("unsupported opcode"), std::string::npos);
  EXPECT_NE(error_of(b("\x80\x02NK\x01" "a.")).find("non-list"), std::string::npos);
  EXPECT_NE(error_of("\x80\x02X\xff\xff\xff\x7f").find("truncated"), std::string::npos);
  EXPECT_NE(error_of(b("\x80\x02X\x01\x00\x00\x00\xff.")).find("UTF-8"), std::string::npos);
  // An allowed callable with the wrong arguments.
  EXPECT_NE(error_of("\x80\x02" "ctorch._utils\n_rebuild_tensor_v2\n)R.").find("arguments"), std::string::npos);
  EXPECT_EQ(error_of("\x80\x02K\x01.").find("test.pkl"), std::string::npos);  // valid: no error
  EXPECT_EQ(error_of("\x80\x02N0.").rfind("test.pkl: ", 0), 0u);
}

TEST(PickleReader, StorageTypesAndSizes) {
  EXPECT_EQ(storage_dtype("FloatStorage"), "float32");
  EXPECT_EQ(storage_dtype("BFloat16Storage"), "bfloat16");
  EXPECT_EQ(storage_dtype("CudaStorage"), "");
  EXPECT_EQ(dtype_size("float16"), 2);
  EXPECT_EQ(dtype_size("int64"), 8);
}

TEST(ReadCheckpoint, NotACheckpoint) {
  EXPECT_THROW(read_checkpoint_bytes("", "empty.pth"), FileFormatError);
  EXPECT_THROW(read_checkpoint_bytes("hello world", "text.pth"), FileFormatError);
  EXPECT_THROW(read_checkpoint_bytes("PK\x03\x04garbage", "zip.pth"), FileFormatError);
  EXPECT_THROW(read_checkpoint("/nonexistent/dir/x.pth"), FileFormatError);
  try {
    read_checkpoint_bytes(b("\x80\x02}q\x00."), "plain.pth");
    FAIL();
  } catch (const FileFormatError& e) {
    EXPECT_NE(std::string(e.what()).find("no zip header and no torch.save magic"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace cppdet::io::pickle
