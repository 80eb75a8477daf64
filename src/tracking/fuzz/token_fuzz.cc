// libFuzzer target: Keyring::Verify, DecodePayload and BuildRedirect on arbitrary bytes. Built
// only by clang (see ../CMakeLists.txt). Verify must return an error value, never crash; a token
// it accepts must redirect or fail cleanly.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tracking/keyring.h"
#include "tracking/redirect.h"

namespace {

const waymark::tracking::Keyring& Ring() {
  static const waymark::tracking::Keyring ring =
      std::move(waymark::tracking::Keyring::FromSpec("1:" + std::string(64, 'a') +
                                                     ",2:" + std::string(64, 'b') + ";current=2"))
          .value();
  return ring;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace waymark::tracking;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  waymark::Result<LinkToken> verified = Ring().Verify(input, waymark::FromMillis(0));
  if (verified.ok()) {
    (void)BuildRedirect(*verified, RedirectOptions{});
  } else if (!TokenErrorOf(verified.status()).has_value()) {
    __builtin_trap();  // every rejection must be classified
  }
  waymark::Result<LinkToken> decoded = DecodePayload(input);
  if (decoded.ok()) {
    // Anything that decodes re-encodes to the same bytes (the format is canonical) or is refused.
    waymark::Result<std::string> again = EncodePayload(*decoded);
    if (again.ok() && *again != input) __builtin_trap();
    (void)BuildRedirect(*decoded, RedirectOptions{});
  }
  return 0;
}
