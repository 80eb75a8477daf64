#include "channels/mime.h"

#include <gtest/gtest.h>

#include <random>

namespace waymark {
namespace {

using mime::EncodeQuotedPrintable;
using mime::EncodeWords;

int Unhex(char c) { return c <= '9' ? c - '0' : c - 'A' + 10; }

// Reference decoders, kept naive on purpose.
std::string DecodeQp(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '=') {
      out.push_back(s[i]);
    } else if (s.substr(i + 1, 2) == "\r\n") {
      i += 2;
    } else {
      out.push_back(char(Unhex(s[i + 1]) * 16 + Unhex(s[i + 2])));
      i += 2;
    }
  }
  return out;
}

std::string DecodeBase64(std::string_view s) {
  static const std::string kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : s) {
    size_t v = kAlphabet.find(c);
    if (v == std::string::npos) continue;
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(char((acc >> bits) & 0xFF));
    }
  }
  return out;
}

// "=?UTF-8?B?...?=" words, concatenated after decoding.
std::string DecodeWords(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) {
    EXPECT_TRUE(w.starts_with("=?UTF-8?B?") && w.ends_with("?=")) << w;
    out += DecodeBase64(std::string_view(w).substr(10, w.size() - 12));
  }
  return out;
}

std::vector<std::string> Lines(std::string_view s) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t pos; (pos = s.find("\r\n", start)) != std::string_view::npos; start = pos + 2) {
    lines.emplace_back(s.substr(start, pos - start));
  }
  lines.emplace_back(s.substr(start));
  return lines;
}

void ExpectOnlyCrlf(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n') {
      ASSERT_TRUE(i > 0 && s[i - 1] == '\r') << "bare LF at " << i;
    }
    if (s[i] == '\r') {
      ASSERT_TRUE(i + 1 < s.size() && s[i + 1] == '\n') << "bare CR at " << i;
    }
  }
}

std::string Unfold(std::string s) {
  for (size_t pos; (pos = s.find("\r\n ")) != std::string::npos;) s.erase(pos, 2);
  return s;
}

TEST(QuotedPrintableTest, EscapesEqualsAndNonAscii) {
  EXPECT_EQ(EncodeQuotedPrintable("a=b"), "a=3Db");
  EXPECT_EQ(EncodeQuotedPrintable("caf\xC3\xA9"), "caf=C3=A9");
  EXPECT_EQ(EncodeQuotedPrintable("tab\there"), "tab\there");
  EXPECT_EQ(EncodeQuotedPrintable("bell\x07"), "bell=07");
}

TEST(QuotedPrintableTest, EncodesWhitespaceBeforeLineEndAndAtEnd) {
  EXPECT_EQ(EncodeQuotedPrintable("a \nb"), "a=20\r\nb");
  EXPECT_EQ(EncodeQuotedPrintable("a\t\r\nb "), "a=09\r\nb=20");
  EXPECT_EQ(EncodeQuotedPrintable("two  \n"), "two =20\r\n");
}

TEST(QuotedPrintableTest, NormalisesEveryLineEndToCrlf) {
  EXPECT_EQ(EncodeQuotedPrintable("a\nb\r\nc\rd\n"), "a\r\nb\r\nc\r\nd\r\n");
  EXPECT_EQ(EncodeQuotedPrintable("\n\n"), "\r\n\r\n");
  EXPECT_EQ(EncodeQuotedPrintable(""), "");
}

TEST(QuotedPrintableTest, SoftBreaksLongLinesWithoutSplittingEscapes) {
  std::string line(74, 'a');
  line += "\xC3\xA9\xC3\xA9 end";
  std::string qp = EncodeQuotedPrintable(line);
  for (const std::string& l : Lines(qp)) {
    EXPECT_LE(l.size(), 76u) << l;
    size_t eq = l.rfind('=');
    if (eq != std::string::npos) {
      EXPECT_TRUE(eq + 3 <= l.size() || eq + 1 == l.size()) << l;
    }
  }
  EXPECT_EQ(DecodeQp(qp), line);
  EXPECT_EQ(Lines(qp)[0], std::string(74, 'a') + "=");
}

