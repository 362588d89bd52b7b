// headline: a news sentence → its headline, seed 004's summarisation (§2.5), from the
// grammar in headline_grammar.cpp. Attention that compresses: the headline skips most of
// the source, merges phrases into a word and says some of them differently.
#include "headline_grammar.hpp"

namespace stepgrad {

namespace {

class HeadlineTask final : public Task {
public:
    std::string_view name() const override { return "headline"; }
    std::string_view description() const override {
        return "a news sentence → its headline, seed 004's summarisation (\"russian defense minister ivanov called "
               "sunday for the creation of a joint front for combating global terrorism\" → \"russia calls for "
               "joint front against terrorism\"), word by word";
    }
    // "russia condemned terrorism" is the shortest sentence; every tail after the main
    // clause makes the longest.
    LengthRange length_range() const override { return headline::sentence_lengths(); }
    // Up to seed 004's 17 words. Measured with lesson 05's budget (1,000 steps, H = 16),
    // seeds 1–8: 100 % held-out exact headlines.
    LengthRange default_lengths() const override { return {3, 17}; }

    Vocab src_vocab(const TaskConfig&) const override {
        return Vocab("headline source (news)", Vocab::Level::word, headline::tokens(headline::Side::news));
    }
    Vocab tgt_vocab(const TaskConfig&) const override {
        return Vocab("headline target (headline)", Vocab::Level::word, headline::tokens(headline::Side::headline));
    }

    Example sample(Rng& rng, const TaskConfig& config, const Vocab& src, const Vocab& tgt) const override {
        return example(headline::random_sentence(rng, rng.between(config.min_len, config.max_len)), src, tgt);
    }

    Example answer(std::span<const int> source, const Vocab& src, const Vocab& tgt) const override {
        std::vector<std::string_view> words;
        for (const int id : source) words.push_back(src.token(id));
        return example(headline::read_news(words), src, tgt);
    }

private:
    static Example example(const headline::Sentence& sentence, const Vocab& src, const Vocab& tgt) {
        return linked_example(headline::write(sentence, headline::Side::news),
                              headline::write(sentence, headline::Side::headline), src, tgt);
    }
};

}  // namespace

const Task& headline_task() {
    static const HeadlineTask task;
    return task;
}

}  // namespace stepgrad
