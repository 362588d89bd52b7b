#pragma once
// The seeds' own language (SPEC §12): one grammar that writes English and Chinese
// sentences from the same tree, word for word linked (src/tasks/chinese_grammar.cpp
// explains the rules). en-zh and zh-en are its two directions.
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "linked_words.hpp"
#include "stepgrad/random.hpp"
#include "stepgrad/tasks.hpp"

namespace stepgrad::chinese {

enum class Language { english, chinese };

// Entries of the lexicon (defined in chinese_grammar.cpp).
struct Word;  // a pronoun, name, adjective, number or time: one form in each language
struct Noun;  // singular and plural, and the Chinese measure word
struct Verb;  // base, third person and past forms
struct Preposition;

// A sentence's tree. Both languages are written from it; the slot a word fills links it
// to its translation.
struct NounPhrase {
    const Word* word = nullptr;       // I, Tom, China (then nothing else)
    const Word* number = nullptr;     // a, two, three ↔ 一 两 三; none: "the"
    const Word* adjective = nullptr;  // big, small, …
    const Noun* noun = nullptr;
};

struct Relative {  // "that Tom likes" ↔ "汤姆 喜欢 的"
    NounPhrase subject;
    const Verb* verb = nullptr;
};

struct Object {
    NounPhrase noun_phrase;
    std::optional<Relative> relative;  // only after "the"
};

struct Place {  // "in the garden" ↔ "在 花园 里"
    const Preposition* preposition = nullptr;
    const Noun* noun = nullptr;
};

enum class Tense { present, past };

struct Clause {
    NounPhrase subject;
    Tense tense = Tense::present;
    bool negative = false;  // "does not", "did not" ↔ 不, 没
    bool question = false;  // "does", "did" … ↔ … 吗
    const Verb* verb = nullptr;
    std::optional<Object> object;
    std::optional<Place> place;
    const Word* time = nullptr;
};

struct Head {  // "Tom says that" ↔ "汤姆 说"
    NounPhrase subject;
    const Verb* verb = nullptr;
};

struct Sentence {
    std::vector<Head> heads;
    Clause clause;
};

// A sentence of exactly `length` words (≥ 2) in the `counted` language.
Sentence random_sentence(Rng& rng, int length, Language counted);
// The sentence these words (tokens of the language's vocabulary) say; throws TaskError
// naming the first word the grammar does not expect.
Sentence read(Language language, std::span<const std::string_view> words);
LinkedWords write(const Sentence& sentence, Language language);
// Every word of the language, in a fixed order.
std::vector<std::string> tokens(Language language);

// en-zh and zh-en: the grammar's pairs read from one side (en-zh.cpp, zh-en.cpp).
class TranslationTask final : public Task {
public:
    TranslationTask(Language source, std::string_view name, std::string_view description);
    std::string_view name() const override { return name_; }
    std::string_view description() const override { return description_; }
    // "Tom sleeps" and "汤姆 睡觉" are the shortest sentences; "Tom says that …" makes any
    // sentence longer.
    LengthRange length_range() const override { return {2, task_max_len}; }
    // Measured with lesson 05's budget (1,000 steps, H = 16), seeds 1–3: 3–6 words give
    // 95.8–99.4 % held-out exact sentences; 3–8 gave 86.8 % on one seed.
    LengthRange default_lengths() const override { return {3, 6}; }
    Vocab src_vocab(const TaskConfig& config) const override;
    Vocab tgt_vocab(const TaskConfig& config) const override;
    Example sample(Rng& rng, const TaskConfig& config, const Vocab& src, const Vocab& tgt) const override;
    Example answer(std::span<const int> src, const Vocab& src_vocab, const Vocab& tgt_vocab) const override;

private:
    Language source_;
    std::string_view name_, description_;
    Language target() const { return source_ == Language::english ? Language::chinese : Language::english; }
};

}  // namespace stepgrad::chinese
