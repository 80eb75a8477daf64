// Splits template text into literal text, output ({{ }}) and tag ({% %}) tokens, applying
// whitespace control ({%- -%} {{- -}}) to the neighbouring text.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "template/template.h"

namespace waymark::tmpl {

struct Token {
  enum class Kind : uint8_t { kText, kOutput, kTag };
  Kind kind = Kind::kText;
  bool trim_left = false;     // `{{-` / `{%-`: strip whitespace before
  bool trim_right = false;    // `-}}` / `-%}`: strip whitespace after
  uint32_t begin = 0;         // of the token in the source ("{{" for output and tags)
  std::string_view text;      // kText: the text; kOutput: the markup; kTag: the arguments
  std::string_view name;      // kTag: the tag name
  uint32_t markup_begin = 0;  // offset of `text` (kOutput) or of the arguments (kTag)
};

// Tokenizes `source`. Text between {% raw %} and {% endraw %} comes back as one text token.
// Returns false with *error set when a delimiter is not closed.
bool Tokenize(std::string_view source, std::vector<Token>* tokens, TemplateError* error);

// The 1-based line and column (in code points) of byte `offset` in `source`.
void LineCol(std::string_view source, size_t offset, int* line, int* col);

// Liquid identifier characters: ASCII letters, digits, '_', '-', '?' and any non-ASCII byte.
inline bool IsWordChar(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '_' ||
         u == '-' || u == '?' || u >= 0x80;
}

inline bool IsBlank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

}  // namespace waymark::tmpl
