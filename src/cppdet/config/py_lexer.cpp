#include "cppdet/config/py_lexer.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "cppdet/core/error.h"

namespace cppdet::config::py {

std::string location(const std::string& filename, int line, int col) {
  return filename + ":" + std::to_string(line) + ":" + std::to_string(col);
}

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_start(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || u >= 0x80;
}
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Length of the UTF-8 sequence starting at s[i], or 0 when it is malformed.
size_t utf8_length(const std::string& s, size_t i) {
  unsigned char c = s[i];
  size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (n == 0 || i + n > s.size()) return 0;
  uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < n; ++k) {
    unsigned char cc = s[i + k];
    if ((cc >> 6) != 0x2) return 0;
    cp = (cp << 6) | (cc & 0x3F);
  }
  static const uint32_t min_for_length[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < min_for_length[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

// A lexical error, turned into an Error token by Lexer::run.
struct LexError {
  std::string message;
};

class Lexer {
 public:
  Lexer(const std::string& text, const std::string& filename) : s_(text), file_(filename) {}

  std::vector<Token> run() {
    try {
      lex();
    } catch (const LexError& e) {
      Token t;
      t.kind = TokenKind::Error;
      t.text = e.message;
      tokens_.push_back(std::move(t));
    }
    return std::move(tokens_);
  }

 private:
  void lex() {
    check_utf8();
    bool line_start = true;
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == '\n' || c == '\r') {
        if (brackets_.empty() && !line_start) {
          push_simple(TokenKind::Newline, "");
          line_start = true;
        }
        newline_char();
        continue;
      }
      if (c == ' ' || c == '\t' || c == '\f') {
        size_t start = i_;
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\f')) advance();
        // Leading whitespace of a logical line that has content is an indented block.
        if (line_start && brackets_.empty() && start == line_begin_ && i_ < s_.size() &&
            s_[i_] != '\n' && s_[i_] != '\r' && s_[i_] != '#' && s_[i_] != '\\')
          fail(line_, 1, "syntax error: unexpected indent");
        continue;
      }
      if (c == '#') {
        while (i_ < s_.size() && s_[i_] != '\n' && s_[i_] != '\r') advance();
        continue;
      }
      if (c == '\\') {
        size_t j = i_ + 1;
        if (j < s_.size() && (s_[j] == '\n' || s_[j] == '\r')) {
          advance();
          newline_char();
          continue;
        }
        fail(line_, col(), "syntax error: unexpected character after line continuation character");
      }
      line_start = false;
      if (is_digit(c) || (c == '.' && i_ + 1 < s_.size() && is_digit(s_[i_ + 1]))) {
        number();
      } else if (is_name_start(c)) {
        name_or_prefixed_string();
      } else if (c == '\'' || c == '"') {
        string_literal(line_, col(), "");
      } else {
        op();
      }
    }
    if (!brackets_.empty()) {  // reported at once: the parser would only see a confusing token
      const Token& open = brackets_.back();
      throw ConfigError(location(file_, open.line, open.col) + ": syntax error: '" + open.text + "' was never closed");
    }
    if (!line_start) push_simple(TokenKind::Newline, "");
    push_simple(TokenKind::End, "");
  }

  int col() const { return static_cast<int>(i_ - line_begin_) + 1; }
  void advance() { ++i_; }
  void newline_char() {
    if (s_[i_] == '\r' && i_ + 1 < s_.size() && s_[i_ + 1] == '\n') ++i_;
    ++i_;
    ++line_;
    line_begin_ = i_;
  }
  [[noreturn]] void fail(int line, int col, const std::string& msg) const {
    throw LexError{location(file_, line, col) + ": " + msg};
  }
  void push_simple(TokenKind kind, std::string text) {
    Token t;
    t.kind = kind;
    t.text = std::move(text);
    t.line = line_;
    t.col = col();
    tokens_.push_back(std::move(t));
  }

  void check_utf8() {
    int line = 1;
    size_t begin = 0;
    for (size_t i = 0; i < s_.size();) {
      size_t n = utf8_length(s_, i);
      if (n == 0) fail(line, static_cast<int>(i - begin) + 1, "syntax error: the file is not valid UTF-8");
      if (s_[i] == '\n') {
        ++line;
        begin = i + 1;
      }
      i += n;
    }
  }

  void number() {
    int line = line_, column = col();
    size_t start = i_;
    Token t;
    t.line = line;
    t.col = column;
    // Radix literals: 0x.., 0o.., 0b...
    if (s_[i_] == '0' && i_ + 1 < s_.size() && std::string("xXoObB").find(s_[i_ + 1]) != std::string::npos) {
      char r = static_cast<char>(s_[i_ + 1] | 0x20);
      int base = r == 'x' ? 16 : r == 'o' ? 8 : 2;
      i_ += 2;
      uint64_t value = 0;
      bool any = false, last_underscore = true;
      while (i_ < s_.size() && (is_name_char(s_[i_]))) {
        char c = s_[i_];
        if (c == '_') {
          if (last_underscore) fail(line, column, "syntax error: invalid number literal");
          last_underscore = true;
          ++i_;
          continue;
        }
        int d = hex_value(c);
        if (d < 0 || d >= base) fail(line, column, "syntax error: invalid digit '" + std::string(1, c) + "' in number literal");
        if (value > (static_cast<uint64_t>(INT64_MAX) - d) / base)
          fail(line, column, "integer literal too large (cppdet keeps ints in 64 bits)");
        value = value * base + d;
        any = true;
        last_underscore = false;
        ++i_;
      }
      if (!any || last_underscore) fail(line, column, "syntax error: invalid number literal");
      t.kind = TokenKind::Int;
      t.int_value = static_cast<int64_t>(value);
      t.text = s_.substr(start, i_ - start);
      tokens_.push_back(std::move(t));
      return;
    }
    // Decimal: digits [. digits] [e [+-] digits], with single underscores between digits.
    std::string clean;
    bool is_float = false;
    auto digits = [&](bool required) {
      bool any = false;
      while (i_ < s_.size() && (is_digit(s_[i_]) || s_[i_] == '_')) {
        if (s_[i_] == '_') {
          if (!any || i_ + 1 >= s_.size() || !is_digit(s_[i_ + 1]))
            fail(line, column, "syntax error: invalid decimal literal");
        } else {
          clean += s_[i_];
          any = true;
        }
        ++i_;
      }
      if (required && !any) fail(line, column, "syntax error: invalid decimal literal");
      return any;
    };
    bool int_part = digits(false);
    if (i_ < s_.size() && s_[i_] == '.') {
      is_float = true;
      clean += '.';
      ++i_;
      if (i_ < s_.size() && s_[i_] == '_') fail(line, column, "syntax error: invalid decimal literal");
      bool frac = digits(false);
      if (!int_part && !frac) fail(line, column, "syntax error: invalid decimal literal");
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      size_t j = i_ + 1;
      if (j < s_.size() && (s_[j] == '+' || s_[j] == '-')) ++j;
      if (j < s_.size() && is_digit(s_[j])) {
        is_float = true;
        clean += 'e';
        if (s_[i_ + 1] == '-') clean += '-';
        i_ = j;
        digits(true);
      }
    }
    if (i_ < s_.size() && (s_[i_] == 'j' || s_[i_] == 'J'))
      fail(line, column, "unsupported construct: complex number literal");
    if (i_ < s_.size() && is_name_char(s_[i_])) fail(line, column, "syntax error: invalid decimal literal");
    t.text = s_.substr(start, i_ - start);
    if (is_float) {
      t.kind = TokenKind::Float;
      t.float_value = std::strtod(clean.c_str(), nullptr);
    } else {
      // Python forbids leading zeros in non-zero decimal ints ("007").
      if (clean.size() > 1 && clean[0] == '0' && clean.find_first_not_of('0') != std::string::npos)
        fail(line, column, "syntax error: leading zeros in decimal integer literals are not permitted");
      t.kind = TokenKind::Int;
      errno = 0;
      char* end = nullptr;
      long long v = std::strtoll(clean.c_str(), &end, 10);
      if (errno == ERANGE) fail(line, column, "integer literal too large (cppdet keeps ints in 64 bits)");
      t.int_value = v;
    }
    tokens_.push_back(std::move(t));
  }

  void name_or_prefixed_string() {
    int line = line_, column = col();
    size_t start = i_;
    while (i_ < s_.size() && is_name_char(s_[i_])) ++i_;
    std::string name = s_.substr(start, i_ - start);
    if (i_ < s_.size() && (s_[i_] == '\'' || s_[i_] == '"') && name.size() <= 2) {
      std::string lower;
      for (char c : name) lower += static_cast<char>(c | 0x20);
      if (lower.find('f') != std::string::npos && (lower == "f" || lower == "rf" || lower == "fr"))
        fail(line, column, "unsupported construct: f-string");
      if (lower == "b" || lower == "rb" || lower == "br") fail(line, column, "unsupported construct: bytes literal");
      if (lower == "r" || lower == "u") {
        string_literal(line, column, lower);
        return;
      }
    }
    Token t;
    t.kind = TokenKind::Name;
    t.text = std::move(name);
    t.line = line;
    t.col = column;
    tokens_.push_back(std::move(t));
  }

  void string_literal(int line, int column, const std::string& prefix) {
    bool raw = prefix == "r";
    char quote = s_[i_];
    bool triple = i_ + 2 < s_.size() && s_[i_ + 1] == quote && s_[i_ + 2] == quote;
    i_ += triple ? 3 : 1;
    std::string value;
    while (true) {
      if (i_ >= s_.size())
        fail(line, column, std::string("syntax error: unterminated ") + (triple ? "triple-quoted " : "") + "string literal");
      char c = s_[i_];
      if (c == quote) {
        if (!triple) {
          ++i_;
          break;
        }
        if (i_ + 2 < s_.size() && s_[i_ + 1] == quote && s_[i_ + 2] == quote) {
          i_ += 3;
          break;
        }
        value += c;
        ++i_;
        continue;
      }
      if (c == '\n' || c == '\r') {
        if (!triple) fail(line, column, "syntax error: unterminated string literal");
        newline_char();
        value += '\n';  // Python normalises newlines in source to \n
        continue;
      }
      if (c != '\\') {
        value += c;
        ++i_;
        continue;
      }
      // Backslash.
      if (i_ + 1 >= s_.size()) {
        ++i_;
        continue;  // reported as unterminated on the next iteration
      }
      char e = s_[i_ + 1];
      if (e == '\n' || e == '\r') {  // escaped newline: line continuation inside the string
        ++i_;
        newline_char();
        if (raw) value += "\\\n";
        continue;
      }
      if (raw) {  // raw strings keep the backslash; an escaped quote does not end the string
        value += c;
        value += e;
        i_ += 2;
        continue;
      }
      int esc_col = col();
      i_ += 2;
      switch (e) {
        case '\\': value += '\\'; break;
        case '\'': value += '\''; break;
        case '"': value += '"'; break;
        case 'a': value += '\a'; break;
        case 'b': value += '\b'; break;
        case 'f': value += '\f'; break;
        case 'n': value += '\n'; break;
        case 'r': value += '\r'; break;
        case 't': value += '\t'; break;
        case 'v': value += '\v'; break;
        case 'x': case 'u': case 'U': {
          int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          uint32_t cp = 0;
          for (int k = 0; k < n; ++k) {
            int d = i_ < s_.size() ? hex_value(s_[i_]) : -1;
            if (d < 0) fail(line_, esc_col, std::string("syntax error: truncated \\") + e + " escape");
            cp = cp * 16 + d;
            ++i_;
          }
          if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            fail(line_, esc_col, "syntax error: invalid code point in \\" + std::string(1, e) + " escape");
          append_utf8(value, cp);
          break;
        }
        case 'N': fail(line_, esc_col, "unsupported construct: \\N{...} escape");
        default:
          if (e >= '0' && e <= '7') {  // up to three octal digits
            uint32_t cp = e - '0';
            for (int k = 0; k < 2 && i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '7'; ++k) cp = cp * 8 + (s_[i_++] - '0');
            append_utf8(value, cp);
          } else {  // unknown escapes keep the backslash (Python warns, keeps both characters)
            value += '\\';
            i_ -= 1;
          }
      }
    }
    Token t;
    t.kind = TokenKind::String;
    t.text = std::move(value);
    t.line = line;
    t.col = column;
    tokens_.push_back(std::move(t));
  }

  void op() {
    static const char* const ops[] = {
        "**=", "//=", ">>=", "<<=", "...", "**", "//", "==", "!=", "<=", ">=", "<<", ">>", "->", ":=",
        "+=",  "-=",  "*=",  "/=",  "%=",  "&=", "|=", "^=", "@=", "+",  "-",  "*",  "/",  "%",  "@",
        "&",   "|",   "^",   "~",   "<",   ">",  "(",  ")",  "[",  "]",  "{",  "}",  ",",  ":",  ".",
        ";",   "=",   "!"};
    int column = col();
    for (const char* o : ops) {
      std::string text(o);
      if (s_.compare(i_, text.size(), text) != 0) continue;
      Token t;
      t.kind = TokenKind::Op;
      t.text = text;
      t.line = line_;
      t.col = column;
      if (text == "(" || text == "[" || text == "{") {
        if (brackets_.size() >= 200) fail(line_, column, "syntax error: too many nested parentheses");
        brackets_.push_back(t);
      } else if (text == ")" || text == "]" || text == "}") {
        if (brackets_.empty()) fail(line_, column, "syntax error: unmatched '" + text + "'");
        const std::string& open = brackets_.back().text;
        std::string expected = open == "(" ? ")" : open == "[" ? "]" : "}";
        if (text != expected)
          fail(line_, column,
               "syntax error: closing parenthesis '" + text + "' does not match opening parenthesis '" + open +
                   "' on line " + std::to_string(brackets_.back().line));
        brackets_.pop_back();
      }
      i_ += text.size();
      tokens_.push_back(std::move(t));
      return;
    }
    unsigned char c = s_[i_];
    char shown[8];
    if (c >= 0x20 && c < 0x7f) std::snprintf(shown, sizeof shown, "%c", c);
    else std::snprintf(shown, sizeof shown, "\\x%02x", c);
    fail(line_, column, std::string("syntax error: invalid character '") + shown + "'");
  }

  const std::string& s_;
  const std::string& file_;
  size_t i_ = 0;
  int line_ = 1;
  size_t line_begin_ = 0;
  std::vector<Token> brackets_;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> tokenize(const std::string& text, const std::string& filename) {
  return Lexer(text, filename).run();
}

}  // namespace cppdet::config::py
