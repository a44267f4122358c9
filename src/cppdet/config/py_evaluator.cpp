#include "cppdet/config/py_evaluator.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include "cppdet/config/py_lexer.h"
#include "cppdet/config/py_operators.h"
#include "cppdet/core/error.h"

namespace cppdet::config::py {
namespace {

// Limits that keep hostile input from exhausting the stack or memory.
constexpr size_t kMaxNesting = 100;          // nesting of values and of expressions
constexpr size_t kMaxNodes = 500'000;        // values created while evaluating one file
constexpr size_t kStringBytesPerNode = 32;   // a string counts one node per 32 bytes

// A value with its nesting depth (0 for scalars) and size in nodes.
struct Obj {
  Value value;
  size_t depth = 0;
  size_t nodes = 1;
};

void measure(const Value& v, size_t& depth, size_t& nodes) {
  depth = 0;
  nodes = 1;
  if (v.is_string()) nodes += v.as_string().size() / kStringBytesPerNode;
  auto child = [&](const Value& c) {
    size_t d, n;
    measure(c, d, n);
    depth = std::max(depth, d + 1);
    nodes += n;
  };
  if (v.is_sequence())
    for (const Value& c : v.as_sequence()) child(c);
  if (v.is_dict())
    for (const Value& c : v.as_dict().values()) child(c);
}

const std::set<std::string>& keywords() {
  static const std::set<std::string> k = {
      "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class",
      "continue", "def", "del", "elif", "else", "except", "finally", "for", "from", "global",
      "if", "import", "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise",
      "return", "try", "while", "with", "yield"};
  return k;
}

class Evaluator {
 public:
  Evaluator(std::vector<Token> tokens, const std::string& filename,
            std::map<std::string, std::pair<int, int>>* value_positions)
      : toks_(std::move(tokens)), file_(filename), positions_(value_positions) {}

  Dict run() {
    while (peek().kind != TokenKind::End) statement();
    Dict out;
    for (size_t i = 0; i < ns_.size(); ++i)
      if (ns_.keys()[i].rfind("__", 0) != 0) out.set(ns_.keys()[i], ns_.values()[i]);
    return out;
  }

 private:
  // ---- token helpers -------------------------------------------------------------------
  // The token k ahead; reaching a lexical error token reports it.
  const Token& peek(size_t k = 0) const {
    const Token& t = toks_[std::min(pos_ + k, toks_.size() - 1)];
    if (k == 0 && t.kind == TokenKind::Error) throw ConfigError(t.text);
    return t;
  }
  // A `for` at this bracket level before the element ends: the display is a comprehension.
  const Token* comprehension_ahead() const {
    int depth = 0;
    for (size_t k = pos_; k < toks_.size(); ++k) {
      const Token& t = toks_[k];
      if (t.kind == TokenKind::End || t.kind == TokenKind::Error) return nullptr;
      if (t.kind == TokenKind::Op) {
        if (t.text == "(" || t.text == "[" || t.text == "{") ++depth;
        if (t.text == ")" || t.text == "]" || t.text == "}") {
          if (depth == 0) return nullptr;
          --depth;
        }
        if (t.text == "," && depth == 0) return nullptr;
      }
      if (depth == 0 && t.kind == TokenKind::Name && (t.text == "for" || t.text == "async")) return &t;
    }
    return nullptr;
  }
  const Token& next() {
    const Token& t = peek();
    if (pos_ < toks_.size() - 1) ++pos_;
    return t;
  }
  static bool is_op(const Token& t, const char* op) { return t.kind == TokenKind::Op && t.text == op; }
  static bool is_name(const Token& t, const char* name) { return t.kind == TokenKind::Name && t.text == name; }
  bool accept_op(const char* op) {
    if (!is_op(peek(), op)) return false;
    next();
    return true;
  }
  static std::string describe(const Token& t) {
    switch (t.kind) {
      case TokenKind::Newline: return "end of line";
      case TokenKind::End: return "end of file";
      case TokenKind::Error: return "an invalid token";
      case TokenKind::String: return "a string";
      case TokenKind::Int: case TokenKind::Float: return "'" + t.text + "'";
      default: return "'" + t.text + "'";
    }
  }
  void expect_op(const char* op) {
    if (!accept_op(op)) fail(peek(), std::string("syntax error: expected '") + op + "', got " + describe(peek()));
  }
  [[noreturn]] void fail(const Token& t, const std::string& msg) const {
    throw ConfigError(location(file_, t.line, t.col) + ": " + msg);
  }
  [[noreturn]] void unsupported(const Token& t, const std::string& what) const {
    fail(t, "unsupported construct: " + what);
  }

