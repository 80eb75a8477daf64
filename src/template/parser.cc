#include "template/parser.h"

#include <algorithm>
#include <string>

namespace waymark::tmpl {

bool Parser::Fail(size_t offset, std::string message) {
  if (error_->message.empty()) {
    LineCol(src_, offset, &error_->line, &error_->col);
    error_->message = std::move(message);
  }
  return false;
}

bool Parser::Parse(TemplateError* error) {
  error_ = error;
  if (!Tokenize(src_, &tokens_, error)) return false;
  const Token* end = nullptr;
  if (!ParseBlock(&impl_->root, {}, &end)) return false;
  MarkUnboundVariables();
  return true;
}

void Parser::MarkUnboundVariables() {
  for (Expr& e : impl_->exprs) {
    if (e.kind != ExprKind::kVariable) continue;
    e.unbound = std::find(bound_.begin(), bound_.end(), e.name) == bound_.end();
  }
}

bool Parser::ParseBlock(Block* block, std::initializer_list<std::string_view> ends,
                        const Token** end) {
  while (next_ < tokens_.size()) {
    const Token& t = tokens_[next_++];
    if (t.kind == Token::Kind::kText) {
      if (t.text.empty()) continue;
      Node n;
      n.kind = NodeKind::kText;
      n.text = t.text;
      impl_->text_bytes += t.text.size();
      block->push_back(std::move(n));
      continue;
    }
    if (t.kind == Token::Kind::kOutput) {
      Node n;
      n.kind = NodeKind::kOutput;
      StartMarkup(t.text, t.markup_begin);
      if (!ParseFilteredExpr(&n.value) || !ExpectEnd()) return false;
      block->push_back(std::move(n));
      continue;
    }
    for (std::string_view e : ends) {
      if (t.name == e) {
        *end = &t;
        return true;
      }
    }
    if (!ParseTag(t, block)) return false;
  }
  *end = nullptr;
  return true;
}

bool Parser::NotClosed(const Token& tag) {
  return Fail(tag.begin, "tag '" + std::string(tag.name) + "' is not closed");
}

bool Parser::ExpectNoArgs(const Token& tag) {
  StartMarkup(tag.text, tag.markup_begin);
  return ExpectEnd();
}

bool Parser::ParseTag(const Token& tag, Block* block) {
  std::string_view name = tag.name;
  if (name == "if") return ParseIf(tag, false, block);
  if (name == "unless") return ParseIf(tag, true, block);
  if (name == "case") return ParseCase(tag, block);
  if (name == "for") return ParseFor(tag, block);
  if (name == "assign") return ParseAssign(tag, block);
  if (name == "capture") return ParseCapture(tag, block);
  if (name == "increment") return ParseCounter(tag, NodeKind::kIncrement, block);
  if (name == "decrement") return ParseCounter(tag, NodeKind::kDecrement, block);
  if (name == "comment") return SkipComment(tag);
  if (name == "#") return true;
  if (name == "break" || name == "continue") {
    if (!ExpectNoArgs(tag)) return false;
    Node n;
    n.kind = name == "break" ? NodeKind::kBreak : NodeKind::kContinue;
    block->push_back(std::move(n));
    return true;
  }
  if (name == "echo") {
    Node n;
    n.kind = NodeKind::kOutput;
    StartMarkup(tag.text, tag.markup_begin);
    if (AtEnd()) return true;
    if (!ParseFilteredExpr(&n.value) || !ExpectEnd()) return false;
    block->push_back(std::move(n));
    return true;
  }
  if (name == "raw") {
    const Token* end = nullptr;
    if (!ParseBlock(block, {"endraw"}, &end)) return false;  // One text token, see Tokenize.
    return end != nullptr || NotClosed(tag);
  }
  if (name.empty()) return Fail(tag.begin, "missing tag name");
  static constexpr std::string_view kEnds[] = {"else",       "elsif",   "when",   "endif",
                                               "endunless",  "endcase", "endfor", "endcapture",
                                               "endcomment", "endraw"};
  for (std::string_view e : kEnds) {
    if (name == e) return Fail(tag.begin, "unexpected tag '" + std::string(name) + "'");
  }
  return Fail(tag.begin, "unknown tag '" + std::string(name) + "'");
}

bool Parser::ParseIf(const Token& tag, bool unless, Block* block) {
  Node n;
  n.kind = NodeKind::kIf;
  const Token* cur = &tag;
  bool seen_else = false;
  while (true) {
    Branch b;
    b.negate = unless && cur == &tag;
    if (cur->name != "else") {
      FilteredExpr cond;
      StartMarkup(cur->text, cur->markup_begin);
      if (!ParseFilteredExpr(&cond) || !ExpectEnd()) return false;
      b.conds.push_back(cond);
    } else if (!ExpectNoArgs(*cur)) {
      return false;
    }
    const Token* end = nullptr;
    if (!ParseBlock(&b.body, {"elsif", "else", unless ? "endunless" : "endif"}, &end)) {
      return false;
    }
    if (end == nullptr) return NotClosed(tag);
    // liquidjs ignores what follows a second else or an elsif after else in `unless`; for `if`
    // both are errors. We reject them in both, which only refuses templates liquidjs half-renders.
    if (seen_else && end->name != (unless ? "endunless" : "endif")) {
      return Fail(end->begin, "unexpected tag '" + std::string(end->name) + "' after 'else'");
    }
    n.branches.push_back(std::move(b));
    if (end->name == "else") seen_else = true;
    if (end->name == "endif" || end->name == "endunless") {
      if (!ExpectNoArgs(*end)) return false;
      break;
    }
    cur = end;
  }
  block->push_back(std::move(n));
  return true;
}

bool Parser::ParseCase(const Token& tag, Block* block) {
  Node n;
  n.kind = NodeKind::kCase;
  StartMarkup(tag.text, tag.markup_begin);
  if (!ParseFilteredExpr(&n.value) || !ExpectEnd()) return false;
  // Text between `case` and the first `when` is dropped, as in liquidjs.
  Block ignored;
  const Token* end = nullptr;
  if (!ParseBlock(&ignored, {"when", "else", "endcase"}, &end)) return false;
  bool seen_else = false;
  while (true) {
    if (end == nullptr) return NotClosed(tag);
    if (end->name == "endcase") break;
    if (seen_else) return Fail(end->begin, "unexpected tag '" + std::string(end->name) + "'");
    Branch b;
    StartMarkup(end->text, end->markup_begin);
    if (end->name == "when") {
      do {
        FilteredExpr v;
        if (!ParseValue(&v.expr)) return false;
        v.filter_begin = static_cast<uint32_t>(impl_->filters.size());
        b.conds.push_back(v);
        SkipBlanks();
        if (Peek() == ',') {
          ++pos_;
        } else if (AtKeyword("or")) {
          pos_ += 2;
        } else if (!ExpectEnd()) {
          return false;
        }
      } while (!AtEnd());
      if (b.conds.empty()) return Fail(end->begin, "tag 'when' needs a value");
    } else {
      seen_else = true;
      if (!ExpectNoArgs(*end)) return false;
    }
    if (!ParseBlock(&b.body, {"when", "else", "endcase"}, &end)) return false;
    n.branches.push_back(std::move(b));
  }
  block->push_back(std::move(n));
  return true;
}

bool Parser::ParseFor(const Token& tag, Block* block) {
  Node n;
  n.kind = NodeKind::kFor;
  StartMarkup(tag.text, tag.markup_begin);
  n.text = ReadIdentifier();
  std::string_view in = ReadIdentifier();
  if (n.text.empty() || in != "in") {
    return Fail(tag.begin, "tag 'for' expects 'for variable in collection'");
  }
  if (!ParseValue(&n.value.expr)) return false;
  n.value.filter_begin = static_cast<uint32_t>(impl_->filters.size());
  while (!AtEnd()) {
    if (Peek() == ',') ++pos_;
    size_t key_pos = pos_;
    std::string_view key = ReadIdentifier();
    SkipBlanks();
    int32_t value = -1;
    if (Peek() == ':') {
      ++pos_;
      if (!ParseValue(&value)) return false;
    }
    if (key == "limit" && value >= 0) {
      n.limit = value;
    } else if (key == "offset" && value >= 0) {
      n.offset = value;
    } else if (key == "reversed" && value < 0) {
      n.reversed = true;
    } else {
      return Fail(key_pos, "unexpected '" + std::string(src_.substr(key_pos, end_ - key_pos)) +
                               "' in tag 'for'");
    }
  }
  locals_.push_back(n.text);
  locals_.push_back("forloop");
  Bind(n.text);
  Bind("forloop");
  const Token* end = nullptr;
  bool ok = ParseBlock(&n.body, {"else", "endfor"}, &end);
  if (ok && end != nullptr && end->name == "else") {
    ok = ExpectNoArgs(*end) && ParseBlock(&n.else_body, {"endfor"}, &end);
  }
  locals_.resize(locals_.size() - 2);
  if (!ok) return false;
  if (end == nullptr) return NotClosed(tag);
  if (!ExpectNoArgs(*end)) return false;
  block->push_back(std::move(n));
  return true;
}

bool Parser::ParseAssign(const Token& tag, Block* block) {
  Node n;
  n.kind = NodeKind::kAssign;
  StartMarkup(tag.text, tag.markup_begin);
  n.text = ReadIdentifier();
  if (n.text.empty()) return Fail(tag.begin, "tag 'assign' expects a variable name");
  SkipBlanks();
  if (Peek() != '=') return Fail(pos_, "tag 'assign' expects '=' after the name");
  ++pos_;
  if (!ParseFilteredExpr(&n.value) || !ExpectEnd()) return false;
  locals_.push_back(n.text);
  Bind(n.text);
  block->push_back(std::move(n));
  return true;
}

bool Parser::ParseCapture(const Token& tag, Block* block) {
  Node n;
  n.kind = NodeKind::kCapture;
  StartMarkup(tag.text, tag.markup_begin);
  n.text = ReadIdentifier();
  if (n.text.empty() && (Peek() == '"' || Peek() == '\'')) {
    if (!ParseQuoted(&n.text)) return false;
  }
  if (n.text.empty()) return Fail(tag.begin, "tag 'capture' expects a variable name");
  const Token* end = nullptr;
  if (!ParseBlock(&n.body, {"endcapture"}, &end)) return false;
  if (end == nullptr) return NotClosed(tag);
  locals_.push_back(n.text);
  Bind(n.text);
  block->push_back(std::move(n));
  return true;
}

bool Parser::ParseCounter(const Token& tag, NodeKind kind, Block* block) {
  Node n;
  n.kind = kind;
  StartMarkup(tag.text, tag.markup_begin);
  n.text = ReadIdentifier();
  if (n.text.empty()) {
    return Fail(tag.begin, "tag '" + std::string(tag.name) + "' expects a variable name");
  }
  Bind(n.text);
  block->push_back(std::move(n));
  return true;
}

bool Parser::SkipComment(const Token& tag) {
  int depth = 1;
  while (next_ < tokens_.size()) {
    const Token& t = tokens_[next_++];
    if (t.kind != Token::Kind::kTag) continue;
    if (t.name == "comment") ++depth;
    if (t.name == "endcomment" && --depth == 0) return true;
  }
  return NotClosed(tag);
}

}  // namespace waymark::tmpl
