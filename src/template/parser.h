// Builds the node tree of a template from its tokens.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "template/ast.h"
#include "template/lexer.h"

namespace waymark::tmpl {

class Parser {
 public:
  // `impl->source` holds the text; Parse fills the rest of *impl.
  explicit Parser(Template::Impl* impl) : impl_(impl), src_(impl->source) {}

  // Returns false with *error set on the first syntax error.
  bool Parse(TemplateError* error);

 private:
  // --- blocks and tags (parser.cc)
  // Parses nodes into *block until a tag named in `ends` (returned through *end), or to the end
  // of input when `ends` is empty.
  bool ParseBlock(Block* block, std::initializer_list<std::string_view> ends, const Token** end);
  bool ParseTag(const Token& tag, Block* block);
  bool ParseIf(const Token& tag, bool unless, Block* block);
  bool ParseCase(const Token& tag, Block* block);
  bool ParseFor(const Token& tag, Block* block);
  bool ParseAssign(const Token& tag, Block* block);
  bool ParseCapture(const Token& tag, Block* block);
  bool ParseCounter(const Token& tag, NodeKind kind, Block* block);
  bool SkipComment(const Token& tag);
  bool ExpectNoArgs(const Token& tag);
  bool NotClosed(const Token& tag);

  // --- expressions (expr_parser.cc); markup is scanned from pos_ to end_.
  void StartMarkup(std::string_view markup, uint32_t offset);
  bool ParseFilteredExpr(FilteredExpr* out);
  bool ParseExpr(int32_t* out);
  bool ParseNot(int32_t* out);
  bool ParseComparison(int32_t* out);
  bool ParseValue(int32_t* out);
  bool ParseProperties(Expr* e);
  bool ParseFilter();
  bool ParseRange(int32_t* out);
  bool ParseQuoted(std::string_view* out);
  bool ParseNumber(int32_t* out);
  bool ExpectEnd();
  std::string_view ReadIdentifier();
  bool AtKeyword(std::string_view word) const;
  void SkipBlanks();
  bool AtEnd() {
    SkipBlanks();
    return pos_ >= end_;
  }
  char Peek(size_t ahead = 0) const { return pos_ + ahead < end_ ? src_[pos_ + ahead] : '\0'; }
  int32_t AddExpr(const Expr& e);
  void RecordVariable(const Expr& e);
  bool IsLocal(std::string_view name) const;
  void Bind(std::string_view name) { bound_.push_back(name); }
  void MarkUnboundVariables();

  bool Fail(size_t offset, std::string message);

  Template::Impl* impl_;
  std::string_view src_;
  std::vector<Token> tokens_;
  size_t next_ = 0;  // next token
  TemplateError* error_ = nullptr;

  size_t pos_ = 0, end_ = 0;  // markup being scanned

  std::vector<std::string_view> locals_;  // loop variables and assigned names in scope
  std::vector<std::string_view> bound_;   // every name a tag binds, anywhere in the template
};

}  // namespace waymark::tmpl