  // ---- resource accounting -------------------------------------------------------------
  void charge(size_t nodes, const Token& at) {
    nodes_ += nodes;
    if (nodes_ > kMaxNodes) fail(at, "config too large (more than " + std::to_string(kMaxNodes) + " values)");
  }
  Obj scalar(Value v, const Token& at) {
    Obj o;
    if (v.is_string()) o.nodes += v.as_string().size() / kStringBytesPerNode;
    charge(o.nodes, at);
    o.value = std::move(v);
    return o;
  }
  // A value copied out of a name or a container: measured and charged in full.
  Obj copied(const Value& v, const Token& at) {
    Obj o;
    measure(v, o.depth, o.nodes);
    charge(o.nodes, at);
    o.value = v;
    return o;
  }
  Obj container(Value v, size_t child_depth, size_t child_nodes, const Token& at) {
    Obj o;
    o.depth = child_depth + 1;
    if (o.depth > kMaxNesting) fail(at, "values nested deeper than " + std::to_string(kMaxNesting) + " levels");
    o.nodes = child_nodes + 1;
    charge(1, at);
    o.value = std::move(v);
    return o;
  }
  struct DepthGuard {
    DepthGuard(Evaluator& e, const Token& at) : e_(e) {
      if (++e_.depth_ > 2 * kMaxNesting) e_.fail(at, "expression nested too deeply");
    }
    ~DepthGuard() { --e_.depth_; }
    Evaluator& e_;
  };

  // ---- statements ----------------------------------------------------------------------
  void statement() {
    const Token& t = peek();
    if (t.kind == TokenKind::Newline || is_op(t, ";")) {
      next();
      return;
    }
    if (t.kind == TokenKind::Name && keywords().count(t.text) && t.text != "True" && t.text != "False" &&
        t.text != "None" && t.text != "lambda" && t.text != "not" && t.text != "await") {
      if (t.text == "pass") {
        next();
      } else {
        unsupported(t, "'" + t.text + "' statement");
      }
    } else if (t.kind == TokenKind::Name && is_op(peek(1), "=")) {
      assignment();
    } else {
      other_statement();
    }
    end_of_statement();
  }

  void end_of_statement() {
    const Token& t = peek();
    if (t.kind == TokenKind::End) return;
    if (t.kind == TokenKind::Newline || is_op(t, ";")) {
      next();
      return;
    }
    fail(t, "syntax error: expected end of statement, got " + describe(t));
  }

  void assignment() {
    std::vector<const Token*> targets;
    while (peek().kind == TokenKind::Name && is_op(peek(1), "=")) {
      const Token& name = next();
      if (keywords().count(name.text)) fail(name, "syntax error: cannot assign to " + name.text);
      targets.push_back(&name);
      next();  // '='
    }
    const Token& value_token = peek();
    Obj value = expr_list();
    // `a = b = x` stores a copy per name: every name after the first costs x's size again.
    for (size_t k = 1; k < targets.size(); ++k) charge(value.nodes, value_token);
    for (const Token* name : targets) {
      if (positions_) (*positions_)[name->text] = {value_token.line, value_token.col};
      ns_.set(name->text, value.value);
      meta_[name->text] = {value.depth, value.nodes};
    }
  }

