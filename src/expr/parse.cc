// Lexer, parser and type checker for the condition language.

#include <charconv>
#include <cmath>

#include "expr/expr.h"

namespace waymark::expr {

std::string_view TypeName(Type t) {
  switch (t) {
    case Type::kUnknown:
      return "any";
    case Type::kBool:
      return "boolean";
    case Type::kNumber:
      return "number";
    case Type::kString:
      return "string";
    case Type::kTime:
      return "timestamp";
    case Type::kDuration:
      return "duration";
    case Type::kList:
      return "list";
    case Type::kNull:
      return "null";
  }
  return "?";
}

namespace {

enum class Tok : uint8_t {
  kEnd,
  kIdent,
  kString,
  kNumber,
  kDuration,
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kComma,
  kColon,
  kDot,
  kPlus,
  kMinus,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
};

struct Token {
  Tok kind = Tok::kEnd;
  std::string_view text;
  size_t offset = 0;
  double number = 0;
  Duration duration{};
  std::string str;  // decoded string literal
};

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

struct FieldName {
  std::string_view name;
  Field field;
  Type type;
};

constexpr FieldName kEventFields[] = {
    {"name", Field::kName, Type::kString},
    {"type", Field::kType, Type::kString},
    {"userId", Field::kUserId, Type::kString},
    {"anonymousId", Field::kAnonymousId, Type::kString},
    {"messageId", Field::kMessageId, Type::kString},
    {"timestamp", Field::kTimestamp, Type::kTime},
};

constexpr FieldName kProfileFields[] = {
    {"id", Field::kProfileId, Type::kString},
    {"user_id", Field::kUserId, Type::kString},
    {"timezone", Field::kTimezone, Type::kString},
    {"first_seen", Field::kFirstSeen, Type::kTime},
    {"last_seen", Field::kLastSeen, Type::kTime},
    {"event_count", Field::kEventCount, Type::kNumber},
    {"order_count", Field::kOrderCount, Type::kNumber},
    {"revenue", Field::kRevenue, Type::kNumber},
    {"last_order_at", Field::kLastOrderAt, Type::kTime},
};

constexpr FieldName kLastMessageFields[] = {
    {"id", Field::kLastMessageId, Type::kString},
    {"channel", Field::kChannel, Type::kString},
    {"step", Field::kStep, Type::kString},
    {"sent_at", Field::kSentAt, Type::kTime},
};

}  // namespace

class Parser {
 public:
  Parser(std::string_view text, const CompileEnv& env, Expr* out)
      : text_(text), env_(env), out_(out) {}

  bool Run() {
    if (!Lex()) return false;
    int root = ParseOr();
    if (root < 0) return false;
    if (Peek().kind != Tok::kEnd)
      return Fail(Peek().offset, "unexpected '" + std::string(Peek().text) + "'");
    // The root must be the last node so evaluation can start at nodes_.back().
    if (root != int(out_->nodes_.size()) - 1) {
      out_->nodes_.push_back(out_->nodes_[root]);
    }
    return true;
  }

  CompileError error;

 private:
  bool Fail(size_t offset, std::string message) {
    if (error.message.empty()) {
      error.offset = offset;
      error.message = std::move(message);
    }
    return false;
  }
  int FailNode(size_t offset, std::string message) {
    Fail(offset, std::move(message));
    return -1;
  }

  // ---- Lexer ----
  bool Lex() {
    size_t i = 0;
    while (true) {
      while (i < text_.size() &&
             (text_[i] == ' ' || text_[i] == '\t' || text_[i] == '\n' || text_[i] == '\r'))
        ++i;
      Token tok;
      tok.offset = i;
      if (i >= text_.size()) {
        tokens_.push_back(tok);
        return true;
      }
      char c = text_[i];
      size_t start = i;
      if (IsIdentStart(c)) {
        while (i < text_.size() && IsIdentChar(text_[i])) ++i;
        tok.kind = Tok::kIdent;
      } else if (IsDigit(c)) {
        if (!LexNumber(&i, &tok)) return false;
      } else if (c == '"' || c == '\'') {
        if (!LexString(&i, &tok)) return false;
      } else {
        if (!LexPunct(&i, &tok)) return false;
      }
      tok.text = text_.substr(start, i - start);
      tokens_.push_back(std::move(tok));
    }
  }

