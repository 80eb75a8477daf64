// String filters. Each takes the input as liquidjs's stringify would (nil is "") and follows the
// JavaScript string operation liquidjs uses.
#include <array>
#include <cmath>
#include <limits>
#include <set>

#include "template/filters.h"
#include "template/text.h"

namespace waymark::tmpl {

namespace {

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// The characters escape replaces, as a table: a lookup per byte instead of five compares.
constexpr auto kHtmlSpecial = [] {
  std::array<bool, 256> table{};
  for (unsigned char c : std::string_view("<>\"'&")) table[c] = true;
  return table;
}();

bool IsHtmlSpecial(char c) { return kHtmlSpecial[static_cast<unsigned char>(c)]; }

std::string* Out(FilterEnv& env, Datum* result) {
  std::string* s = env.arena->NewString();
  *result = Datum::String({});
  return s;
}

void Finish(std::string* s, Datum* result) { *result = Datum::String(*s); }

// Appends `str` with every `from` replaced by `to` (all, or only the first/last occurrence).
enum class Which { kAll, kFirst, kLast };
void ReplaceInto(std::string_view str, std::string_view from, std::string_view to, Which which,
                 std::string* out) {
  if (from.empty()) {
    // JavaScript: "abc".split("").join(x) puts x between characters; replace("", x) prepends;
    // lastIndexOf("") is the end.
    if (which == Which::kFirst) out->append(to);
    for (size_t i = 0; i < str.size();) {
      size_t next = AdvanceCodePoints(str, i, 1);
      if (which == Which::kAll && i > 0) out->append(to);
      out->append(str.substr(i, next - i));
      i = next;
    }
    if (which == Which::kLast) out->append(to);
    return;
  }
  size_t at = which == Which::kLast ? str.rfind(from) : str.find(from);
  size_t pos = 0;
  while (at != std::string_view::npos) {
    out->append(str.substr(pos, at - pos));
    out->append(to);
    pos = at + from.size();
    at = which == Which::kAll ? str.find(from, pos) : std::string_view::npos;
  }
  out->append(str.substr(pos));
}

void Strip(std::string_view str, const Datum& chars_arg, bool left, bool right, Arena* arena,
           Datum* result) {
  std::string_view chars = Stringify(chars_arg, arena);
  if (chars.empty()) {
    *result = Datum::String(JsTrim(str, left, right));
    return;
  }
  auto in_set = [&](size_t pos, size_t len) {
    std::string_view c = str.substr(pos, len);
    for (size_t i = 0; i < chars.size();) {
      size_t n = AdvanceCodePoints(chars, i, 1) - i;
      if (chars.substr(i, n) == c) return true;
      i += n;
    }
    return false;
  };
  size_t begin = 0, end = str.size();
  while (left && begin < end) {
    size_t n = AdvanceCodePoints(str, begin, 1) - begin;
    if (!in_set(begin, n)) break;
    begin += n;
  }
  while (right && end > begin) {
    size_t start = end - 1;
    while (start > begin && (static_cast<unsigned char>(str[start]) & 0xC0) == 0x80) --start;
    if (!in_set(start, end - start)) break;
    end = start;
  }
  *result = Datum::String(str.substr(begin, end - begin));
}

void Escape(std::string_view str, bool once, std::string* out) {
  for (size_t i = 0; i < str.size(); ++i) {
    size_t plain = i;
    while (plain < str.size() && !IsHtmlSpecial(str[plain])) ++plain;
    out->append(str.substr(i, plain - i));
    i = plain;
    if (i == str.size()) break;
    char c = str[i];
    switch (c) {
      case '<':
        out->append("&lt;");
        continue;
      case '>':
        out->append("&gt;");
        continue;
      case '"':
        out->append("&#34;");
        continue;
      case '\'':
        out->append("&#39;");
        continue;
      case '&':
        break;
      default:
        out->push_back(c);
        continue;
    }
    // escape_once leaves existing entities (&name; and &#123;) alone.
    size_t j = i + 1;
    if (once && j < str.size() && str[j] == '#') {
      ++j;
      while (j < str.size() && str[j] >= '0' && str[j] <= '9') ++j;
      if (j > i + 2 && j < str.size() && str[j] == ';') {
        out->push_back('&');
        continue;
      }
    } else if (once) {
      while (j < str.size() && ((str[j] | 0x20) >= 'a' && (str[j] | 0x20) <= 'z')) ++j;
      if (j > i + 1 && j < str.size() && str[j] == ';') {
        out->push_back('&');
        continue;
      }
    }
    out->append("&amp;");
  }
}

void UrlEncode(std::string_view str, std::string* out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (char ch : str) {
    unsigned char c = static_cast<unsigned char>(ch);
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_' || c == '.' || c == '!' || c == '~' || c == '*' || c == '\'' ||
                c == '(' || c == ')';
    if (keep) {
      out->push_back(ch);
    } else if (c == ' ') {
      out->push_back('+');
    } else {
      out->push_back('%');
      out->push_back(kHex[c >> 4]);
      out->push_back(kHex[c & 15]);
    }
  }
}

void UrlDecode(std::string_view str, std::string* out) {
  auto hex = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    c = static_cast<char>(c | 0x20);
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
  };
  for (size_t i = 0; i < str.size(); ++i) {
    if (str[i] == '+') {
      out->push_back(' ');
    } else if (str[i] == '%' && i + 2 < str.size() + 0 && hex(str[i + 1]) >= 0 &&
               hex(str[i + 2]) >= 0) {
      out->push_back(static_cast<char>(hex(str[i + 1]) * 16 + hex(str[i + 2])));
      i += 2;
    } else {
      out->push_back(str[i]);
    }
  }
}

void NewlineToBr(std::string_view str, bool keep_newline, std::string* out) {
  for (size_t i = 0; i < str.size(); ++i) {
    if (str[i] == '\r' && i + 1 < str.size() && str[i + 1] == '\n') continue;
    if (str[i] != '\n') {
      out->push_back(str[i]);
    } else if (keep_newline) {
      out->append("<br />\n");
    }
  }
}

// Drops <script>…</script>, <style>…</style>, <!--…--> and <…>, as liquidjs does; an opener
// without its closer keeps the rest of the text.
void StripHtml(std::string_view str, std::string* out) {
  struct Pair {
    std::string_view open, close;
  };
  static constexpr Pair kBlocks[] = {
      {"<script", "</script>"}, {"<style", "</style>"}, {"<!--", "-->"}, {"<", ">"}};
  bool live[4] = {true, true, true, true};
  size_t i = 0;
  while (i < str.size()) {
    size_t lt = str.find('<', i);
    if (lt == std::string_view::npos) break;
    out->append(str.substr(i, lt - i));
    for (int b = 0; b < 4; ++b) {
      if (!live[b] || str.substr(lt, kBlocks[b].open.size()) != kBlocks[b].open) continue;
      size_t e = str.find(kBlocks[b].close, lt + kBlocks[b].open.size());
      if (e != std::string_view::npos) {
        i = e + kBlocks[b].close.size();
        break;
      }
      live[b] = false;
    }
    if (i <= lt) {
      out->append(str.substr(lt));
      return;
    }
  }
  if (i < str.size()) out->append(str.substr(i));
}

// How many times JavaScript's `for (i = 0; i < n; i++)` runs: n rounded up, none for NaN.
size_t JsLoopCount(double n) {
  if (!(n > 0)) return 0;
  return n >= 1e18 ? std::numeric_limits<size_t>::max() : static_cast<size_t>(std::ceil(n));
}

// liquidjs's truncate: `l` is compared and counted as JavaScript does with whatever it is, so a
// fractional length keeps a character more ("abc" | truncate: 2.5 stays "abc").
void Truncate(const Datum& input, std::string_view str, const FilterArgs& args, FilterEnv& env,
              Datum* result) {
  double l = args.has(0) && args.at(0).kind != Datum::Kind::kNil ? JsToNumber(args.at(0)) : 50;
  std::string_view ellipsis =
      args.at(1).kind != Datum::Kind::kNil ? Stringify(args.at(1), env.arena) : "...";
  if (static_cast<double>(Utf16Length(str)) <= l ||
      AdvanceCodePoints(str, 0, JsLoopCount(l)) >= str.size()) {
    *result = input;
    return;
  }
  double keep = std::max(l - static_cast<double>(CodePointLength(ellipsis)), 0.0);
  std::string* s = Out(env, result);
  s->append(str.substr(0, AdvanceCodePoints(str, 0, JsLoopCount(keep))));
  s->append(ellipsis);
  Finish(s, result);
}

// liquidjs's truncatewords: a count that is not a number keeps no words (the ellipsis alone).
void TruncateWords(std::string_view str, const FilterArgs& args, FilterEnv& env, Datum* result) {
  double words = args.has(0) && args.at(0).kind != Datum::Kind::kNil ? JsToNumber(args.at(0)) : 15;
  std::string_view ellipsis =
      args.at(1).kind != Datum::Kind::kNil ? Stringify(args.at(1), env.arena) : "...";
  if (words <= 0) words = 1;
  size_t limit = JsLoopCount(std::floor(words));
  std::string* s = Out(env, result);
  size_t kept = 0, pos = 0;
  while (kept < limit) {
    while (pos < str.size() && JsSpaceAt(str, pos) > 0) pos += JsSpaceAt(str, pos);
    if (pos >= str.size()) break;
    size_t start = pos;
    while (pos < str.size() && JsSpaceAt(str, pos) == 0) pos = AdvanceCodePoints(str, pos, 1);
    if (kept++ > 0) s->push_back(' ');
    s->append(str.substr(start, pos - start));
  }
  if (kept < limit || pos >= str.size()) {
    *result = Datum::String(str);
    return;
  }
  s->append(ellipsis);
  Finish(s, result);
}

void Split(std::string_view str, std::string_view sep, Arena* arena, Datum* result) {
  DatumList* parts = arena->NewList();
  *result = Datum::Array(parts);
  if (sep == " ") {
    // Ruby's split(" "): runs of ASCII whitespace, ignoring leading and trailing ones.
    size_t i = 0;
    while (i < str.size()) {
      while (i < str.size() && IsAsciiSpace(str[i])) ++i;
      size_t start = i;
      while (i < str.size() && !IsAsciiSpace(str[i])) ++i;
      if (i > start) parts->push_back(Datum::String(str.substr(start, i - start)));
    }
    return;
  }
  if (sep.empty()) {
    for (size_t i = 0; i < str.size();) {
      size_t next = AdvanceCodePoints(str, i, 1);
      parts->push_back(Datum::String(str.substr(i, next - i)));
      i = next;
    }
    return;
  }
  size_t pos = 0;
  while (true) {
    size_t at = str.find(sep, pos);
    parts->push_back(Datum::String(str.substr(pos, at == std::string_view::npos ? at : at - pos)));
    if (at == std::string_view::npos) break;
    pos = at + sep.size();
  }
  while (!parts->empty() && parts->back().str.empty()) parts->pop_back();
}

void Capitalize(std::string_view str, std::string* out) {
  if (str.empty()) return;
  size_t first = AdvanceCodePoints(str, 0, 1);
  AppendUpper(str.substr(0, first), out);
  AppendLower(str.substr(first), out);
}

void Default(const Datum& input, const FilterArgs& args, Datum* result) {
  bool use_default;
  if (input.kind == Datum::Kind::kEmpty || input.kind == Datum::Kind::kBlank) {
    use_default = true;  // liquidjs's toValue makes both drops "".
  } else if (input.is_string() || input.is_listlike()) {
    use_default = input.is_string() ? input.str.empty() : ListSize(input) == 0;
  } else if (input.kind == Datum::Kind::kBool && !input.boolean && args.allow_false) {
    use_default = false;
  } else {
    use_default = !input.truthy();
  }
  *result = use_default ? args.at(0) : input;
}

// The filters whose result is text built from scratch (AppendsText): appends it to *out.
Status AppendFromString(FilterId id, std::string_view str, const FilterArgs& args, FilterEnv& env,
                        std::string* out) {
  switch (id) {
    case FilterId::kAppend:
      out->append(str);
      out->append(Stringify(args.at(0), env.arena));
      break;
    case FilterId::kPrepend:
      out->append(Stringify(args.at(0), env.arena));
      out->append(str);
      break;
    case FilterId::kUpcase:
      AppendUpper(str, out);
      break;
    case FilterId::kDowncase:
      AppendLower(str, out);
      break;
    case FilterId::kCapitalize:
      Capitalize(str, out);
      break;
    case FilterId::kEscape:
      Escape(str, false, out);
      break;
    case FilterId::kEscapeOnce:
      Escape(str, true, out);
      break;
    case FilterId::kUrlEncode:
      UrlEncode(str, out);
      break;
    case FilterId::kUrlDecode:
      UrlDecode(str, out);
      break;
    case FilterId::kNewlineToBr:
      NewlineToBr(str, true, out);
      break;
    case FilterId::kStripNewlines:
      NewlineToBr(str, false, out);
      break;
    case FilterId::kStripHtml:
      StripHtml(str, out);
      break;
    case FilterId::kReplace:
    case FilterId::kReplaceFirst:
    case FilterId::kReplaceLast:
    case FilterId::kRemove:
    case FilterId::kRemoveFirst:
    case FilterId::kRemoveLast: {
      bool remove =
          id == FilterId::kRemove || id == FilterId::kRemoveFirst || id == FilterId::kRemoveLast;
      Which which = (id == FilterId::kReplace || id == FilterId::kRemove) ? Which::kAll
                    : (id == FilterId::kReplaceFirst || id == FilterId::kRemoveFirst)
                        ? Which::kFirst
                        : Which::kLast;
      std::string_view from = Stringify(args.at(0), env.arena);
      std::string_view to = remove ? std::string_view() : Stringify(args.at(1), env.arena);
      if (remove && from.empty()) {
        out->append(str);  // Removing "" changes nothing.
      } else {
        ReplaceInto(str, from, to, which, out);
      }
      break;
    }
    default:
      return Status::Internal("filter is not a string filter");
  }
  return Status::Ok();
}

}  // namespace