  // Anything that is not `name = ...`: a docstring is allowed, the rest is reported.
  void other_statement() {
    const Token& t = peek();
    // A statement with a top-level '=' or augmented assignment assigns to something else.
    for (size_t k = pos_; k < toks_.size(); ++k) {
      const Token& u = toks_[k];
      if (u.kind == TokenKind::Newline || u.kind == TokenKind::End || is_op(u, ";")) break;
      if (u.kind != TokenKind::Op) continue;
      if (u.text == "=") unsupported(t, "assignment to a target other than a plain name");
      static const std::set<std::string> not_assignments = {"==", "!=", "<=", ">=", ":="};
      if (u.text.size() >= 2 && u.text.back() == '=' && !not_assignments.count(u.text))
        unsupported(u, "augmented assignment '" + u.text + "'");
      if (u.text == ":" && k == pos_ + 1) unsupported(t, "annotated assignment");
    }
    bool docstring = t.kind == TokenKind::String;
    expr_list();
    if (!docstring) unsupported(t, "expression statement (only `name = value` statements are allowed)");
  }

  // ---- expressions ---------------------------------------------------------------------
  // expr [, expr]* [,] -> a tuple when there is a comma.
  Obj expr_list() {
    const Token& start = peek();
    Obj first = expr();
    if (!is_op(peek(), ",")) return first;
    List items{std::move(first.value)};
    size_t depth = first.depth, nodes = first.nodes;
    while (accept_op(",")) {
      if (!starts_expression(peek())) break;
      Obj o = expr();
      depth = std::max(depth, o.depth);
      nodes += o.nodes;
      items.push_back(std::move(o.value));
    }
    return container(Value::tuple(std::move(items)), depth, nodes, start);
  }

  static bool starts_expression(const Token& t) {
    if (t.kind == TokenKind::Newline || t.kind == TokenKind::End) return false;
    if (t.kind == TokenKind::Op)
      return t.text == "(" || t.text == "[" || t.text == "{" || t.text == "-" || t.text == "+" || t.text == "~" ||
             t.text == "*" || t.text == "...";
    return true;
  }

  Obj expr() {
    const Token& t = peek();
    DepthGuard guard(*this, t);
    if (is_name(t, "lambda")) unsupported(t, "lambda");
    if (is_name(t, "not")) unsupported(t, "boolean operator 'not'");
    if (is_name(t, "yield") || is_name(t, "await")) unsupported(t, "'" + t.text + "' expression");
    Obj o = arith();
    const Token& u = peek();
    if (u.kind == TokenKind::Op) {
      static const std::set<std::string> comparisons = {"==", "!=", "<", ">", "<=", ">="};
      if (comparisons.count(u.text)) unsupported(u, "comparison '" + u.text + "'");
      if (u.text == "|" || u.text == "&" || u.text == "^" || u.text == "<<" || u.text == ">>")
        unsupported(u, "bitwise operator '" + u.text + "'");
      if (u.text == ":=") unsupported(u, "assignment expression ':='");
    } else if (u.kind == TokenKind::Name) {
      if (u.text == "and" || u.text == "or") unsupported(u, "boolean operator '" + u.text + "'");
      if (u.text == "if") unsupported(u, "conditional expression");
      if (u.text == "in" || u.text == "is" || u.text == "not") unsupported(u, "comparison '" + u.text + "'");
    }
    return o;
  }

