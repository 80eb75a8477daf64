// The condition language used by segments, entry filters, branches, exits, goals and wait-for
// filters. Conditions are compiled once, when the config loads, into a flat node array;
// evaluation walks that array and does not allocate.
//
//   event.price >= 100 and profile.country in ["DE", "AT"]
//   count("Product Viewed", within: 7d, where: event.category == "shoes") >= 3
//   not did("Order Completed", since: entry)
//   event.cart_id == trigger.cart_id
//   profile.last_order_at < now - 30d
//
// A comparison with a missing operand (the property or trait is absent, or JSON null) is false,
// except `!=`, which is true: `profile.country != "DE"` holds for a profile without a country.
// `exists(path)` tests presence. See docs/conditions.md for the full reference.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "core/value.h"
#include "model/event.h"
#include "model/profile.h"

namespace waymark::expr {

enum class Type : uint8_t { kUnknown, kBool, kNumber, kString, kTime, kDuration, kList, kNull };
std::string_view TypeName(Type t);

// Which roots a condition may use where it appears.
struct CompileEnv {
  bool allow_event = true;     // `event.*`: the event being processed
  // `trigger.*` (the event that started the journey instance) and `last_message.*` (the
  // instance's most recent send)
  bool allow_trigger = false;
  bool allow_entry = false;    // `since: entry` in history functions
  const std::vector<std::string>* segment_names = nullptr;  // for in_segment("name")
};

struct CompileError {
  size_t offset = 0;  // byte offset into the source text
  std::string message;
};

// What an expression produced: a small tagged view into the context, never owning.
struct Operand {
  Type type = Type::kNull;  // kNull also stands for "missing"
  bool b = false;
  double n = 0;
  Time t{};
  std::string_view s;
  const Value* v = nullptr;  // lists
};

// A view of one event for conditions: either a full Event or a profile history entry.
struct EventView {
  std::string_view name;
  Time time{};
  const Value* properties = nullptr;
  const Event* full = nullptr;  // null for history entries
};

// The most recent message a journey instance sent, for `last_message.*`. The views point into
// the instance and the config; an empty `id` means the instance has sent nothing yet.
struct MessageView {
  std::string_view id;       // the message id, as in the outbox and delivery events
  std::string_view channel;  // channel id
  std::string_view step;     // step id
  Time sent_at = kTimeMin;
};

struct EvalContext {
  const Profile* profile = nullptr;
  const Event* event = nullptr;
  const Event* trigger = nullptr;
  MessageView last_message;  // inside a journey instance; empty otherwise
  Time now{};
  Time entered_at = kTimeMin;
  const std::vector<uint8_t>* segments = nullptr;  // membership by segment index
  // When set, lowered to the earliest future time at which the result could change without any
  // new event (a window sliding past an event, `now` crossing a threshold).
  Time* next_change = nullptr;
};

enum class Op : uint8_t {
  kLiteral,
  kList,
  kNow,
  kPath,
  kAdd,
  kSub,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kIn,
  kContains,
  kStartsWith,
  kEndsWith,
  kExists,
  kAnd,
  kOr,
  kNot,
  kCount,
  kDid,
  kLast,
  kInSegment,
};
enum class Root : uint8_t { kNone, kEvent, kTrigger, kProfile, kLastMessage };

// Fields with a fixed meaning; kPath means "walk `parts` under the root's property bag".
enum class Field : uint8_t {
  kPath,
  kName,
  kType,
  kUserId,
  kAnonymousId,
  kMessageId,
  kTimestamp,
  kTraits,
  kProfileId,
  kTimezone,
  kFirstSeen,
  kLastSeen,
  kEventCount,
  kOrderCount,
  kRevenue,
  kLastOrderAt,
  kLastMessageId,  // last_message.id, .channel, .step, .sent_at
  kChannel,
  kStep,
  kSentAt,
};

// One compiled node. Children are indices into the owning Expr's node array.
struct Node {
  Op op = Op::kLiteral;
  Type type = Type::kUnknown;
  Root root = Root::kNone;
  Field field = Field::kPath;
  bool since_entry = false;
  int32_t a = -1, b = -1;  // operands; for history functions `a` is the where clause
  uint32_t first_part = 0, num_parts = 0;  // path segments in Expr::strings_
  uint32_t str = 0;                        // string literal / event name index in Expr::strings_
  uint32_t constant = 0;                   // list literal index in Expr::constants_
  double num = 0;                          // number literal; segment index for kInSegment
  bool boolean = false;
  Time time{};
  Duration dur{};     // duration literal; `within` for history functions
  size_t offset = 0;  // source position, for messages
};

class Expr {
 public:
  Expr() = default;

  // Compiles `text`. On failure returns a Status and, when `error` is set, the offset and message.
  static Result<Expr> Compile(std::string_view text, const CompileEnv& env,
                              CompileError* error = nullptr);

  bool empty() const { return nodes_.empty(); }
  Type type() const;
  const std::string& text() const { return text_; }

  // Evaluates as a condition: true only for a boolean true result. An empty Expr is true.
  bool Test(const EvalContext& ctx) const;
  // Evaluates to a value; the result may point into the context.
  Operand Eval(const EvalContext& ctx) const;
  // Evaluates and renders the result as text ("" when missing), for keys and traces.
  std::string EvalText(const EvalContext& ctx) const;

  // Event names this expression counts in history, with the longest window asked for each
  // (Duration::max() when unbounded).
  const std::vector<HistoryPolicy::Rule>& history_needs() const { return history_needs_; }

  // Adds to `names` the first-level trigger properties the expression reads (`trigger.cart_id`
  // adds "cart_id"); sets `*all` when it reads the trigger's properties or traits as a whole.
  void CollectTriggerProperties(std::vector<std::string>* names, bool* all) const;
  // True when the expression reads `now` or a windowed history function (needs re-evaluation
  // as time passes).
  bool time_dependent() const { return time_dependent_; }
  // True when the expression reads profile traits or computed attributes / segment membership.
  bool reads_profile() const { return reads_profile_; }
  bool reads_segments() const { return reads_segments_; }

  // The values the expression looked at, for traces: "event.price = 35.79, profile.tier =
  // (missing)".
  std::string Explain(const EvalContext& ctx) const;

 private:
  friend class Parser;
  friend class Evaluator;

  std::string text_;
  std::vector<Node> nodes_;
  std::vector<Value> constants_;  // list literals
  std::vector<std::string> strings_;
  std::vector<HistoryPolicy::Rule> history_needs_;
  bool time_dependent_ = false;
  bool reads_profile_ = false;
  bool reads_segments_ = false;
};

// Renders an operand as text (used in traces and for journey keys).
std::string OperandText(const Operand& op);

}  // namespace waymark::expr
