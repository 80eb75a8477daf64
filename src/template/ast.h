// The parsed form of a template: a tree of nodes over a flat pool of expressions.
//
// Every string_view points into Impl::source, which the Impl owns and never moves, so rendering
// reads literals and variable names in place.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "template/datum.h"
#include "template/filters.h"
#include "template/template.h"

namespace waymark::tmpl {

enum class ExprKind : uint8_t {
  kLiteral,   // literal
  kVariable,  // name, then steps
  kPath,      // lhs (a literal or range), then steps
  kRange,     // (lhs..rhs)
  kAnd,
  kOr,
  kNot,
  kEq,
  kNe,
  kLt,
  kGt,
  kLe,
  kGe,
  kContains,
};

// One step of a property path: `.key`, `[3]`, `["key"]` or `[expr]`.
struct PathStep {
  enum class Kind : uint8_t { kKey, kIndex, kComputed };
  Kind kind = Kind::kKey;
  std::string_view key;  // kKey
  double index = 0;      // kIndex
  int32_t expr = -1;     // kComputed
};

struct Expr {
  ExprKind kind = ExprKind::kLiteral;
  // kVariable: no tag of the template binds `name` (assign, capture, for, increment, decrement), so
  // it can only be one of the variables given to Render.
  bool unbound = false;
  Datum literal;
  std::string_view name;
  uint32_t step_begin = 0, step_count = 0;  // into Impl::steps
  int32_t lhs = -1, rhs = -1;               // into Impl::exprs
};

struct FilterArg {
  std::string_view name;  // empty for positional arguments
  int32_t expr = -1;
};

struct FilterCall {
  FilterId id;
  uint32_t offset = 0;                    // of the filter name in the source, for render errors
  uint32_t arg_begin = 0, arg_count = 0;  // into Impl::filter_args
  bool allow_false = false;
};

// An expression followed by filters: `x | upcase | append: "!"`.
struct FilteredExpr {
  int32_t expr = -1;
  uint32_t filter_begin = 0, filter_count = 0;  // into Impl::filters
};

struct Node;
using Block = std::vector<Node>;

// A condition with its body: one `if`/`elsif` test, or one `when` with its values. A branch
// without conditions is an `else`.
struct Branch {
  std::vector<FilteredExpr> conds;
  bool negate = false;  // `unless`: the body runs when the condition is falsy
  Block body;
};

enum class NodeKind : uint8_t {
  kText,
  kOutput,
  kIf,
  kCase,
  kFor,
  kBreak,
  kContinue,
  kAssign,
  kCapture,
  kIncrement,
  kDecrement,
};

struct Node {
  NodeKind kind = NodeKind::kText;
  std::string_view text;  // kText: the text; kAssign/kCapture/kIncrement/kDecrement/kFor: a name
  FilteredExpr value;     // kOutput, kAssign, kCase subject, kFor collection
  std::vector<Branch> branches;     // kIf, kCase (an else branch comes last)
  Block body, else_body;            // kFor, kCapture
  int32_t limit = -1, offset = -1;  // kFor modifiers (expressions)
  bool reversed = false;
};

}  // namespace waymark::tmpl

namespace waymark {

struct Template::Impl {
  std::string source;
  std::vector<tmpl::Expr> exprs;
  std::vector<tmpl::PathStep> steps;
  std::vector<tmpl::FilterCall> filters;
  std::vector<tmpl::FilterArg> filter_args;
  std::deque<std::string> unescaped;  // string literals that had backslash escapes
  tmpl::Block root;
  std::vector<std::string> variables;
  size_t text_bytes = 0;  // literal text, a hint for reserving output
};

}  // namespace waymark
