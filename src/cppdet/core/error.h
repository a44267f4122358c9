#pragma once
// Typed exceptions thrown by the library. tools/ catches them at the boundary, prints one
// line and exits: UserError (bad input: a file, a config key, an argument) -> exit 2,
// anything else -> exit 1. Messages always name the file, line, key path or id involved.
#include <stdexcept>
#include <string>

namespace cppdet {

// Input the user can fix: a missing or malformed file, a bad config value, a bad argument.
class UserError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A config that cannot be read or merged; the message starts with "file:line:col:" or a key path.
class ConfigError : public UserError {
 public:
  using UserError::UserError;
};

// A file that is missing, unreadable or not in the expected format.
class FileFormatError : public UserError {
 public:
  using UserError::UserError;
};

// A plugin named by a config's custom_imports that cannot be found, loaded or registered
// (apis/plugins.h); the message names the module, the file and why.
class PluginError : public UserError {
 public:
  using UserError::UserError;
};

}  // namespace cppdet