TEST(QuotedPrintableTest, RoundTripsRandomBytesWithShortLines) {
  std::mt19937_64 rng(7);
  for (int round = 0; round < 200; ++round) {
    std::string data;
    size_t n = rng() % 600;
    for (size_t i = 0; i < n; ++i) {
      uint64_t r = rng() % 10;
      data.push_back(r < 6 ? char('a' + rng() % 26) : r == 6 ? ' ' : r == 7 ? '=' : char(rng()));
    }
    // Line ends are normalised, so compare against the CRLF form of the input.
    std::string crlf;
    for (size_t i = 0; i < data.size(); ++i) {
      if (data[i] == '\r' || data[i] == '\n') {
        crlf += "\r\n";
        if (data[i] == '\r' && i + 1 < data.size() && data[i + 1] == '\n') ++i;
      } else {
        crlf += data[i];
      }
    }
    std::string qp = EncodeQuotedPrintable(data);
    ExpectOnlyCrlf(qp);
    for (const std::string& l : Lines(qp)) {
      ASSERT_LE(l.size(), 76u);
      ASSERT_FALSE(!l.empty() && (l.back() == ' ' || l.back() == '\t')) << "trailing space";
    }
    ASSERT_EQ(DecodeQp(qp), crlf) << "round " << round;
  }
}

TEST(Base64LinesTest, WrapsAt76AndRoundTrips) {
  std::string data(500, '\xE3');
  std::string b64 = mime::EncodeBase64Lines(data);
  for (const std::string& l : Lines(b64)) EXPECT_LE(l.size(), 76u);
  EXPECT_EQ(DecodeBase64(b64), data);
  EXPECT_EQ(mime::Base64("ab"), "YWI=");
  EXPECT_EQ(mime::Base64("a"), "YQ==");
  EXPECT_EQ(mime::Base64("abc"), "YWJj");
}

TEST(EncodedWordTest, SplitsOnUtf8BoundariesWithinLimits) {
  // 4-byte emoji and 2/3-byte letters: any byte split would leave invalid UTF-8 in a word.
  std::string text;
  for (int i = 0; i < 12; ++i) text += "\xF0\x9F\x9B\x92 \xC3\xA9t\xC3\xA9 \xE2\x82\xAC";
  std::vector<std::string> words = EncodeWords(text, 69);
  ASSERT_GT(words.size(), 3u);
  EXPECT_LE(words[0].size(), 69u);
  for (const std::string& w : words) {
    EXPECT_LE(w.size(), 75u);
    EXPECT_TRUE(mime::IsValidUtf8(DecodeWords({w}))) << w;
  }
  EXPECT_EQ(DecodeWords(words), text);
}

TEST(EncodedWordTest, TinyFirstBudgetStillMakesProgress) {
  std::vector<std::string> words = EncodeWords("\xF0\x9F\x98\x80", 16);
  ASSERT_EQ(words.size(), 1u);
  EXPECT_EQ(DecodeWords(words), "\xF0\x9F\x98\x80");
}

TEST(HeaderTest, AsciiStaysReadableAndFoldsAtSpaces) {
  std::string out;
  mime::AppendUnstructuredHeader("Subject", "Your cart is waiting", &out);
  EXPECT_EQ(out, "Subject: Your cart is waiting\r\n");

  std::string words;
  for (int i = 0; i < 30; ++i) words += (i ? " " : "") + std::string("word") + std::to_string(i);
  out.clear();
  mime::AppendUnstructuredHeader("Subject", words, &out);
  for (const std::string& l : Lines(out.substr(0, out.size() - 2))) EXPECT_LE(l.size(), 78u);
  EXPECT_EQ(Unfold(out), "Subject: " + words + "\r\n");
}

TEST(HeaderTest, EncodesNonAsciiAndLookalikeEncodedWords) {
  std::string out;
  std::string subject = "\xF0\x9F\x9B\x92 Ana, your cart misses you \xE2\x80\x94 10% off inside!";
  mime::AppendUnstructuredHeader("Subject", subject, &out);
  ASSERT_TRUE(out.starts_with("Subject: =?UTF-8?B?"));
  std::vector<std::string> lines = Lines(out.substr(0, out.size() - 2));
  std::vector<std::string> words;
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_LE(lines[i].size(), 78u);
    std::string_view l = lines[i];
    l.remove_prefix(i == 0 ? 9 : 1);
    words.emplace_back(l);
  }
  EXPECT_EQ(DecodeWords(words), subject);

  out.clear();
  mime::AppendUnstructuredHeader("Subject", "literal =?x?= text", &out);
  EXPECT_TRUE(out.starts_with("Subject: =?UTF-8?B?")) << out;
}

