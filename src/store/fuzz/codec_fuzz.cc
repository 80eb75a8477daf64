// libFuzzer target: every decoder in store/codec.h over arbitrary bytes. Decoding must return a
// Status, never crash, hang or allocate without bound; a successful profile decode must re-encode
// and decode again to the same bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "store/codec.h"
#include "store/store_test_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace waymark;
  static const std::shared_ptr<Config> config = store::testing::MakeTestConfig();
  std::string_view bytes(reinterpret_cast<const char*>(data), size);

  ProfileState ps;
  if (store::DecodeProfileState(bytes, *config, &ps, nullptr).ok()) {
    std::string again;
    store::EncodeProfileState(ps, *config, &again);
    ProfileState ps2;
    if (!store::DecodeProfileState(again, *config, &ps2, nullptr).ok()) __builtin_trap();
    std::string third;
    store::EncodeProfileState(ps2, *config, &third);
    if (third != again) __builtin_trap();
  }
  store::OutboxEntry entry;
  (void)store::DecodeOutboxValue(bytes, &entry);
  (void)store::DecodeTimeValue(bytes);
  (void)store::DecodeBytesValue(bytes);
  Value v;
  (void)store::DecodeValue(bytes, &v);
  return 0;
}
