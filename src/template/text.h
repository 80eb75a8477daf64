// UTF-8 helpers with the semantics liquidjs gets from JavaScript strings: lengths in UTF-16 code
// units, whitespace as JavaScript's \s, and case mapping.
//
// Case mapping covers ASCII, Latin-1, Latin Extended-A, Latin Extended Additional (Vietnamese),
// Greek and Cyrillic, including ß -> SS and İ -> i̇. Other scripts pass through unchanged, and
// the context-dependent final sigma is not applied.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace waymark::tmpl {

// Decodes the code point at s[pos] into *cp and returns its byte length (at least 1; an invalid
// byte decodes as itself).
size_t DecodeUtf8(std::string_view s, size_t pos, uint32_t* cp);
void AppendUtf8(uint32_t cp, std::string* out);

// Number of UTF-16 code units (JavaScript's length).
size_t Utf16Length(std::string_view s);
size_t CodePointLength(std::string_view s);
// Byte offset reached by advancing `count` code points from byte offset `from` (clamped to size).
size_t AdvanceCodePoints(std::string_view s, size_t from, size_t count);

// Byte length of the JavaScript whitespace character at s[pos], or 0 when there is none.
size_t JsSpaceAt(std::string_view s, size_t pos);
// The length of the whitespace at the end of s that ends at `end`, searching backwards; 0 if none.
size_t JsSpaceBefore(std::string_view s, size_t end);
std::string_view JsTrim(std::string_view s, bool left, bool right);

void AppendUpper(std::string_view s, std::string* out);
void AppendLower(std::string_view s, std::string* out);
uint32_t ToUpper(uint32_t cp);
uint32_t ToLower(uint32_t cp);

}  // namespace waymark::tmpl