  bool LexNumber(size_t* i, Token* tok) {
    size_t start = *i;
    while (*i < text_.size() && (IsDigit(text_[*i]) || (text_[*i] == '.' && *i + 1 < text_.size() &&
                                                        IsDigit(text_[*i + 1]))))
      ++*i;
    // A number followed by letters is a duration: 7d, 1h30m, 250ms.
    if (*i < text_.size() && IsIdentStart(text_[*i])) {
      while (*i < text_.size() && IsIdentChar(text_[*i])) ++*i;
      auto d = ParseDuration(text_.substr(start, *i - start));
      if (!d.ok()) return Fail(start, d.status().message());
      tok->kind = Tok::kDuration;
      tok->duration = *d;
      return true;
    }
    std::string_view num = text_.substr(start, *i - start);
    auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), tok->number);
    if (ec != std::errc() || ptr != num.data() + num.size()) {
      return Fail(start, "bad number '" + std::string(num) + "'");
    }
    tok->kind = Tok::kNumber;
    return true;
  }

  bool LexString(size_t* i, Token* tok) {
    char quote = text_[*i];
    size_t start = *i;
    ++*i;
    while (*i < text_.size() && text_[*i] != quote) {
      if (text_[*i] == '\\' && *i + 1 < text_.size()) {
        char e = text_[*i + 1];
        tok->str.push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e);
        *i += 2;
      } else {
        tok->str.push_back(text_[(*i)++]);
      }
    }
    if (*i >= text_.size()) return Fail(start, "unterminated string");
    ++*i;
    tok->kind = Tok::kString;
    return true;
  }

  bool LexPunct(size_t* i, Token* tok) {
    char c = text_[*i];
    char n = *i + 1 < text_.size() ? text_[*i + 1] : '\0';
    auto two = [&](Tok k) {
      tok->kind = k;
      *i += 2;
      return true;
    };
    auto one = [&](Tok k) {
      tok->kind = k;
      *i += 1;
      return true;
    };
    if (c == '=' && n == '=') return two(Tok::kEq);
    if (c == '!' && n == '=') return two(Tok::kNe);
    if (c == '<' && n == '=') return two(Tok::kLe);
    if (c == '>' && n == '=') return two(Tok::kGe);
    switch (c) {
      case '(':
        return one(Tok::kLParen);
      case ')':
        return one(Tok::kRParen);
      case '[':
        return one(Tok::kLBracket);
      case ']':
        return one(Tok::kRBracket);
      case ',':
        return one(Tok::kComma);
      case ':':
        return one(Tok::kColon);
      case '.':
        return one(Tok::kDot);
      case '+':
        return one(Tok::kPlus);
      case '-':
        return one(Tok::kMinus);
      case '<':
        return one(Tok::kLt);
      case '>':
        return one(Tok::kGt);
      case '=':
        return Fail(*i, "use '==' to compare");
      default:
        return Fail(*i, std::string("unexpected character '") + c + "'");
    }
  }

  const Token& Peek(int ahead = 0) const {
    size_t k = std::min(pos_ + ahead, tokens_.size() - 1);
    return tokens_[k];
  }
  const Token& Next() { return tokens_[std::min(pos_++, tokens_.size() - 1)]; }
  bool IsWord(const Token& t, std::string_view w) const {
    return t.kind == Tok::kIdent && t.text == w;
  }
  bool Expect(Tok kind, std::string_view what) {
    if (Peek().kind != kind) return Fail(Peek().offset, "expected " + std::string(what));
    ++pos_;
    return true;
  }

  int Add(Node n) {
    out_->nodes_.push_back(n);
    return int(out_->nodes_.size()) - 1;
  }
  Node& At(int i) { return out_->nodes_[i]; }
  uint32_t AddString(std::string s) {
    out_->strings_.push_back(std::move(s));
    return uint32_t(out_->strings_.size() - 1);
  }

  // ---- Grammar ----
  int ParseOr() { return ParseChain("or", Op::kOr, &Parser::ParseAnd); }
  int ParseAnd() { return ParseChain("and", Op::kAnd, &Parser::ParseNot); }

  // operand (word operand)*, folded left into `op` nodes.
  int ParseChain(std::string_view word, Op op, int (Parser::*operand)()) {
    int lhs = (this->*operand)();
    while (lhs >= 0 && IsWord(Peek(), word)) {
      size_t off = Next().offset;
      int rhs = (this->*operand)();
      if (rhs < 0) return -1;
      lhs = Logical(op, lhs, rhs, off);
    }
    return lhs;
  }

  int Logical(Op op, int lhs, int rhs, size_t off) {
    for (int side : {lhs, rhs}) {
      Type t = At(side).type;
      if (t != Type::kBool && t != Type::kUnknown) {
        return FailNode(At(side).offset, std::string(op == Op::kAnd ? "'and'" : "'or'") +
                                             " needs conditions on both sides, got a " +
                                             std::string(TypeName(t)));
      }
    }
    Node n;
    n.op = op;
    n.type = Type::kBool;
    n.a = lhs;
    n.b = rhs;
    n.offset = off;
    return Add(n);
  }

  int ParseNot() {
    if (IsWord(Peek(), "not")) {
      size_t off = Next().offset;
      int inner = ParseNot();
      if (inner < 0) return -1;
      Type t = At(inner).type;
      if (t != Type::kBool && t != Type::kUnknown) {
        return FailNode(At(inner).offset,
                        "'not' needs a condition, got a " + std::string(TypeName(t)));
      }
      Node n;
      n.op = Op::kNot;
      n.type = Type::kBool;
      n.a = inner;
      n.offset = off;
      return Add(n);
    }
    return ParsePredicate();
  }

  int ParsePredicate() {
    int lhs = ParseSum();
    if (lhs < 0) return -1;
    const Token& t = Peek();
    Op op;
    switch (t.kind) {
      case Tok::kEq:
        op = Op::kEq;
        break;
      case Tok::kNe:
        op = Op::kNe;
        break;
      case Tok::kLt:
        op = Op::kLt;
        break;
      case Tok::kLe:
        op = Op::kLe;
        break;
      case Tok::kGt:
        op = Op::kGt;
        break;
      case Tok::kGe:
        op = Op::kGe;
        break;
      default:
        if (IsWord(t, "in")) {
          op = Op::kIn;
        } else if (IsWord(t, "contains")) {
          op = Op::kContains;
        } else if (IsWord(t, "starts_with")) {
          op = Op::kStartsWith;
        } else if (IsWord(t, "ends_with")) {
          op = Op::kEndsWith;
        } else if (IsWord(t, "not") && IsWord(Peek(1), "in")) {
          size_t off = Next().offset;
          Next();
          int rhs = ParseSum();
          if (rhs < 0) return -1;
          int in = Compare(Op::kIn, lhs, rhs, off);
          if (in < 0) return -1;
          Node n;
          n.op = Op::kNot;
          n.type = Type::kBool;
          n.a = in;
          n.offset = off;
          return Add(n);
        } else {
          return lhs;
        }
    }
    size_t off = Next().offset;
    int rhs = ParseSum();
    if (rhs < 0) return -1;
    return Compare(op, lhs, rhs, off);
  }

  // Types that can meet in a comparison. Unknown (a property) meets anything.
  static bool Comparable(Type a, Type b) {
    if (a == Type::kUnknown || b == Type::kUnknown || a == Type::kNull || b == Type::kNull)
      return true;
    return a == b;
  }

  int Compare(Op op, int lhs, int rhs, size_t off) {
    // A string literal next to a timestamp must itself be a timestamp; fold it now.
    CoerceTimeLiteral(lhs, rhs);
    CoerceTimeLiteral(rhs, lhs);
    if (!error.message.empty()) return -1;
    Type lt = At(lhs).type, rt = At(rhs).type;
    if (op == Op::kIn) {
      if (rt != Type::kList && rt != Type::kUnknown) {
        return FailNode(At(rhs).offset,
                        "'in' needs a list on its right, got a " + std::string(TypeName(rt)));
      }
    } else if (op == Op::kContains) {
      if (lt != Type::kString && lt != Type::kList && lt != Type::kUnknown) {
        return FailNode(At(lhs).offset, "'contains' needs a string or list on its left, got a " +
                                            std::string(TypeName(lt)));
      }
    } else if (op == Op::kStartsWith || op == Op::kEndsWith) {
      for (int side : {lhs, rhs}) {
        Type t = At(side).type;
        if (t != Type::kString && t != Type::kUnknown) {
          return FailNode(At(side).offset,
                          "string operator needs strings, got a " + std::string(TypeName(t)));
        }
      }
    } else if (!Comparable(lt, rt)) {
      return FailNode(off, "cannot compare " + std::string(TypeName(lt)) + " with " +
                               std::string(TypeName(rt)));
    } else if ((op != Op::kEq && op != Op::kNe) &&
               (lt == Type::kBool || rt == Type::kBool || lt == Type::kList)) {
      return FailNode(
          off, "cannot order " +
                   std::string(TypeName(lt == Type::kBool || rt == Type::kBool ? Type::kBool
                                                                               : Type::kList)) +
                   " values");
    }
    Node n;
    n.op = op;
    n.type = Type::kBool;
    n.a = lhs;
    n.b = rhs;
    n.offset = off;
    return Add(n);
  }

  void CoerceTimeLiteral(int maybe_literal, int other) {
    Node& lit = At(maybe_literal);
    if (lit.op != Op::kLiteral || lit.type != Type::kString || At(other).type != Type::kTime)
      return;
    auto t = ParseIsoTime(out_->strings_[lit.str]);
    if (!t) {
      Fail(lit.offset, "'" + out_->strings_[lit.str] + "' is not a timestamp (use ISO 8601)");
      return;
    }
    lit.type = Type::kTime;
    lit.time = *t;
  }

  int ParseSum() {
    int lhs = ParsePrimary();
    while (lhs >= 0 && (Peek().kind == Tok::kPlus || Peek().kind == Tok::kMinus)) {
      const Token& t = Next();
      int rhs = ParsePrimary();
      if (rhs < 0) return -1;
      Type lt = At(lhs).type, rt = At(rhs).type;
      Type result = Type::kUnknown;
      if (lt == Type::kTime && rt == Type::kDuration) {
        result = Type::kTime;
      } else if (lt == Type::kNumber && rt == Type::kNumber) {
        result = Type::kNumber;
      } else if (lt == Type::kDuration && rt == Type::kDuration) {
        result = Type::kDuration;
      } else if (lt == Type::kUnknown && (rt == Type::kNumber || rt == Type::kUnknown)) {
        result = Type::kNumber;
      } else if (lt == Type::kNumber && rt == Type::kUnknown) {
        result = Type::kNumber;
      } else {
        return FailNode(t.offset, "cannot apply '" + std::string(t.text) + "' to " +
                                      std::string(TypeName(lt)) + " and " +
                                      std::string(TypeName(rt)));
      }
      Node n;
      n.op = t.kind == Tok::kPlus ? Op::kAdd : Op::kSub;
      n.type = result;
      n.a = lhs;
      n.b = rhs;
      n.offset = t.offset;
      lhs = Add(n);
    }
    return lhs;
  }

  int ParsePrimary() {
    const Token& t = Peek();
    Node n;
    n.offset = t.offset;
    switch (t.kind) {
      case Tok::kNumber:
        Next();
        n.op = Op::kLiteral;
        n.type = Type::kNumber;
        n.num = t.number;
        return Add(n);
      case Tok::kMinus: {
        Next();
        if (Peek().kind != Tok::kNumber) return FailNode(t.offset, "expected a number after '-'");
        n.op = Op::kLiteral;
        n.type = Type::kNumber;
        n.num = -Next().number;
        return Add(n);
      }
      case Tok::kDuration:
        Next();
        n.op = Op::kLiteral;
        n.type = Type::kDuration;
        n.dur = t.duration;
        return Add(n);
      case Tok::kString:
        Next();
        n.op = Op::kLiteral;
        n.type = Type::kString;
        n.str = AddString(t.str);
        return Add(n);
      case Tok::kLParen: {
        Next();
        int inner = ParseOr();
        if (inner < 0 || !Expect(Tok::kRParen, "')'")) return -1;
        return inner;
      }
      case Tok::kLBracket:
        return ParseList();
      case Tok::kIdent:
        return ParseIdent();
      case Tok::kEnd:
        return FailNode(t.offset, "unexpected end of condition");
      default:
        return FailNode(t.offset, "unexpected '" + std::string(t.text) + "'");
    }
  }

  int ParseList() {
    size_t off = Next().offset;
    Value::List items;
    while (Peek().kind != Tok::kRBracket) {
      const Token& t = Next();
      if (t.kind == Tok::kString) {
        items.emplace_back(t.str);
      } else if (t.kind == Tok::kNumber) {
        items.emplace_back(t.number);
      } else if (t.kind == Tok::kMinus && Peek().kind == Tok::kNumber) {
        items.emplace_back(-Next().number);
      } else if (IsWord(t, "true") || IsWord(t, "false")) {
        items.emplace_back(t.text == "true");
      } else {
        return FailNode(t.offset, "list items must be strings, numbers or booleans");
      }
      if (Peek().kind == Tok::kComma) {
        Next();
      } else if (Peek().kind != Tok::kRBracket) {
        return FailNode(Peek().offset, "expected ',' or ']' in list");
      }
    }
    Next();
    out_->constants_.emplace_back(std::move(items));
    Node n;
    n.op = Op::kList;
    n.type = Type::kList;
    n.constant = uint32_t(out_->constants_.size() - 1);
    n.offset = off;
    return Add(n);
  }

  int ParseIdent() {
    const Token& t = Next();
    Node n;
    n.offset = t.offset;
    if (t.text == "true" || t.text == "false") {
      n.op = Op::kLiteral;
      n.type = Type::kBool;
      n.boolean = t.text == "true";
      return Add(n);
    }
    if (t.text == "null") {
      n.op = Op::kLiteral;
      n.type = Type::kNull;
      return Add(n);
    }
    if (t.text == "now") {
      n.op = Op::kNow;
      n.type = Type::kTime;
      out_->time_dependent_ = true;
      return Add(n);
    }
    if (Peek().kind == Tok::kLParen) return ParseCall(t);
    if (t.text == "event" || t.text == "trigger" || t.text == "profile") return ParsePath(t);
    if (t.text == "last_message") return ParseLastMessage(t);
    return FailNode(t.offset, "unknown name '" + std::string(t.text) +
                                  "' (conditions start with event., trigger., profile., "
                                  "last_message., or a function such as count(...))");
  }

  // last_message.id | .channel | .step | .sent_at: the journey instance's most recent send.
  int ParseLastMessage(const Token& root_tok) {
    if (!env_.allow_trigger) {
      return FailNode(root_tok.offset, "'last_message' is only available inside a journey");
    }
    Node n;
    n.op = Op::kPath;
    n.root = Root::kLastMessage;
    n.offset = root_tok.offset;
    if (Peek().kind != Tok::kDot) {
      return FailNode(root_tok.offset,
                      "'last_message' needs a field: id, channel, step or sent_at");
    }
    Next();
    const Token& f = Next();
    for (const FieldName& known : kLastMessageFields) {
      if (f.kind == Tok::kIdent && f.text == known.name) {
        n.field = known.field;
        n.type = known.type;
      }
    }
    if (n.field == Field::kPath) {
      return FailNode(f.offset, "unknown field '" + std::string(f.text) +
                                    "' of last_message (id, channel, step or sent_at)");
    }
    if (Peek().kind == Tok::kDot) {
      return FailNode(Peek().offset, "last_message." + std::string(f.text) + " has no fields");
    }
    return Add(n);
  }

  int ParsePath(const Token& root_tok) {
    Node n;
    n.op = Op::kPath;
    n.offset = root_tok.offset;
    n.type = Type::kUnknown;
    if (root_tok.text == "event") {
      if (!env_.allow_event)
        return FailNode(root_tok.offset,
                        "'event' is not available here (no event is being "
                        "processed; use profile.* or trigger.*)");
      n.root = Root::kEvent;
    } else if (root_tok.text == "trigger") {
      if (!env_.allow_trigger)
        return FailNode(root_tok.offset, "'trigger' is only available inside a journey");
      n.root = Root::kTrigger;
    } else {
      n.root = Root::kProfile;
      out_->reads_profile_ = true;
    }
    std::vector<std::string> parts;
    while (Peek().kind == Tok::kDot) {
      Next();
      const Token& p = Next();
      if (p.kind == Tok::kIdent) {
        parts.emplace_back(p.text);
      } else if (p.kind == Tok::kNumber && p.number >= 0 && p.number == std::floor(p.number)) {
        parts.emplace_back(p.text);
      } else if (p.kind == Tok::kString) {
        parts.push_back(p.str);  // event."Product Name"
      } else {
        return FailNode(p.offset, "expected a field name after '.'");
      }
    }
    if (parts.empty()) {
      return FailNode(root_tok.offset, "'" + std::string(root_tok.text) + "' needs a field, e.g. " +
                                           std::string(root_tok.text) + ".name");
    }
    ResolveField(&n, &parts);
    n.first_part = uint32_t(out_->strings_.size());
    n.num_parts = uint32_t(parts.size());
    for (std::string& p : parts) out_->strings_.push_back(std::move(p));
    return Add(n);
  }

  // Maps well-known first segments to fields; strips "properties."/"traits." prefixes.
  void ResolveField(Node* n, std::vector<std::string>* parts) {
    const std::string& first = parts->front();
    if (n->root == Root::kProfile) {
      if (first == "traits") {
        parts->erase(parts->begin());
        n->field = parts->empty() ? Field::kTraits : Field::kPath;
        return;
      }
      for (const FieldName& f : kProfileFields) {
        if (parts->size() == 1 && first == f.name) {
          n->field = f.field;
          n->type = f.type;
          parts->clear();
          return;
        }
      }
      return;  // a trait path
    }
    if (first == "properties") {
      parts->erase(parts->begin());
      return;
    }
    if (first == "traits") {
      parts->erase(parts->begin());
      n->field = Field::kTraits;
      return;
    }
    for (const FieldName& f : kEventFields) {
      if (parts->size() == 1 && first == f.name) {
        n->field = f.field;
        n->type = f.type;
        parts->clear();
        return;
      }
    }
  }

  int ParseCall(const Token& name) {
    Next();  // '('
    std::string_view fn = name.text;
    if (fn == "count" || fn == "did" || fn == "last") return ParseHistoryCall(name);
    if (fn == "exists") {
      int arg = ParseSum();
      if (arg < 0 || !Expect(Tok::kRParen, "')'")) return -1;
      if (At(arg).op != Op::kPath) return FailNode(At(arg).offset, "exists() takes a field");
      Node n;
      n.op = Op::kExists;
      n.type = Type::kBool;
      n.a = arg;
      n.offset = name.offset;
      return Add(n);
    }
    if (fn == "in_segment") {
      const Token& s = Next();
      if (s.kind != Tok::kString) return FailNode(s.offset, "in_segment() takes a segment name");
      if (!Expect(Tok::kRParen, "')'")) return -1;
      int index = -1;
      if (env_.segment_names != nullptr) {
        for (size_t i = 0; i < env_.segment_names->size(); ++i) {
          if ((*env_.segment_names)[i] == s.str) index = int(i);
        }
      }
      if (index < 0) return FailNode(s.offset, "unknown segment '" + s.str + "'");
      out_->reads_segments_ = true;
      Node n;
      n.op = Op::kInSegment;
      n.type = Type::kBool;
      n.num = index;
      n.offset = name.offset;
      return Add(n);
    }
    return FailNode(name.offset, "unknown function '" + std::string(fn) +
                                     "' (known: count, did, last, exists, in_segment)");
  }

  // count("Name", within: 7d, since: entry, where: <condition>)
  int ParseHistoryCall(const Token& name) {
    const Token& ev = Next();
    if (ev.kind != Tok::kString) {
      return FailNode(ev.offset, std::string(name.text) + "() takes an event name in quotes first");
    }
    Node n;
    n.op = name.text == "count" ? Op::kCount : name.text == "did" ? Op::kDid : Op::kLast;
    n.type = n.op == Op::kCount ? Type::kNumber : n.op == Op::kDid ? Type::kBool : Type::kTime;
    n.offset = name.offset;
    n.str = AddString(ev.str);
    n.dur = Duration::max();
    while (Peek().kind == Tok::kComma) {
      Next();
      const Token& key = Next();
      if (key.kind != Tok::kIdent || !Expect(Tok::kColon, "':' after argument name")) {
        return FailNode(key.offset, "expected within:, since: or where:");
      }
      if (key.text == "within") {
        const Token& d = Next();
        if (d.kind != Tok::kDuration) return FailNode(d.offset, "within: takes a duration like 7d");
        n.dur = d.duration;
        out_->time_dependent_ = true;
      } else if (key.text == "since") {
        const Token& s = Next();
        if (!IsWord(s, "entry")) return FailNode(s.offset, "since: takes 'entry'");
        if (!env_.allow_entry)
          return FailNode(s.offset, "since: entry is only available inside a journey");
        n.since_entry = true;
      } else if (key.text == "where") {
        CompileEnv saved = env_;
        env_.allow_event = true;  // inside where, event.* is the counted event
        int cond = ParseOr();
        env_ = saved;
        if (cond < 0) return -1;
        if (At(cond).type != Type::kBool && At(cond).type != Type::kUnknown)
          return FailNode(At(cond).offset, "where: takes a condition");
        n.a = cond;
      } else {
        return FailNode(key.offset, "unknown argument '" + std::string(key.text) +
                                        "' (use within:, since: or where:)");
      }
    }
    if (!Expect(Tok::kRParen, "')'")) return -1;
    NoteHistoryNeed(ev.str, n.since_entry ? Duration::max() : n.dur, n.a >= 0);
    return Add(n);
  }

  void NoteHistoryNeed(const std::string& event, Duration horizon, bool properties) {
    for (HistoryPolicy::Rule& r : out_->history_needs_) {
      if (r.name == event) {
        r.horizon = std::max(r.horizon, horizon);
        r.properties |= properties;
        return;
      }
    }
    out_->history_needs_.push_back({event, horizon, properties});
  }

  std::string_view text_;
  CompileEnv env_;
  Expr* out_;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

Result<Expr> Expr::Compile(std::string_view text, const CompileEnv& env, CompileError* error) {
  Expr e;
  e.text_ = std::string(text);
  Parser parser(e.text_, env, &e);
  if (!parser.Run()) {
    if (error != nullptr) *error = parser.error;
    return Status::Parse(parser.error.message);
  }
  return e;
}

Type Expr::type() const { return nodes_.empty() ? Type::kBool : nodes_.back().type; }

}  // namespace waymark::expr
