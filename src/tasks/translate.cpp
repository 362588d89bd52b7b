// translate: English → Zeli, word by word, from the grammar in zeli_grammar.cpp.
#include "stepgrad/support/text.hpp"
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

    // Every Zeli word aligns to the English word it translates ("ka" ↔ "the", "ke" ↔ "that").
    Example sample(Rng& rng, const TaskConfig& config, const Vocab& src, const Vocab& tgt) const override {
        const zeli::Sentence sentence = zeli::random_sentence(rng, rng.between(config.min_len, config.max_len));
        return linked_example(zeli::english(sentence), zeli::zeli(sentence), src, tgt);
    }

    Example answer(std::span<const int> source, const Vocab& src, const Vocab& tgt) const override {
        const std::string english = src.decode(source);
        const zeli::Sentence sentence = zeli::read_english(split_words(english));
        return linked_example(zeli::english(sentence), zeli::zeli(sentence), src, tgt);
    }
};

}  // namespace

const Task& translate_task() {
    static const TranslateTask task;
    return task;
}

}  // namespace stepgrad
