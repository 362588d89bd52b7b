// libFuzzer target for the JSON parser and writer (issue 8). Any input must either
// parse or throw JsonError; what parses must write out and read back to the same value,
// and writing that again must give the same bytes.
//
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I include \
//       tests/fuzz/fuzz_json.cpp src/json.cpp -lfmt -o fuzz_json
//   mkdir -p /tmp/json && ./fuzz_json -max_total_time=60 /tmp/json tests/fuzz/corpus/json
//   (new inputs go to the first folder: the repo's corpus stays as it is)
// tests/fuzz/CMakeLists.txt builds it; the asan preset runs it for a few seconds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "stepgrad/support/json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    stepgrad::Json value;
    try {
        value = stepgrad::parse_json(text);
    } catch (const stepgrad::JsonError&) {
        return 0;
    }
    const std::string written = stepgrad::to_json_string(value);
    const stepgrad::Json again = stepgrad::parse_json(written);
    if (!(again == value)) std::abort();
    if (stepgrad::to_json_string(again) != written) std::abort();
    return 0;
}
