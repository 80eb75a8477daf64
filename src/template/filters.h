// The filter library: lookup by name at parse time, application at render time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"
#include "template/datum.h"
#include "template/template.h"

namespace waymark::tmpl {

enum class FilterId : uint8_t {
  kAbs,
  kAppend,
  kAtLeast,
  kAtMost,
  kCapitalize,
  kCeil,
  kCompact,
  kConcat,
  kDate,
  kDefault,
  kDividedBy,
  kDowncase,
  kEscape,
  kEscapeOnce,
  kFirst,
  kFloor,
  kJoin,
  kJson,
  kLast,
  kLstrip,
  kMap,
  kMinus,
  kModulo,
  kMoney,
  kNewlineToBr,
  kPlus,
  kPrepend,
  kRemove,
  kRemoveFirst,
  kRemoveLast,
  kReplace,
  kReplaceFirst,
  kReplaceLast,
  kReverse,
  kRound,
  kRstrip,
  kSize,
  kSlice,
  kSort,
  kSortNatural,
  kSplit,
  kStrip,
  kStripHtml,
  kStripNewlines,
  kSum,
  kTimes,
  kTruncate,
  kTruncatewords,
  kUniq,
  kUpcase,
  kUrlDecode,
  kUrlEncode,
  kWhere,
  kReject,
};

// No filter takes more positional arguments than this.
inline constexpr size_t kMaxFilterArgs = 2;

struct FilterSpec {
  FilterId id;
  uint8_t min_args;
  uint8_t max_args;
};

// The filter called `name`, or nullopt when there is none.
std::optional<FilterSpec> FindFilter(std::string_view name);

struct FilterEnv {
  Arena* arena;
  const RenderOptions* opts;
};

// Positional arguments and the named ones we understand (`allow_false` of default).
struct FilterArgs {
  const Datum* pos;
  size_t count;
  bool allow_false = false;

  // The i-th positional argument, or nil when absent.
  Datum at(size_t i) const { return i < count ? pos[i] : Datum::Nil(); }
  bool has(size_t i) const { return i < count; }
};

// Applies filter `id` to `input`. A non-OK Status is a render error whose message names the
// filter and the problem ("divided_by: division by zero").
Status ApplyFilter(FilterId id, const Datum& input, const FilterArgs& args, FilterEnv& env,
                   Datum* result);

// Whether filter `id` builds its result as new text (escape, upcase, money, date, ...), which
// AppendFilter can then write straight into the output.
inline bool AppendsText(FilterId id) {
  constexpr FilterId kAppending[] = {
      FilterId::kAppend,       FilterId::kCapitalize,    FilterId::kDate,
      FilterId::kDowncase,     FilterId::kEscape,        FilterId::kEscapeOnce,
      FilterId::kMoney,        FilterId::kNewlineToBr,   FilterId::kPrepend,
      FilterId::kRemove,       FilterId::kRemoveFirst,   FilterId::kRemoveLast,
      FilterId::kReplace,      FilterId::kReplaceFirst,  FilterId::kReplaceLast,
      FilterId::kStripHtml,    FilterId::kStripNewlines, FilterId::kUpcase,
      FilterId::kUrlDecode,    FilterId::kUrlEncode,
  };
  constexpr uint64_t kMask = [&] {
    uint64_t mask = 0;
    for (FilterId f : kAppending) mask |= uint64_t{1} << static_cast<unsigned>(f);
    return mask;
  }();
  auto bit = static_cast<unsigned>(id);
  return bit < 64 && ((kMask >> bit) & 1) != 0;
}

// For a filter where AppendsText(id): appends to *out the text that printing ApplyFilter's result
// would, without making the result first. `input` and `args` must not point into *out. On a render
// error returns it, with *out possibly holding part of the text.
Status AppendFilter(FilterId id, const Datum& input, const FilterArgs& args, FilterEnv& env,
                    std::string* out);

// Families, one file each.
Status ApplyStringFilter(FilterId id, const Datum& input, const FilterArgs& args, FilterEnv& env,
                         Datum* result);
Status ApplyArrayFilter(FilterId id, const Datum& input, const FilterArgs& args, FilterEnv& env,
                        Datum* result);
Status ApplyMathFilter(FilterId id, const Datum& input, const FilterArgs& args, FilterEnv& env,
                       Datum* result);
Status ApplyDateFilter(const Datum& input, const FilterArgs& args, FilterEnv& env, Datum* result);
// The AppendFilter halves of the families.
Status AppendStringFilter(FilterId id, const Datum& input, const FilterArgs& args, FilterEnv& env,
                          std::string* out);
Status AppendMoney(const Datum& input, const FilterArgs& args, FilterEnv& env, std::string* out);
Status AppendDate(const Datum& input, const FilterArgs& args, FilterEnv& env, std::string* out);

// The string form liquidjs filters work on (stringify): nil is "", numbers as JavaScript prints
// them. Returns a view into the input when it already is a string, else into the arena.
std::string_view Stringify(const Datum& d, Arena* arena);

}  // namespace waymark::tmpl
