#pragma once
// A request the server refuses: the HTTP status it answers with and the message of its
// {"error": ...} body. A UserError, since the client can fix the request.
#include <string>

#include "cppdet/core/error.h"

namespace cppdet::serving {

class RequestError : public UserError {
 public:
  RequestError(int status, const std::string& message) : UserError(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

}  // namespace cppdet::serving
