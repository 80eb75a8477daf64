#include "template/lexer.h"

#include <string>

#include "template/text.h"

namespace waymark::tmpl {

void LineCol(std::string_view source, size_t offset, int* line, int* col) {
  *line = 1;
  *col = 1;
  for (size_t i = 0; i < offset && i < source.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(source[i]);
    if (c == '\n') {
      ++*line;
      *col = 1;
    } else if ((c & 0xC0) != 0x80) {
      ++*col;
    }
  }
}

namespace {

// The characters whitespace control removes: liquidjs's blanks, which are the ASCII ones and these
// (U+FEFF, which JavaScript's \s has, is not among them; U+180E, which it lacks, is).
bool IsUnicodeBlank(uint32_t cp) {
  return cp == 0xA0 || cp == 0x1680 || cp == 0x180E || (cp >= 0x2000 && cp <= 0x200A) ||
         cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

// Byte length of the trimmable character at s[pos], or 0 when there is none.
size_t TrimmableAt(std::string_view s, size_t pos) {
  if (pos >= s.size()) return 0;
  if (static_cast<unsigned char>(s[pos]) < 0x80) return IsBlank(s[pos]) ? 1 : 0;
  uint32_t cp;
  size_t len = DecodeUtf8(s, pos, &cp);
  return len > 1 && IsUnicodeBlank(cp) ? len : 0;  // len 1: an invalid byte, not a blank
}

// Byte length of the trimmable character that ends at s[end], or 0 when there is none.
size_t TrimmableBefore(std::string_view s, size_t end) {
  if (end == 0) return 0;
  if (static_cast<unsigned char>(s[end - 1]) < 0x80) return IsBlank(s[end - 1]) ? 1 : 0;
  size_t start = end - 1;
  while (start > 0 && end - start < 4 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) {
    --start;
  }
  uint32_t cp;
  size_t len = DecodeUtf8(s, start, &cp);
  return len > 1 && start + len == end && IsUnicodeBlank(cp) ? len : 0;
}

class Lexer {
 public:
  Lexer(std::string_view src, std::vector<Token>* tokens, TemplateError* error)
      : src_(src), tokens_(tokens), error_(error) {}

  bool Run() {
    size_t pos = 0;
    while (pos < src_.size()) {
      size_t open = FindOpen(pos);
      if (open > pos) AddText(pos, open);
      if (open == src_.size()) break;
      if (!ReadDelimited(open, &pos)) return false;
    }
    ApplyTrims();
    return true;
  }

 private:
  size_t FindOpen(size_t from) const {
    while (true) {
      size_t p = src_.find('{', from);
      if (p == std::string_view::npos || p + 1 >= src_.size()) return src_.size();
      if (src_[p + 1] == '{' || src_[p + 1] == '%') return p;
      from = p + 1;
    }
  }

  void AddText(size_t begin, size_t end) {
    Token t;
    t.kind = Token::Kind::kText;
    t.begin = static_cast<uint32_t>(begin);
    t.text = src_.substr(begin, end - begin);
    tokens_->push_back(t);
  }

  bool Fail(size_t offset, std::string message) {
    LineCol(src_, offset, &error_->line, &error_->col);
    error_->message = std::move(message);
    return false;
  }

  // Reads the {{ }} or {% %} starting at `open`; sets *next past it.
  bool ReadDelimited(size_t open, size_t* next) {
    bool is_tag = src_[open + 1] == '%';
    std::string_view close = is_tag ? "%}" : "}}";
    size_t inner = open + 2;
    size_t end = src_.find(close, inner);
    if (end == std::string_view::npos) {
      return Fail(open, is_tag ? "tag '{%' is not closed with '%}'"
                               : "output '{{' is not closed with '}}'");
    }
    Token t;
    t.kind = is_tag ? Token::Kind::kTag : Token::Kind::kOutput;
    t.begin = static_cast<uint32_t>(open);
    size_t mb = inner, me = end;
    if (mb < me && src_[mb] == '-') t.trim_left = true, ++mb;
    if (me > mb && src_[me - 1] == '-') t.trim_right = true, --me;
    *next = end + 2;
    if (!is_tag) {
      t.text = src_.substr(mb, me - mb);
      t.markup_begin = static_cast<uint32_t>(mb);
      tokens_->push_back(t);
      return true;
    }
    return AddTag(t, mb, me, next);
  }

  bool AddTag(Token t, size_t mb, size_t me, size_t* next) {
    while (mb < me && IsBlank(src_[mb])) ++mb;
    size_t name_end = mb;
    if (name_end < me && src_[name_end] == '#') {
      ++name_end;  // The inline comment tag needs no space after its name.
    } else {
      while (name_end < me && IsWordChar(src_[name_end])) ++name_end;
    }
    t.name = src_.substr(mb, name_end - mb);
    t.text = src_.substr(name_end, me - name_end);
    t.markup_begin = static_cast<uint32_t>(name_end);
    tokens_->push_back(t);
    if (t.name == "raw") return ReadRaw(t.begin, next);
    return true;
  }

  // After {% raw %}: everything up to the matching {% endraw %} is text.
  bool ReadRaw(size_t raw_begin, size_t* next) {
    size_t pos = *next;
    while (true) {
      size_t open = src_.find("{%", pos);
      if (open == std::string_view::npos) return Fail(raw_begin, "tag 'raw' is not closed");
      size_t p = open + 2;
      bool trim_left = p < src_.size() && src_[p] == '-';
      if (trim_left) ++p;
      while (p < src_.size() && IsBlank(src_[p])) ++p;
      if (src_.substr(p, 6) != "endraw" || (p + 6 < src_.size() && IsWordChar(src_[p + 6]))) {
        pos = open + 2;
        continue;
      }
      size_t close = src_.find("%}", p + 6);
      if (close == std::string_view::npos) return Fail(open, "tag '{%' is not closed with '%}'");
      if (open > *next) AddText(*next, open);
      Token end;
      end.kind = Token::Kind::kTag;
      end.begin = static_cast<uint32_t>(open);
      end.name = src_.substr(p, 6);
      end.trim_left = trim_left;
      size_t me = close;
      while (me > p + 6 && IsBlank(src_[me - 1])) --me;
      end.trim_right = me > p + 6 && src_[me - 1] == '-';
      end.markup_begin = static_cast<uint32_t>(p + 6);
      tokens_->push_back(end);
      *next = close + 2;
      return true;
    }
  }

  // Whitespace control: trims the text before a `{%-`/`{{-` and after a `-%}`/`-}}`, except inside
  // raw blocks.
  void ApplyTrims() {
    bool in_raw = false;
    for (size_t i = 0; i < tokens_->size(); ++i) {
      Token& t = (*tokens_)[i];
      if (t.kind == Token::Kind::kText) continue;
      if (t.trim_left && i > 0 && !in_raw) TrimEnd(&(*tokens_)[i - 1]);
      if (t.kind == Token::Kind::kTag && t.name == "raw") in_raw = true;
      if (t.kind == Token::Kind::kTag && t.name == "endraw") in_raw = false;
      if (t.trim_right && i + 1 < tokens_->size() && !in_raw) TrimStart(&(*tokens_)[i + 1]);
    }
  }

  static void TrimEnd(Token* t) {
    if (t->kind != Token::Kind::kText) return;
    while (size_t n = TrimmableBefore(t->text, t->text.size())) t->text.remove_suffix(n);
  }

  static void TrimStart(Token* t) {
    if (t->kind != Token::Kind::kText) return;
    size_t n = 0;
    while (size_t len = TrimmableAt(t->text, n)) n += len;
    t->text.remove_prefix(n);
    t->begin += static_cast<uint32_t>(n);
  }

  std::string_view src_;
  std::vector<Token>* tokens_;
  TemplateError* error_;
};

}  // namespace

bool Tokenize(std::string_view source, std::vector<Token>* tokens, TemplateError* error) {
  return Lexer(source, tokens, error).Run();
}

}  // namespace waymark::tmpl
