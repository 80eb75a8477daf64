#include "template/filters.h"

#include <algorithm>
#include <array>

namespace waymark::tmpl {

namespace {

struct NamedFilter {
  std::string_view name;
  FilterSpec spec;
};

// Sorted by name for binary search.
constexpr NamedFilter kFilters[] = {
    {"abs", {FilterId::kAbs, 0, 0}},
    {"append", {FilterId::kAppend, 1, 1}},
    {"at_least", {FilterId::kAtLeast, 1, 1}},
    {"at_most", {FilterId::kAtMost, 1, 1}},
    {"capitalize", {FilterId::kCapitalize, 0, 0}},
    {"ceil", {FilterId::kCeil, 0, 0}},
    {"compact", {FilterId::kCompact, 0, 0}},
    {"concat", {FilterId::kConcat, 1, 1}},
    {"date", {FilterId::kDate, 0, 1}},
    {"default", {FilterId::kDefault, 0, 1}},
    {"divided_by", {FilterId::kDividedBy, 1, 2}},
    {"downcase", {FilterId::kDowncase, 0, 0}},
    {"escape", {FilterId::kEscape, 0, 0}},
    {"escape_once", {FilterId::kEscapeOnce, 0, 0}},
    {"first", {FilterId::kFirst, 0, 0}},
    {"floor", {FilterId::kFloor, 0, 0}},
    {"join", {FilterId::kJoin, 0, 1}},
    {"json", {FilterId::kJson, 0, 0}},
    {"last", {FilterId::kLast, 0, 0}},
    {"lstrip", {FilterId::kLstrip, 0, 1}},
    {"map", {FilterId::kMap, 1, 1}},
    {"minus", {FilterId::kMinus, 1, 1}},
    {"modulo", {FilterId::kModulo, 1, 1}},
    {"money", {FilterId::kMoney, 0, 1}},
    {"newline_to_br", {FilterId::kNewlineToBr, 0, 0}},
    {"plus", {FilterId::kPlus, 1, 1}},
    {"prepend", {FilterId::kPrepend, 1, 1}},
    {"reject", {FilterId::kReject, 1, 2}},
    {"remove", {FilterId::kRemove, 1, 1}},
    {"remove_first", {FilterId::kRemoveFirst, 1, 1}},
    {"remove_last", {FilterId::kRemoveLast, 1, 1}},
    {"replace", {FilterId::kReplace, 1, 2}},
    {"replace_first", {FilterId::kReplaceFirst, 1, 2}},
    {"replace_last", {FilterId::kReplaceLast, 1, 2}},
    {"reverse", {FilterId::kReverse, 0, 0}},
    {"round", {FilterId::kRound, 0, 1}},
    {"rstrip", {FilterId::kRstrip, 0, 1}},
    {"size", {FilterId::kSize, 0, 0}},
    {"slice", {FilterId::kSlice, 1, 2}},
    {"sort", {FilterId::kSort, 0, 1}},
    {"sort_natural", {FilterId::kSortNatural, 0, 1}},
    {"split", {FilterId::kSplit, 1, 1}},
    {"strip", {FilterId::kStrip, 0, 1}},
    {"strip_html", {FilterId::kStripHtml, 0, 0}},
    {"strip_newlines", {FilterId::kStripNewlines, 0, 0}},
    {"sum", {FilterId::kSum, 0, 1}},
    {"times", {FilterId::kTimes, 1, 1}},
    {"truncate", {FilterId::kTruncate, 0, 2}},
    {"truncatewords", {FilterId::kTruncatewords, 0, 2}},
    {"uniq", {FilterId::kUniq, 0, 0}},
    {"upcase", {FilterId::kUpcase, 0, 0}},
    {"url_decode", {FilterId::kUrlDecode, 0, 0}},
    {"url_encode", {FilterId::kUrlEncode, 0, 0}},
    {"where", {FilterId::kWhere, 1, 2}},
    {"xml_escape", {FilterId::kEscape, 0, 0}},
};

}  // namespace

std::optional<FilterSpec> FindFilter(std::string_view name) {
  auto it = std::lower_bound(std::begin(kFilters), std::end(kFilters), name,
                             [](const NamedFilter& f, std::string_view n) { return f.name < n; });
  if (it == std::end(kFilters) || it->name != name) return std::nullopt;
  return it->spec;
}

std::string_view Stringify(const Datum& d, Arena* arena) {
  if (d.is_string()) return d.str;
  if (d.is_nil()) return {};
  std::string* s = arena->NewString();
  AppendText(d, s);
  return *s;
}

Status ApplyFilter(FilterId id, const Datum& input, const FilterArgs& args, FilterEnv& env,
                   Datum* result) {
  switch (id) {
    case FilterId::kAbs:
    case FilterId::kAtLeast:
    case FilterId::kAtMost:
    case FilterId::kCeil:
    case FilterId::kDividedBy:
    case FilterId::kFloor:
    case FilterId::kMinus:
    case FilterId::kModulo:
    case FilterId::kMoney:
    case FilterId::kPlus:
    case FilterId::kRound:
    case FilterId::kTimes:
      return ApplyMathFilter(id, input, args, env, result);
    case FilterId::kCompact:
    case FilterId::kConcat:
    case FilterId::kFirst:
    case FilterId::kJoin:
    case FilterId::kJson:
    case FilterId::kLast:
    case FilterId::kMap:
    case FilterId::kReject:
    case FilterId::kReverse:
    case FilterId::kSize:
    case FilterId::kSlice:
    case FilterId::kSort:
    case FilterId::kSortNatural:
    case FilterId::kSum:
    case FilterId::kUniq:
    case FilterId::kWhere:
      return ApplyArrayFilter(id, input, args, env, result);
    case FilterId::kDate:
      return ApplyDateFilter(input, args, env, result);
    default:
      return ApplyStringFilter(id, input, args, env, result);
  }
}

Status AppendFilter(FilterId id, const Datum& input, const FilterArgs& args, FilterEnv& env,
                    std::string* out) {
  switch (id) {
    case FilterId::kMoney:
      return AppendMoney(input, args, env, out);
    case FilterId::kDate:
      return AppendDate(input, args, env, out);
    default:
      return AppendStringFilter(id, input, args, env, out);
  }
}

}  // namespace waymark::tmpl