  Obj binary(const Token& op_token, const std::string& op, Obj a, Obj b) {
    // Repetition can multiply sizes: check the result's size before building it.
    if (op == "*") {
      const Obj& seq = (a.value.is_sequence() || a.value.is_string()) ? a : b;
      const Obj& count = &seq == &a ? b : a;
      if ((seq.value.is_sequence() || seq.value.is_string()) && (count.value.is_int() || count.value.is_bool())) {
        const int64_t n = count.value.is_bool() ? count.value.as_bool() : count.value.as_int();
        const bool empty = seq.value.is_string() ? seq.value.as_string().empty() : seq.value.as_sequence().empty();
        if (n > 0 && !empty) {  // repeating nothing gives nothing, whatever the count (as in Python)
          size_t per_copy = seq.nodes - 1;
          if (seq.value.is_string()) per_copy = std::max<size_t>(1, seq.value.as_string().size() / kStringBytesPerNode);
          if (static_cast<uint64_t>(n) > (kMaxNodes - std::min(kMaxNodes, nodes_)) / per_copy)
            fail(op_token, "config too large (repetition gives more than " + std::to_string(kMaxNodes) + " values)");
        }
      }
    }
    if (op == "+" && ((a.value.is_sequence() && b.value.is_sequence()) || (a.value.is_string() && b.value.is_string())))
      charge(a.nodes + b.nodes, op_token);
    Value r;
    try {
      r = binary_op(op, a.value, b.value);
    } catch (const OperatorError& e) {
      fail(op_token, e.what());
    }
    if (r.is_sequence() || r.is_string()) return copied_measured(std::move(r), op_token);
    return scalar(std::move(r), op_token);
  }

  // Measures a freshly built value (already charged by the caller's size check).
  Obj copied_measured(Value v, const Token& at) {
    Obj o;
    measure(v, o.depth, o.nodes);
    if (o.depth > kMaxNesting) fail(at, "values nested deeper than " + std::to_string(kMaxNesting) + " levels");
    charge(o.nodes, at);
    o.value = std::move(v);
    return o;
  }

  Obj arith() {
    Obj a = term();
    while (is_op(peek(), "+") || is_op(peek(), "-")) {
      const Token& op = next();
      Obj b = term();
      a = binary(op, op.text, std::move(a), std::move(b));
    }
    return a;
  }

  Obj term() {
    Obj a = factor();
    while (true) {
      const Token& t = peek();
      if (is_op(t, "@")) unsupported(t, "matrix multiplication '@'");
      if (!(is_op(t, "*") || is_op(t, "/") || is_op(t, "//") || is_op(t, "%"))) break;
      const Token& op = next();
      Obj b = factor();
      a = binary(op, op.text, std::move(a), std::move(b));
    }
    return a;
  }

  Obj factor() {
    const Token& t = peek();
    DepthGuard guard(*this, t);
    if (is_op(t, "-") || is_op(t, "+")) {
      next();
      Obj a = factor();
      try {
        a.value = unary_op(t.text[0], a.value);  // replaces its (already charged) operand: `-1` is one value
        return a;
      } catch (const OperatorError& e) {
        fail(t, e.what());
      }
    }
    if (is_op(t, "~")) unsupported(t, "bitwise operator '~'");
    Obj a = postfix();
    if (is_op(peek(), "**")) unsupported(peek(), "power operator '**'");
    return a;
  }

  Obj postfix() {
    Obj a = atom();
    while (true) {
      const Token& t = peek();
      if (is_op(t, "[")) {
        next();
        const Token& index_token = peek();
        if (is_op(index_token, ":")) unsupported(index_token, "slice");
        Obj index = expr();
        if (is_op(peek(), ":")) unsupported(peek(), "slice");
        if (is_op(peek(), ",")) unsupported(peek(), "tuple subscript");
        expect_op("]");
        try {
          a = copied(subscript(a.value, index.value), t);
        } catch (const OperatorError& e) {
          fail(index_token, e.what());
        }
      } else if (is_op(t, ".")) {
        const Token& attr = peek(1);
        unsupported(t, "attribute access '." + (attr.kind == TokenKind::Name ? attr.text : std::string("?")) + "'");
      } else if (is_op(t, "(")) {
        unsupported(t, "call of a value that is not dict/list/tuple/float");
      } else {
        return a;
      }
    }
  }

