#include "cppdet/evaluation/json_events.h"

#include <charconv>
#include <cstdint>
#include <vector>

#include "cppdet/core/error.h"

namespace cppdet::evaluation {
namespace {

class Tokenizer {
 public:
  Tokenizer(std::string_view text, nlohmann::json_sax<nlohmann::json>& h, const std::string& source)
      : p_(text.data()), begin_(text.data()), end_(text.data() + text.size()), h_(h), source_(source) {}

  void run() {
    // Containers open: true = object, false = array. After a value inside a container we expect
    // ',' or the closing bracket.
    std::vector<bool> stack;
    skip_ws();
    value(stack);
    while (!stack.empty()) {
      skip_ws();
      if (p_ == end_) fail("unexpected end of input");
      const bool in_object = stack.back();
      if (*p_ == ',') {
        ++p_;
        skip_ws();
        if (in_object) member_key();
        value(stack);
      } else if (*p_ == (in_object ? '}' : ']')) {
        ++p_;
        stack.pop_back();
        if (in_object) h_.end_object();
        else h_.end_array();
      } else {
        fail(in_object ? "expected ',' or '}'" : "expected ',' or ']'");
      }
    }
    skip_ws();
    if (p_ != end_) fail("unexpected content after the top-level value");
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    const size_t pos = static_cast<size_t>(p_ - begin_);
    size_t line = 1, col = 1;
    for (const char* q = begin_; q < p_; ++q) {
      if (*q == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    throw FileFormatError(source_ + ":" + std::to_string(line) + ":" + std::to_string(col) + ": malformed JSON (byte " +
                          std::to_string(pos) + "): " + what);
  }

  void skip_ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  void member_key() {
    if (p_ == end_ || *p_ != '"') fail("expected a string key");
    string_token();
    h_.key(buf_);
    skip_ws();
    if (p_ == end_ || *p_ != ':') fail("expected ':' after a key");
    ++p_;
    skip_ws();
  }

  // One value; containers are opened here (their first member parsed) and closed by run().
  void value(std::vector<bool>& stack) {
    while (true) {
      if (p_ == end_) fail("unexpected end of input");
      const char c = *p_;
      if (c == '{' || c == '[') {
        ++p_;
        const bool obj = c == '{';
        if (obj) h_.start_object(static_cast<std::size_t>(-1));
        else h_.start_array(static_cast<std::size_t>(-1));
        skip_ws();
        if (p_ < end_ && *p_ == (obj ? '}' : ']')) {
          ++p_;
          if (obj) h_.end_object();
          else h_.end_array();
          return;
        }
        stack.push_back(obj);
        if (obj) member_key();
        continue;  // the first member's value
      }
      if (c == '"') {
        string_token();
        h_.string(buf_);
      } else if (c == 't') {
        literal("true");
        h_.boolean(true);
      } else if (c == 'f') {
        literal("false");
        h_.boolean(false);
      } else if (c == 'n') {
        literal("null");
        h_.null();
      } else if (c == '-' || (c >= '0' && c <= '9')) {
        number();
      } else {
        fail(std::string("unexpected character '") + (c >= 32 && c < 127 ? std::string(1, c) : "?") + "'");
      }
      return;
    }
  }

  void literal(const char* word) {
    for (const char* w = word; *w; ++w, ++p_)
      if (p_ == end_ || *p_ != *w) fail(std::string("invalid literal, expected '") + word + "'");
  }

  void number() {
    const char* start = p_;
    bool is_float = false;
    if (*p_ == '-') ++p_;
    if (p_ == end_ || !(*p_ >= '0' && *p_ <= '9')) fail("invalid number");
    if (*p_ == '0') {
      ++p_;
    } else {
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    if (p_ < end_ && *p_ == '.') {
      is_float = true;
      ++p_;
      if (p_ == end_ || !(*p_ >= '0' && *p_ <= '9')) fail("invalid number: expected a digit after '.'");
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      is_float = true;
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !(*p_ >= '0' && *p_ <= '9')) fail("invalid number: expected an exponent");
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
    }
    if (!is_float) {
      if (*start == '-') {
        int64_t v = 0;
        auto [ptr, ec] = std::from_chars(start, p_, v);
        if (ec == std::errc() && ptr == p_) {
          h_.number_integer(v);
          return;
        }
      } else {
        uint64_t v = 0;
        auto [ptr, ec] = std::from_chars(start, p_, v);
        if (ec == std::errc() && ptr == p_) {
          h_.number_unsigned(v);
          return;
        }
      }
    }
    double d = 0;
    auto [ptr, ec] = std::from_chars(start, p_, d);
    if (ptr != p_ || (ec != std::errc() && ec != std::errc::result_out_of_range)) fail("invalid number");
    if (ec == std::errc::result_out_of_range) fail("number out of range");
    num_text_.assign(start, p_);
    h_.number_float(d, num_text_);
  }

  static int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  uint32_t hex4() {
    if (end_ - p_ < 4) fail("invalid \\u escape");
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const int d = hex_digit(p_[i]);
      if (d < 0) fail("invalid \\u escape");
      v = v * 16 + static_cast<uint32_t>(d);
    }
    p_ += 4;
    return v;
  }

  void put_utf8(uint32_t cp) {
    if (cp < 0x80) {
      buf_ += static_cast<char>(cp);
    } else if (cp < 0x800) {
      buf_ += static_cast<char>(0xC0 | (cp >> 6));
      buf_ += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      buf_ += static_cast<char>(0xE0 | (cp >> 12));
      buf_ += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      buf_ += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      buf_ += static_cast<char>(0xF0 | (cp >> 18));
      buf_ += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      buf_ += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      buf_ += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  // Reads "..." at p_ into buf_ (escapes decoded).
  void string_token() {
    ++p_;  // opening quote
    buf_.clear();
    while (true) {
      const char* run = p_;
      while (p_ < end_ && *p_ != '"' && *p_ != '\\' && static_cast<unsigned char>(*p_) >= 0x20) ++p_;
      buf_.append(run, p_);
      if (p_ == end_) fail("unterminated string");
      const char c = *p_;
      if (c == '"') {
        ++p_;
        return;
      }
      if (c != '\\') fail("control character in a string");
      ++p_;
      if (p_ == end_) fail("unterminated string");
      const char e = *p_++;
      switch (e) {
        case '"': buf_ += '"'; break;
        case '\\': buf_ += '\\'; break;
        case '/': buf_ += '/'; break;
        case 'b': buf_ += '\b'; break;
        case 'f': buf_ += '\f'; break;
        case 'n': buf_ += '\n'; break;
        case 'r': buf_ += '\r'; break;
        case 't': buf_ += '\t'; break;
        case 'u': {
          uint32_t cp = hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') fail("unpaired surrogate in \\u escape");
            p_ += 2;
            const uint32_t lo = hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) fail("invalid surrogate pair in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            fail("unpaired surrogate in \\u escape");
          }
          put_utf8(cp);
          break;
        }
        default:
          --p_;
          fail("invalid escape in a string");
      }
    }
  }

  const char* p_;
  const char* begin_;
  const char* end_;
  nlohmann::json_sax<nlohmann::json>& h_;
  const std::string& source_;
  std::string buf_;
  std::string num_text_;
};

}  // namespace

void parse_json_events(std::string_view text, nlohmann::json_sax<nlohmann::json>& handler, const std::string& source) {
  Tokenizer(text, handler, source).run();
}

}  // namespace cppdet::evaluation