EmailMessage Sample() {
  EmailMessage m;
  m.from = {"Shop", "news@shop.example"};
  m.to = {"Ana Lima", "ana@example.com"};
  m.subject = "Hello";
  m.text = "Hi Ana,\nyour cart is waiting.\n";
  m.html = "<p>Hi Ana,</p>\n<p><a href=\"https://shop.example/cart?id=1&amp;u=2\">cart</a></p>\n";
  m.message_id = "0123456789abcdef";
  m.list_unsubscribe_url = "https://shop.example/u/abc";
  m.list_unsubscribe_mailto = "unsubscribe@shop.example";
  return m;
}

constexpr int64_t kFri13Mar2026 = 1773392700000;  // 09:05:00 UTC

TEST(Rfc5322DateTest, FormatsUtcDate) {
  EXPECT_EQ(FormatRfc5322Date(FromMillis(kFri13Mar2026)), "Fri, 13 Mar 2026 09:05:00 +0000");
  EXPECT_EQ(FormatRfc5322Date(FromMillis(951782400000)), "Tue, 29 Feb 2000 00:00:00 +0000");
}

TEST(BuildMimeMessageTest, WritesEveryRequiredHeader) {
  Result<std::string> msg = BuildMimeMessage(Sample(), FromMillis(kFri13Mar2026));
  ASSERT_TRUE(msg.ok()) << msg.status().message();
  const std::string& s = *msg;
  ExpectOnlyCrlf(s);
  EXPECT_TRUE(s.starts_with("Date: Fri, 13 Mar 2026 09:05:00 +0000\r\n"));
  EXPECT_NE(s.find("\r\nFrom: Shop <news@shop.example>\r\n"), std::string::npos);
  EXPECT_NE(s.find("\r\nTo: Ana Lima <ana@example.com>\r\n"), std::string::npos);
  EXPECT_NE(s.find("\r\nSubject: Hello\r\n"), std::string::npos);
  EXPECT_NE(s.find("\r\nMessage-ID: <0123456789abcdef@shop.example>\r\n"), std::string::npos);
  EXPECT_NE(Unfold(s).find("\r\nList-Unsubscribe: <https://shop.example/u/abc>,"
                           " <mailto:unsubscribe@shop.example>\r\n"),
            std::string::npos);
  EXPECT_NE(s.find("\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"), std::string::npos);
  EXPECT_NE(s.find("\r\nMIME-Version: 1.0\r\n"), std::string::npos);
  EXPECT_NE(s.find("Content-Type: multipart/alternative; boundary=\"=_wm_"), std::string::npos);
  EXPECT_NE(s.find("Content-Type: text/plain; charset=utf-8\r\n"
                   "Content-Transfer-Encoding: quoted-printable\r\n"),
            std::string::npos);
  EXPECT_NE(s.find("href=3D\"https://shop.example/cart?id=3D1&amp;u=3D2\""), std::string::npos);
  EXPECT_TRUE(s.ends_with("--\r\n"));
  for (const std::string& l : Lines(s)) EXPECT_LE(l.size(), 78u) << l;
}

TEST(BuildMimeMessageTest, IsDeterministic) {
  Time t = FromMillis(kFri13Mar2026);
  EXPECT_EQ(*BuildMimeMessage(Sample(), t), *BuildMimeMessage(Sample(), t));
}

TEST(BuildMimeMessageTest, EncodesNonAsciiAndQuotesSpecialNames) {
  EmailMessage m = Sample();
  m.from.name = "Jos\xC3\xA9 da Lo\xC3\xA7\x61 \xF0\x9F\x9A\x80";
  m.to.name = "Lima, Ana \"A\"";
  m.reply_to = Mailbox{"", "help@shop.example"};
  std::string s = *BuildMimeMessage(m, FromMillis(0));
  EXPECT_NE(s.find("\r\nFrom: =?UTF-8?B?"), std::string::npos);
  EXPECT_NE(s.find(" <news@shop.example>\r\n"), std::string::npos);
  EXPECT_NE(s.find("\r\nTo: \"Lima, Ana \\\"A\\\"\" <ana@example.com>\r\n"), std::string::npos);
  EXPECT_NE(s.find("\r\nReply-To: help@shop.example\r\n"), std::string::npos);
}

TEST(BuildMimeMessageTest, MostlyNonAsciiBodyUsesBase64) {
  EmailMessage m = Sample();
  m.text = "\xE3\x81\x93\xE3\x82\x93\xE3\x81\xAB\xE3\x81\xA1\xE3\x81\xAF";
  std::string s = *BuildMimeMessage(m, FromMillis(0));
  EXPECT_NE(s.find("Content-Transfer-Encoding: base64\r\n\r\n" + mime::Base64(m.text) + "\r\n"),
            std::string::npos);
}