  Obj atom() {
    const Token& t = peek();
    switch (t.kind) {
      case TokenKind::Int: next(); return scalar(Value(t.int_value), t);
      case TokenKind::Float: next(); return scalar(Value(t.float_value), t);
      case TokenKind::String: {
        std::string s;
        while (peek().kind == TokenKind::String) {  // adjacent literals concatenate
          s += next().text;
          if (s.size() > kMaxNodes) fail(t, "config too large (string literal)");
        }
        return scalar(Value(std::move(s)), t);
      }
      case TokenKind::Name: return name_atom();
      case TokenKind::Op:
        if (t.text == "(") return paren_display();
        if (t.text == "[") return list_display();
        if (t.text == "{") return brace_display();
        if (t.text == "...") unsupported(t, "Ellipsis '...'");
        break;
      default: break;
    }
    fail(t, "syntax error: expected an expression, got " + describe(t));
  }

  Obj name_atom() {
    const Token& t = next();
    if (t.text == "True") return scalar(Value(true), t);
    if (t.text == "False") return scalar(Value(false), t);
    if (t.text == "None") return scalar(Value(), t);
    if (keywords().count(t.text)) fail(t, "syntax error: unexpected keyword '" + t.text + "'");
    bool bound = ns_.contains(t.text);
    if (is_op(peek(), "(")) {
      if (!bound && (t.text == "dict" || t.text == "list" || t.text == "tuple" || t.text == "float")) return call(t);
      unsupported(t, "call of '" + t.text + "' (only dict(), list(), tuple() and float() may be called)");
    }
    if (!bound) {
      fail(t, "name '" + t.text +
                  "' is not defined (only names assigned earlier in the same file are visible; "
                  "a _base_ file's variables are not)");
    }
    const Value& v = *ns_.find(t.text);
    const auto& m = meta_.at(t.text);
    charge(m.second, t);
    Obj o;
    o.value = v;
    o.depth = m.first;
    o.nodes = m.second;
    return o;
  }

  // Elements of a list/tuple display up to `close`; `*x` splices a sequence.
  void elements(const char* close, List& items, size_t& depth, size_t& nodes, const char* what) {
    while (!is_op(peek(), close)) {
      const Token& t = peek();
      if (const Token* f = comprehension_ahead()) unsupported(*f, std::string(what) + " comprehension");
      Obj o;
      bool star = accept_op("*");
      o = expr();
      if (is_name(peek(), "for") || is_name(peek(), "async")) unsupported(peek(), std::string(what) + " comprehension");
      depth = std::max(depth, star ? (o.depth > 0 ? o.depth - 1 : 0) : o.depth);
      nodes += star ? (o.nodes > 0 ? o.nodes - 1 : 0) : o.nodes;
      if (star) {
        if (!o.value.is_sequence())
          fail(t, "unpacking with * needs a list or tuple, got " + o.value.type_name());
        for (const Value& v : o.value.as_sequence()) items.push_back(v);
      } else {
        items.push_back(std::move(o.value));
      }
      if (!accept_op(",")) break;
    }
  }

  Obj paren_display() {
    const Token& open = next();
    if (accept_op(")")) return container(Value::tuple(), 0, 0, open);
    if (is_name(peek(), "yield")) unsupported(peek(), "'yield' expression");
    const Token& first_token = peek();
    if (const Token* f = comprehension_ahead()) unsupported(*f, "generator expression");
    bool star = is_op(first_token, "*");
    if (!star) {
      Obj first = expr();
      if (is_name(peek(), "for") || is_name(peek(), "async")) unsupported(peek(), "generator expression");
      if (accept_op(")")) return first;  // parenthesised expression
      if (!is_op(peek(), ",")) fail(peek(), "syntax error: expected ',' or ')', got " + describe(peek()));
      next();
      List items{std::move(first.value)};
      size_t depth = first.depth, nodes = first.nodes;
      elements(")", items, depth, nodes, "tuple");
      expect_op(")");
      return container(Value::tuple(std::move(items)), depth, nodes, open);
    }
    List items;
    size_t depth = 0, nodes = 0;
    elements(")", items, depth, nodes, "tuple");
    expect_op(")");
    return container(Value::tuple(std::move(items)), depth, nodes, open);
  }

