#pragma once
// Emits a pickle stream (protocol 2, the one torch.save uses) opcode by opcode, for
// writing checkpoints that Python's unpickler reads. Torch-free; the caller composes
// containers with mark()/tuple()/appends()/setitems() as the pickle stack machine expects.
#include <cstdint>
#include <string>

namespace cppdet::io {

class PickleWriter {
 public:
  PickleWriter();  // writes the PROTO 2 header

  void none();
  void boolean(bool v);
  void integer(int64_t v);
  void floating(double v);
  void string(const std::string& utf8);
  void global(const std::string& module, const std::string& name);

  void mark();
  void tuple();  // the items since the last mark() become a tuple
  void empty_tuple();
  void empty_list();
  void appends();  // the items since the last mark() are appended to the list below them
  void empty_dict();
  void setitems();  // the key/value pairs since the last mark() go into the dict below them
  void reduce();    // callable, args-tuple -> callable(*args)
  void persistent_id();  // the tuple on top becomes a persistent id (BINPERSID)

  // Writes STOP and returns the stream; the writer is empty afterwards.
  std::string finish();

 private:
  std::string out_;
};

}  // namespace cppdet::io
