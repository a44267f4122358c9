// Writing a config tree as tagged JSON or as Python text, and reading tagged JSON back.
#include <cmath>
#include <cstdio>

#include "cppdet/config/config_file.h"
#include "cppdet/config/data_readers.h"
#include "cppdet/config/python_repr.h"
#include "cppdet/core/error.h"

namespace cppdet::config {
namespace {

// ---- JSON ------------------------------------------------------------------------------

void json_string(const std::string& s, std::string& out) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void json_value(const Value& v, int indent, std::string& out);

void json_array(const List& items, int indent, std::string& out) {
  if (items.empty()) {
    out += "[]";
    return;
  }
  out += "[\n";
  for (size_t i = 0; i < items.size(); ++i) {
    out += std::string(indent + 2, ' ');
    json_value(items[i], indent + 2, out);
    out += i + 1 < items.size() ? ",\n" : "\n";
  }
  out += std::string(indent, ' ') + "]";
}

void json_value(const Value& v, int indent, std::string& out) {
  std::string pad(indent + 2, ' ');
  std::string close_pad(indent, ' ');
  switch (v.kind()) {
    case Value::Kind::None: out += "null"; return;
    case Value::Kind::Bool: out += v.as_bool() ? "true" : "false"; return;
    case Value::Kind::Int: out += std::to_string(v.as_int()); return;
    case Value::Kind::Float: {
      double x = v.as_number();
      if (std::isfinite(x)) {
        out += python_float_repr(x);
      } else {
        out += "{\"__float__\": \"" + python_float_repr(x) + "\"}";
      }
      return;
    }
    case Value::Kind::String: json_string(v.as_string(), out); return;
    case Value::Kind::List: json_array(v.as_sequence(), indent, out); return;
    case Value::Kind::Tuple:  // {"__tuple__": [...]} keeps tuples apart from lists
      out += "{\"__tuple__\": ";
      json_array(v.as_sequence(), indent, out);
      out += "}";
      return;
    case Value::Kind::Dict: {
      const Dict& d = v.as_dict();
      if (d.empty()) {
        out += "{}";
        return;
      }
      out += "{\n";
      for (size_t i = 0; i < d.size(); ++i) {
        out += pad;
        json_string(d.keys()[i], out);
        out += ": ";
        json_value(d.values()[i], indent + 2, out);
        out += i + 1 < d.size() ? ",\n" : "\n";
      }
      out += close_pad + "}";
      return;
    }
  }
}

// ---- Python ----------------------------------------------------------------------------

constexpr size_t kLineWidth = 79;

bool identifier_keys(const Dict& d) {
  for (const std::string& k : d.keys())
    if (!is_python_identifier(k)) return false;
  return true;
}

std::string py_flat(const Value& v);

std::string py_items_flat(const List& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + py_flat(items[i]);
  return out;
}

std::string py_scalar(const Value& v) {
  if (v.is_float() && !std::isfinite(v.as_number())) return "float('" + python_float_repr(v.as_number()) + "')";
  return python_repr(v);
}

std::string py_flat(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::List: return "[" + py_items_flat(v.as_sequence()) + "]";
    case Value::Kind::Tuple:
      return "(" + py_items_flat(v.as_sequence()) + (v.as_sequence().size() == 1 ? ",)" : ")");
    case Value::Kind::Dict: {
      const Dict& d = v.as_dict();
      bool call = identifier_keys(d);
      std::string out = call ? "dict(" : "{";
      for (size_t i = 0; i < d.size(); ++i) {
        if (i) out += ", ";
        out += call ? d.keys()[i] + "=" : python_str_repr(d.keys()[i]) + ": ";
        out += py_flat(d.values()[i]);
      }
      return out + (call ? ")" : "}");
    }
    default: return py_scalar(v);
  }
}

// `v` rendered at column `column` (where its first character goes), breaking containers
// one item per line, indented by 4, when the flat form does not fit.
std::string py_pretty(const Value& v, size_t indent, size_t column) {
  std::string flat = py_flat(v);
  bool container = v.is_sequence() || v.is_dict();
  if (!container || column + flat.size() + 1 <= kLineWidth) return flat;
  std::string pad(indent + 4, ' ');
  std::string open, close;
  std::vector<std::string> prefixes;
  std::vector<const Value*> values;
  if (v.is_dict()) {
    const Dict& d = v.as_dict();
    if (d.empty()) return flat;
    bool call = identifier_keys(d);
    open = call ? "dict(" : "{";
    close = call ? ")" : "}";
    for (size_t i = 0; i < d.size(); ++i) {
      prefixes.push_back(call ? d.keys()[i] + "=" : python_str_repr(d.keys()[i]) + ": ");
      values.push_back(&d.values()[i]);
    }
  } else {
    const List& items = v.as_sequence();
    if (items.empty()) return flat;
    open = v.is_tuple() ? "(" : "[";
    close = v.is_tuple() ? (items.size() == 1 ? ",)" : ")") : "]";
    for (const Value& item : items) {
      prefixes.push_back("");
      values.push_back(&item);
    }
  }
  std::string out = open + "\n";
  for (size_t i = 0; i < values.size(); ++i) {
    out += pad + prefixes[i] + py_pretty(*values[i], indent + 4, indent + 4 + prefixes[i].size());
    out += i + 1 < values.size() ? ",\n" : close;
  }
  return out;
}

}  // namespace

std::string dump_json(const Value& cfg) {
  std::string out;
  json_value(cfg, 0, out);
  return out + "\n";
}

std::string dump_python(const Value& cfg) {
  if (!cfg.is_dict()) throw ConfigError("dump_python: a config must be a dict, got " + cfg.type_name());
  const Dict& d = cfg.as_dict();
  std::string out;
  for (size_t i = 0; i < d.size(); ++i) {
    const std::string& key = d.keys()[i];
    if (!is_python_identifier(key) || key.rfind("__", 0) == 0)
      throw ConfigError("top-level key '" + key + "' cannot be written as Python (not an identifier); use JSON");
    out += key + " = " + py_pretty(d.values()[i], 0, key.size() + 3) + "\n";
  }
  return out;
}

Value value_from_tagged_json(const std::string& text) { return read_json_config(text, "<json>", /*tagged=*/true); }

}  // namespace cppdet::config