  Obj list_display() {
    const Token& open = next();
    List items;
    size_t depth = 0, nodes = 0;
    elements("]", items, depth, nodes, "list");
    expect_op("]");
    return container(Value::list(std::move(items)), depth, nodes, open);
  }

  // Adds `**value` entries into a dict being built.
  void unpack_into(Dict& d, const Obj& o, const Token& at, size_t& depth, size_t& nodes,
                   std::set<std::string>* seen_keywords) {
    if (!o.value.is_dict()) fail(at, "argument after ** must be a dict, not " + o.value.type_name());
    const Dict& src = o.value.as_dict();
    for (size_t i = 0; i < src.size(); ++i) {
      if (seen_keywords && !seen_keywords->insert(src.keys()[i]).second)
        fail(at, "dict() got multiple values for keyword argument '" + src.keys()[i] + "'");
      d.set(src.keys()[i], src.values()[i]);
    }
    depth = std::max(depth, o.depth > 0 ? o.depth - 1 : 0);
    nodes += o.nodes > 0 ? o.nodes - 1 : 0;
  }

  Obj brace_display() {
    const Token& open = next();
    Dict d;
    size_t depth = 0, nodes = 0;
    bool first = true;
    while (!is_op(peek(), "}")) {
      const Token& t = peek();
      if (accept_op("**")) {
        Obj o = factor();
        unpack_into(d, o, t, depth, nodes, nullptr);
      } else {
        if (const Token* f = comprehension_ahead()) unsupported(*f, "dict comprehension");
        Obj key = expr();
        if (!is_op(peek(), ":")) {
          if (first && (is_op(peek(), ",") || is_op(peek(), "}") || is_name(peek(), "for")))
            unsupported(t, "set");
          fail(peek(), "syntax error: expected ':', got " + describe(peek()));
        }
        next();
        Obj value = expr();
        if (is_name(peek(), "for") || is_name(peek(), "async")) unsupported(peek(), "dict comprehension");
        if (!key.value.is_string()) unsupported(t, "dict key of type " + key.value.type_name() + " (keys must be str)");
        depth = std::max(depth, value.depth);
        nodes += value.nodes;
        d.set(key.value.as_string(), std::move(value.value));
      }
      first = false;
      if (!accept_op(",")) break;
    }
    expect_op("}");
    return container(Value(std::move(d)), depth, nodes, open);
  }

