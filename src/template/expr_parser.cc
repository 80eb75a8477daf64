// Expressions inside {{ }} and tag arguments, with liquidjs's grammar and precedence:
// comparisons bind tighter than `not`, which binds tighter than `and`/`or`; `and` and `or` share
// one precedence and group from the right.
#include <charconv>
#include <string>

#include "template/parser.h"
#include "template/text.h"

namespace waymark::tmpl {

void Parser::StartMarkup(std::string_view markup, uint32_t offset) {
  pos_ = offset;
  end_ = offset + markup.size();
}

void Parser::SkipBlanks() {
  while (pos_ < end_ && IsBlank(src_[pos_])) ++pos_;
}

bool Parser::AtKeyword(std::string_view word) const {
  return src_.substr(pos_, word.size()) == word && pos_ + word.size() <= end_ &&
         (pos_ + word.size() == end_ || !IsWordChar(src_[pos_ + word.size()]));
}

std::string_view Parser::ReadIdentifier() {
  SkipBlanks();
  size_t begin = pos_;
  while (pos_ < end_ && IsWordChar(src_[pos_])) ++pos_;
  return src_.substr(begin, pos_ - begin);
}

int32_t Parser::AddExpr(const Expr& e) {
  impl_->exprs.push_back(e);
  return static_cast<int32_t>(impl_->exprs.size() - 1);
}

bool Parser::ExpectEnd() {
  if (AtEnd()) return true;
  return Fail(pos_, "unexpected '" + std::string(src_.substr(pos_, end_ - pos_)) + "'");
}

bool Parser::ParseFilteredExpr(FilteredExpr* out) {
  if (!ParseExpr(&out->expr)) return false;
  out->filter_begin = static_cast<uint32_t>(impl_->filters.size());
  while (!AtEnd() && Peek() == '|') {
    ++pos_;
    if (!ParseFilter()) return false;
  }
  out->filter_count = static_cast<uint32_t>(impl_->filters.size()) - out->filter_begin;
  return true;
}

bool Parser::ParseExpr(int32_t* out) {
  int32_t lhs;
  if (!ParseNot(&lhs)) return false;
  SkipBlanks();
  bool is_and = AtKeyword("and");
  if (!is_and && !AtKeyword("or")) {
    *out = lhs;
    return true;
  }
  pos_ += is_and ? 3 : 2;
  int32_t rhs;
  if (!ParseExpr(&rhs)) return false;
  Expr e;
  e.kind = is_and ? ExprKind::kAnd : ExprKind::kOr;
  e.lhs = lhs;
  e.rhs = rhs;
  *out = AddExpr(e);
  return true;
}

bool Parser::ParseNot(int32_t* out) {
  SkipBlanks();
  if (!AtKeyword("not")) return ParseComparison(out);
  pos_ += 3;
  Expr e;
  e.kind = ExprKind::kNot;
  if (!ParseNot(&e.lhs)) return false;
  *out = AddExpr(e);
  return true;
}

bool Parser::ParseComparison(int32_t* out) {
  int32_t lhs;
  if (!ParseValue(&lhs)) return false;
  SkipBlanks();
  struct Op {
    std::string_view text;
    ExprKind kind;
  };
  static constexpr Op kOps[] = {
      {"==", ExprKind::kEq}, {"!=", ExprKind::kNe}, {"<=", ExprKind::kLe},
      {">=", ExprKind::kGe}, {"<", ExprKind::kLt},  {">", ExprKind::kGt},
  };
  const Op* found = nullptr;
  for (const Op& op : kOps) {
    if (src_.substr(pos_, op.text.size()) == op.text && pos_ + op.text.size() <= end_) {
      found = &op;
      break;
    }
  }
  static constexpr Op kContains{"contains", ExprKind::kContains};
  if (found == nullptr && AtKeyword("contains")) found = &kContains;
  if (found == nullptr) {
    *out = lhs;
    return true;
  }
  pos_ += found->text.size();
  Expr e;
  e.kind = found->kind;
  e.lhs = lhs;
  if (!ParseComparison(&e.rhs)) return false;
  *out = AddExpr(e);
  return true;
}

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(c | 0x20);
  return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

// liquidjs's escapes: \b \f \n \r \t \v, \u and four hex digits, octal \NNN, and \c for
// any other c.
void Unescape(std::string_view s, std::string* out) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 >= s.size()) {
      out->push_back(s[i]);
      continue;
    }
    char c = s[++i];
    static constexpr std::string_view kFrom = "bfnrtv", kTo = "\b\f\n\r\t\v";
    if (size_t k = kFrom.find(c); k != std::string_view::npos) {
      out->push_back(kTo[k]);
    } else if (c == 'u' || (c >= '0' && c <= '7')) {
      bool hex = c == 'u';
      size_t j = hex ? i + 1 : i, limit = hex ? i + 5 : i + 3;
      uint32_t v = 0;
      for (; j < limit && j < s.size(); ++j) {
        int d = HexValue(s[j]);
        if (d < 0 || (!hex && d > 7)) break;
        v = v * (hex ? 16 : 8) + static_cast<uint32_t>(d);
      }
      AppendUtf8(v, out);
      i = j - 1;
    } else {
      out->push_back(c);
    }
  }
}

}  // namespace