Status ApplyStringFilter(FilterId id, const Datum& input, const FilterArgs& args, FilterEnv& env,
                         Datum* result) {
  if (id == FilterId::kDefault) {
    Default(input, args, result);
    return Status::Ok();
  }
  std::string_view str = Stringify(input, env.arena);
  switch (id) {
    case FilterId::kStrip:
      Strip(str, args.at(0), true, true, env.arena, result);
      break;
    case FilterId::kLstrip:
      Strip(str, args.at(0), true, false, env.arena, result);
      break;
    case FilterId::kRstrip:
      Strip(str, args.at(0), false, true, env.arena, result);
      break;
    case FilterId::kTruncate:
      Truncate(input, str, args, env, result);
      break;
    case FilterId::kTruncatewords:
      TruncateWords(str, args, env, result);
      break;
    case FilterId::kSplit:
      Split(str, Stringify(args.at(0), env.arena), env.arena, result);
      break;
    default: {
      std::string* s = Out(env, result);
      WAYMARK_RETURN_IF_ERROR(AppendFromString(id, str, args, env, s));
      Finish(s, result);
    }
  }
  return Status::Ok();
}

Status AppendStringFilter(FilterId id, const Datum& input, const FilterArgs& args, FilterEnv& env,
                          std::string* out) {
  return AppendFromString(id, Stringify(input, env.arena), args, env, out);
}

}  // namespace waymark::tmpl