  // dict(...), list(...), tuple(...), float(...).
  Obj call(const Token& callee) {
    const Token& open = next();  // '('
    std::vector<Obj> positional;
    std::vector<const Token*> positional_tokens;
    Dict kwargs;
    std::set<std::string> seen;
    size_t depth = 0, nodes = 0;
    while (!is_op(peek(), ")")) {
      const Token& t = peek();
      if (accept_op("**")) {
        Obj o = expr();
        unpack_into(kwargs, o, t, depth, nodes, &seen);
      } else if (is_op(t, "*")) {
        unsupported(t, "*-unpacking in a call");
      } else if (t.kind == TokenKind::Name && is_op(peek(1), "=")) {
        next();
        next();
        if (!seen.insert(t.text).second) fail(t, "syntax error: keyword argument repeated: " + t.text);
        Obj o = expr();
        depth = std::max(depth, o.depth);
        nodes += o.nodes;
        kwargs.set(t.text, std::move(o.value));
      } else {
        if (!kwargs.empty() || !seen.empty()) fail(t, "syntax error: positional argument follows keyword argument");
        if (const Token* f = comprehension_ahead()) unsupported(*f, "generator expression");
        Obj o = expr();
        if (is_name(peek(), "for")) unsupported(peek(), "generator expression");
        positional.push_back(std::move(o));
        positional_tokens.push_back(&t);
      }
      if (!accept_op(",")) break;
    }
    expect_op(")");
    const std::string& f = callee.text;
    if (positional.size() > 1) fail(callee, f + "() takes at most 1 positional argument");
    if (f == "dict") {
      Dict d;
      if (!positional.empty()) {
        const Obj& p = positional[0];
        if (p.value.is_dict()) {
          d = p.value.as_dict();
          depth = std::max(depth, p.depth > 0 ? p.depth - 1 : 0);
          nodes += p.nodes > 0 ? p.nodes - 1 : 0;
        } else if (p.value.is_sequence()) {
          for (const Value& pair : p.value.as_sequence()) {
            if (!pair.is_sequence() || pair.as_sequence().size() != 2 || !pair.as_sequence()[0].is_string())
              fail(*positional_tokens[0], "dict() needs a dict or a sequence of (str, value) pairs");
            d.set(pair.as_sequence()[0].as_string(), pair.as_sequence()[1]);
          }
          depth = std::max(depth, p.depth > 1 ? p.depth - 2 : 0);
          nodes += p.nodes;
        } else {
          fail(*positional_tokens[0], "dict() needs a dict or a sequence of pairs, got " + p.value.type_name());
        }
      }
      for (size_t i = 0; i < kwargs.size(); ++i) d.set(kwargs.keys()[i], kwargs.values()[i]);
      return container(Value(std::move(d)), depth, nodes, open);
    }
    if (!kwargs.empty()) fail(callee, f + "() takes no keyword arguments");
    if (f == "float") {
      if (positional.empty()) return scalar(Value(0.0), callee);
      const Value& v = positional[0].value;
      if (v.is_number() || v.is_bool()) return scalar(Value(v.is_bool() ? (v.as_bool() ? 1.0 : 0.0) : v.as_number()), callee);
      double x;
      if (v.is_string() && python_float_from_string(v.as_string(), x)) return scalar(Value(x), callee);
      fail(*positional_tokens[0], "float() cannot convert " + v.brief());
    }
    // list(x) / tuple(x)
    List items;
    if (!positional.empty()) {
      const Obj& p = positional[0];
      if (p.value.is_sequence()) {
        items = p.value.as_sequence();
        depth = p.depth > 0 ? p.depth - 1 : 0;
        nodes = p.nodes > 0 ? p.nodes - 1 : 0;
      } else if (p.value.is_dict()) {
        for (const std::string& k : p.value.as_dict().keys()) items.push_back(Value(k));
        nodes = items.size();
      } else if (p.value.is_string()) {
        const std::string& s = p.value.as_string();
        for (size_t k = 0; k < s.size();) {
          size_t n = 1;
          while (k + n < s.size() && (static_cast<unsigned char>(s[k + n]) & 0xC0) == 0x80) ++n;
          items.push_back(Value(s.substr(k, n)));
          k += n;
        }
        nodes = items.size();
        charge(nodes, callee);
      } else {
        fail(*positional_tokens[0], "'" + p.value.type_name() + "' object is not iterable");
      }
    }
    Value v = f == "tuple" ? Value::tuple(std::move(items)) : Value::list(std::move(items));
    return container(std::move(v), depth, nodes, open);
  }

  std::vector<Token> toks_;
  const std::string& file_;
  size_t pos_ = 0;
  size_t depth_ = 0;
  size_t nodes_ = 0;
  Dict ns_;
  std::unordered_map<std::string, std::pair<size_t, size_t>> meta_;  // name -> (depth, nodes)
  std::map<std::string, std::pair<int, int>>* positions_;
};

}  // namespace

Dict evaluate_module(const std::string& text, const std::string& filename,
                     std::map<std::string, std::pair<int, int>>* value_positions) {
  return Evaluator(tokenize(text, filename), filename, value_positions).run();
}

}  // namespace cppdet::config::py