bool Parser::ParseQuoted(std::string_view* out) {
  char quote = src_[pos_];
  size_t close = pos_ + 1;
  bool escaped = false;
  while (close < end_ && (src_[close] != quote || escaped)) {
    escaped = !escaped && src_[close] == '\\';
    ++close;
  }
  if (close >= end_) return Fail(pos_, "unterminated string");
  std::string_view body = src_.substr(pos_ + 1, close - pos_ - 1);
  if (body.find('\\') == std::string_view::npos) {
    *out = body;
  } else {
    std::string& text = impl_->unescaped.emplace_back();
    Unescape(body, &text);
    *out = text;
  }
  pos_ = close + 1;
  return true;
}

// Numbers as liquidjs reads them: an optional sign, digits, at most one '.', and no word character
// right after. Returns false without an error when the text is not a number.
bool Parser::ParseNumber(int32_t* out) {
  size_t p = pos_;
  if (p < end_ && (src_[p] == '-' || src_[p] == '+')) ++p;
  bool digits = false, dot = false;
  while (p < end_) {
    char c = src_[p];
    if (c >= '0' && c <= '9') {
      digits = true;
    } else if (c == '.' && !(p + 1 < end_ && src_[p + 1] == '.')) {
      if (dot || !digits) return false;
      dot = true;
    } else {
      break;
    }
    ++p;
  }
  if (!digits || (p < end_ && IsWordChar(src_[p]))) return false;
  std::string_view text = src_.substr(pos_, p - pos_);
  if (text.front() == '+') text.remove_prefix(1);
  double v = 0;
  std::from_chars(text.data(), text.data() + text.size(), v);
  Expr e;
  e.literal = Datum::Number(v);
  *out = AddExpr(e);
  pos_ = p;
  return true;
}

bool Parser::ParseRange(int32_t* out) {
  size_t open = pos_++;
  Expr e;
  e.kind = ExprKind::kRange;
  if (!ParseValue(&e.lhs)) return false;
  SkipBlanks();
  if (src_.substr(pos_, 2) != "..") return Fail(open, "invalid range; expected (start..end)");
  pos_ += 2;
  if (!ParseValue(&e.rhs)) return false;
  SkipBlanks();
  if (Peek() != ')') return Fail(open, "invalid range; expected (start..end)");
  ++pos_;
  *out = AddExpr(e);
  return true;
}

bool Parser::ParseValue(int32_t* out) {
  SkipBlanks();
  if (pos_ >= end_) return Fail(pos_, "expected a value");
  size_t start = pos_;
  char c = src_[pos_];
  int32_t base = -1;
  struct Keyword {
    std::string_view word;
    Datum::Kind kind;
    bool value;
  };
  static constexpr Keyword kKeywords[] = {
      {"true", Datum::Kind::kBool, true},       {"false", Datum::Kind::kBool, false},
      {"nil", Datum::Kind::kNilLiteral, false}, {"null", Datum::Kind::kNilLiteral, false},
      {"empty", Datum::Kind::kEmpty, false},    {"blank", Datum::Kind::kBlank, false},
  };
  for (const Keyword& k : kKeywords) {
    if (!AtKeyword(k.word)) continue;
    Expr e;
    e.literal.kind = k.kind;
    e.literal.boolean = k.value;
    pos_ += k.word.size();
    base = AddExpr(e);
    break;
  }
  if (base < 0 && (c == '"' || c == '\'')) {
    Expr e;
    std::string_view s;
    if (!ParseQuoted(&s)) return false;
    e.literal = Datum::String(s);
    base = AddExpr(e);
  }
  if (base < 0 && c == '(' && !ParseRange(&base)) return false;
  if (base < 0) ParseNumber(&base);  // Leaves base negative when the text is not a number.

  Expr path;
  path.step_begin = static_cast<uint32_t>(impl_->steps.size());
  if (base >= 0) {
    path.kind = ExprKind::kPath;
    path.lhs = base;
  } else {
    path.kind = ExprKind::kVariable;
    path.name = ReadIdentifier();
    if (path.name.empty() && Peek() != '[') {
      return Fail(start, "unexpected '" + std::string(1, c) + "'; expected a value");
    }
  }
  if (!ParseProperties(&path)) return false;
  if (path.kind == ExprKind::kPath && path.step_count == 0) {
    *out = base;
    return true;
  }
  RecordVariable(path);
  *out = AddExpr(path);
  return true;
}

