// libFuzzer target for the tokenizers a user's text goes through (issue 8): the dates
// source (characters) and the translate source (English words) and target (Zeli).
// Any input must either encode or throw TaskError (UnknownToken is one); what encodes
// must decode to text that encodes to the same ids. The English reader of the translate
// grammar must likewise answer or throw TaskError, and so must task_target, which reads a
// user's --sentence (a date in any format, an English sentence) to find its answer.
//
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I include \
//       tests/fuzz/fuzz_tokenizers.cpp src/tasks.cpp src/random.cpp -lfmt -o fuzz_tokenizers
//   mkdir -p /tmp/tokenizers && ./fuzz_tokenizers -max_total_time=60 /tmp/tokenizers tests/fuzz/corpus/tokenizers
//   (new inputs go to the first folder: the repo's corpus stays as it is)
// tests/fuzz/CMakeLists.txt builds it; the asan preset runs it for a few seconds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "stepgrad/tasks.hpp"

namespace {

const stepgrad::Vocab& vocab(int which) {
    static const stepgrad::Vocab vocabs[] = {
        stepgrad::make_src_vocab(stepgrad::default_task_config("dates")),
        stepgrad::make_src_vocab(stepgrad::default_task_config("translate")),
        stepgrad::make_tgt_vocab(stepgrad::default_task_config("translate")),
        stepgrad::make_src_vocab(stepgrad::default_task_config("reverse")),
    };
    return vocabs[which];
}

// The tasks whose answers task_target finds for a user's source.
const stepgrad::TaskGenerator& task(int which) {
    static const stepgrad::TaskGenerator tasks[] = {
        stepgrad::TaskGenerator(stepgrad::default_task_config("dates"), 1),
        stepgrad::TaskGenerator(stepgrad::default_task_config("translate"), 1),
        stepgrad::TaskGenerator(stepgrad::default_task_config("sort"), 1),
    };
    return tasks[which];
}

void check_target(const stepgrad::TaskGenerator& t, std::string_view text) {
    std::vector<int> src, target;
    try {
        src = t.src_vocab().encode(text);
        target = stepgrad::task_target(t, src);
    } catch (const stepgrad::TaskError&) {
        return;
    }
    if (target.empty() || target.back() != stepgrad::Vocab::eos) std::abort();
    t.tgt_vocab().decode(target);  // every id is in the target vocabulary
}

void check_round_trip(const stepgrad::Vocab& v, std::string_view text) {
    std::vector<int> ids;
    try {
        ids = v.encode(text);
    } catch (const stepgrad::TaskError&) {
        return;
    }
    if (ids.empty() || ids.back() != stepgrad::Vocab::eos) std::abort();
    if (v.encode(v.decode(ids)) != ids) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    for (int which = 0; which < 4; ++which) check_round_trip(vocab(which), text);
    for (int which = 0; which < 3; ++which) check_target(task(which), text);
    try {
        const std::string zeli = stepgrad::translate_sentence(text);
        vocab(2).encode(zeli);  // every translation is in the target vocabulary
    } catch (const stepgrad::UnknownToken&) {
        std::abort();
    } catch (const stepgrad::TaskError&) {
    }
    return 0;
}
