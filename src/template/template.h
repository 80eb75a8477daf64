// Template: a Liquid-compatible message template, parsed once and rendered many times.
//
// The language follows liquidjs (the reference implementation we test against byte for byte),
// minus file-system tags (include, render, layout) and with one filter of our own (`money`).
// docs/templates.md lists what is supported and where we differ.
//
// A Template is immutable after Parse and cheap to copy (shared, read-only state); any number of
// threads may call Render on the same Template concurrently.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/local_time.h"
#include "core/status.h"
#include "core/time.h"
#include "core/value.h"

namespace waymark {

// A position in the template text; line and col are 1-based, col counts code points.
struct TemplateError {
  int line = 0;
  int col = 0;
  std::string message;

  // "line:col: message", the form Status messages from Template::Parse take.
  std::string ToString() const;
};

struct RenderOptions {
  const TimeZone* tz = nullptr;  // Zone for the date filter; null means UTC.
  Time now{};                    // The instant "now" and "today" mean in the date filter.
};

class Template {
 public:
  struct Impl;

  // Parses `text` (which need not outlive the Template). A syntax error (unclosed tag, unknown tag
  // or filter, bad expression) comes back as a kParseError Status whose message is
  // "line:col: message", relative to `text`.
  static Result<Template> Parse(std::string_view text);

  // Like Parse, but reports the error as a structured TemplateError in `*error`.
  static Result<Template> Parse(std::string_view text, TemplateError* error);

  // Renders with `vars` (an object whose members are the top-level names) and appends the result to
  // `*out`. On a render error (divided_by 0, date of a non-date, ...) returns a non-OK Status and
  // leaves the contents of `*out` as they were: never a half-rendered message.
  Status Render(const Value& vars, const RenderOptions& opts, std::string* out) const;

  // Every variable path the template reads from `vars`, in order of first use and without
  // duplicates: "profile.first_name", "event.items" (the collection of a for loop),
  // "event.items.0.name" (literal indexes as path segments). A path stops before a step whose key
  // is computed at render time. Names the template assigns, captures or loops over are not
  // included.
  const std::vector<std::string>& variables() const;

 private:
  explicit Template(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

  std::shared_ptr<const Impl> impl_;
};

}  // namespace waymark
