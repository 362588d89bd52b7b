// translate: English → Zeli, word by word, from the grammar in zeli_grammar.cpp.
#include "stepgrad/tasks.hpp"
#include "zeli_grammar.hpp"

namespace stepgrad {

namespace {

class TranslateTask final : public Task {
public:
    std::string_view name() const override { return "translate"; }
    std::string_view description() const override {
        return "English → Zeli, a made-up language that puts verbs last and adjectives after their "
               "noun (\"the big dog sees the small cat\" → \"kani gro ka mišu piti ka vidas\"), word by "
               "word";
    }
    // "the dog sleeps" is the shortest sentence
    LengthRange length_range() const override { return {3, task_max_len}; }
    LengthRange default_lengths() const override { return {3, 12}; }

    Vocab src_vocab(const TaskConfig&) const override {
        return Vocab("translate source (English)", Vocab::Level::word, zeli::english_tokens());
    }
    Vocab tgt_vocab(const TaskConfig&) const override {
        return Vocab("translate target (Zeli)", Vocab::Level::word, zeli::zeli_tokens());
    }

    Example sample(Rng& rng, const TaskConfig& config, const Vocab& src, const Vocab& tgt) const override {
        zeli::Words english, zeli;
        zeli::random_sentence(rng, rng.between(config.min_len, config.max_len), english, zeli);
        return {src.encode_tokens(english), tgt.encode_tokens(zeli)};
    }

    std::vector<int> target(std::span<const int> source, const Vocab& src, const Vocab& tgt) const override {
        return tgt.encode(translate_sentence(src.decode(source)));
    }
};

}  // namespace

const Task& translate_task() {
    static const TranslateTask task;
    return task;
}

}  // namespace stepgrad
