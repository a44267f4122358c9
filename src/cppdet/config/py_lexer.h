#pragma once
// Tokens of a Python config file (the lexical rules of Python 3 that configs need:
// names, int/float literals, all string literal forms except f-strings and bytes, operators,
// comments, implicit line joining inside brackets and backslash continuation). Errors are
// ConfigError "file:line:col: ...".
#include <cstdint>
#include <string>
#include <vector>

namespace cppdet::config::py {

// Error: a lexical error (text = the full message) met at this point; the parser reports it
// when it reaches it, so errors come in file order.
enum class TokenKind { Name, Int, Float, String, Op, Newline, End, Error };

struct Token {
  TokenKind kind = TokenKind::End;
  std::string text;  // Name: the identifier; Op: the operator; String: the decoded value
  int64_t int_value = 0;
  double float_value = 0.0;
  int line = 1;  // 1-based
  int col = 1;   // 1-based, in bytes
};

// The whole file as tokens; a Newline ends each logical line that has content, End closes.
std::vector<Token> tokenize(const std::string& text, const std::string& filename);

// "file:line:col: message", the prefix of every config syntax error.
std::string location(const std::string& filename, int line, int col);

}  // namespace cppdet::config::py