TEST(BuildMimeMessageTest, SinglePartEndsWithSoftBreak) {
  EmailMessage m = Sample();
  m.text.clear();
  m.html = "<p>only html</p>";
  m.list_unsubscribe_url = "http://shop.example/u";  // not https: no one-click header
  m.list_unsubscribe_mailto.reset();
  std::string s = *BuildMimeMessage(m, FromMillis(0));
  EXPECT_EQ(s.find("multipart"), std::string::npos);
  EXPECT_NE(s.find("Content-Type: text/html; charset=utf-8\r\n"), std::string::npos);
  EXPECT_TRUE(s.ends_with("\r\n\r\n<p>only html</p>=\r\n")) << s;
  EXPECT_NE(s.find("List-Unsubscribe: <http://shop.example/u>\r\n"), std::string::npos);
  EXPECT_EQ(s.find("List-Unsubscribe-Post"), std::string::npos);
}

TEST(BuildMimeMessageTest, KeepsLongLinksWithinLineLimits) {
  EmailMessage m = Sample();
  std::string url = "https://shop.example/t/" + std::string(300, 'x') + "?a=1&b=2";
  m.list_unsubscribe_url = url;
  m.html = "<a href=\"" + url + "\">unsubscribe</a>";
  std::string s = *BuildMimeMessage(m, FromMillis(0));
  for (const std::string& l : Lines(s)) EXPECT_LE(l.size(), 998u);
  EXPECT_NE(s.find("List-Unsubscribe: <" + url + ">,\r\n <mailto:"), std::string::npos);
}

TEST(BuildMimeMessageTest, ExtraHeadersAreEncodedAndReservedOnesRejected) {
  EmailMessage m = Sample();
  m.extra_headers = {{"X-Campaign", "caf\xC3\xA9"}, {"X-Plain", "abandoned-cart"}};
  std::string s = *BuildMimeMessage(m, FromMillis(0));
  EXPECT_NE(s.find("\r\nX-Campaign: =?UTF-8?B?" + mime::Base64("caf\xC3\xA9") + "?=\r\n"),
            std::string::npos);
  EXPECT_NE(s.find("\r\nX-Plain: abandoned-cart\r\n"), std::string::npos);

  m.extra_headers = {{"subject", "again"}};
  Result<std::string> r = BuildMimeMessage(m, FromMillis(0));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "extra header: 'subject' is written by the builder itself");
}

TEST(BuildMimeMessageTest, RejectsInjectionAndMalformedInput) {
  auto error = [](EmailMessage m) {
    Result<std::string> r = BuildMimeMessage(m, FromMillis(0));
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    return r.ok() ? std::string() : r.status().message();
  };
  EmailMessage m = Sample();
  m.subject = "Hi\r\nBcc: victim@example.com";
  EXPECT_EQ(error(m), "subject: contains a line break");
  m = Sample();
  m.text = "bad \xC3\x28";
  EXPECT_EQ(error(m), "text: not valid UTF-8");
  m = Sample();
  m.to.address = "ana@example.com>\r\nX: y";
  EXPECT_EQ(error(m), "To: bad address 'ana@example.com>\r\nX: y'");
  m = Sample();
  m.from.address = "no-at-sign";
  EXPECT_EQ(error(m), "From: bad address 'no-at-sign'");
  m = Sample();
  m.text.clear();
  m.html.clear();
  EXPECT_EQ(error(m), "email: text and html are empty");
  m = Sample();
  m.list_unsubscribe_url = "javascript:alert(1)";
  EXPECT_EQ(error(m),
            "list_unsubscribe_url: not an http(s) URL without spaces: 'javascript:alert(1)'");
  m = Sample();
  m.message_id = "<x y>";
  EXPECT_EQ(error(m), "message_id: bad id '<x y>'");
}

TEST(Utf8Test, RejectsOverlongsSurrogatesAndTruncation) {
  EXPECT_TRUE(mime::IsValidUtf8("a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80"));
  EXPECT_FALSE(mime::IsValidUtf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(mime::IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(mime::IsValidUtf8("\xF0\x9F\x98"));      // truncated
  EXPECT_FALSE(mime::IsValidUtf8("\xF4\x90\x80\x80"));  // past U+10FFFF
}

}  // namespace
}  // namespace waymark