bool Parser::ParseProperties(Expr* e) {
  while (pos_ < end_) {
    PathStep step;
    if (src_[pos_] == '.' && Peek(1) != '.') {
      ++pos_;
      step.key = ReadIdentifier();
      if (step.key.empty()) return Fail(pos_, "expected a property name after '.'");
    } else if (src_[pos_] == '[') {
      size_t open = pos_++;
      int32_t inner;
      if (!ParseValue(&inner)) return false;
      SkipBlanks();
      if (Peek() != ']') return Fail(open, "'[' is not closed with ']'");
      ++pos_;
      const Expr& ie = impl_->exprs[inner];
      if (ie.kind == ExprKind::kLiteral && ie.literal.is_string()) {
        step.key = ie.literal.str;
      } else if (ie.kind == ExprKind::kLiteral && ie.literal.is_number()) {
        step.kind = PathStep::Kind::kIndex;
        step.index = ie.literal.number;
      } else {
        step.kind = PathStep::Kind::kComputed;
        step.expr = inner;
      }
    } else {
      break;
    }
    impl_->steps.push_back(step);
    ++e->step_count;
  }
  return true;
}

bool Parser::ParseFilter() {
  SkipBlanks();
  size_t name_pos = pos_;
  std::string_view name = ReadIdentifier();
  if (name.empty()) return Fail(name_pos, "expected a filter name after '|'");
  std::optional<FilterSpec> spec = FindFilter(name);
  if (!spec) return Fail(name_pos, "unknown filter '" + std::string(name) + "'");
  FilterCall call;
  call.id = spec->id;
  call.offset = static_cast<uint32_t>(name_pos);
  call.arg_begin = static_cast<uint32_t>(impl_->filter_args.size());
  SkipBlanks();
  if (Peek() == ':') {
    do {
      ++pos_;
      FilterArg arg;
      if (!ParseValue(&arg.expr)) return false;
      SkipBlanks();
      const Expr& key = impl_->exprs[arg.expr];
      if (Peek() == ':' && key.kind == ExprKind::kVariable && key.step_count == 0) {
        ++pos_;
        arg.name = key.name;
        if (!ParseValue(&arg.expr)) return false;
        SkipBlanks();
      }
      if (arg.name == "allow_false") {
        call.allow_false = true;  // liquidjs only checks that the option is present.
      } else if (arg.name.empty()) {
        impl_->filter_args.push_back(arg);
      }
    } while (Peek() == ',');
  }
  if (!AtEnd() && Peek() != '|') return Fail(pos_, "expected ',' or '|' after filter arguments");
  call.arg_count = static_cast<uint32_t>(impl_->filter_args.size()) - call.arg_begin;
  if (call.arg_count < spec->min_args) {
    return Fail(name_pos, "filter '" + std::string(name) + "' needs " +
                              std::to_string(spec->min_args) + " argument" +
                              (spec->min_args == 1 ? "" : "s"));
  }
  if (call.arg_count > spec->max_args) {
    return Fail(name_pos, "filter '" + std::string(name) + "' takes at most " +
                              std::to_string(spec->max_args) + " argument" +
                              (spec->max_args == 1 ? "" : "s"));
  }
  impl_->filters.push_back(call);
  return true;
}

bool Parser::IsLocal(std::string_view name) const {
  for (std::string_view l : locals_) {
    if (l == name) return true;
  }
  return false;
}

void Parser::RecordVariable(const Expr& e) {
  if (e.kind != ExprKind::kVariable || e.name.empty() || IsLocal(e.name)) return;
  std::string path(e.name);
  for (uint32_t i = 0; i < e.step_count; ++i) {
    const PathStep& s = impl_->steps[e.step_begin + i];
    if (s.kind == PathStep::Kind::kComputed) break;
    path.push_back('.');
    if (s.kind == PathStep::Kind::kKey) {
      path.append(s.key);
    } else {
      AppendJsNumber(s.index, &path);
    }
  }
  for (const std::string& v : impl_->variables) {
    if (v == path) return;
  }
  impl_->variables.push_back(std::move(path));
}

}  // namespace waymark::tmpl
