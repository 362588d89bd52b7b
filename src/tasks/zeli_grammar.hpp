#pragma once
// The translate task's grammar: English sentences and their Zeli translations, word for
// word aligned (src/tasks/zeli_grammar.cpp explains the language).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "linked_words.hpp"
#include "stepgrad/random.hpp"

namespace stepgrad::zeli {

struct LexEntry;  // a word of the lexicon, in both languages

// A sentence's tree. Both languages are written from it (english(), zeli()), so each
// word's slot in the tree links it to its translation.
struct NounPhrase {
    const LexEntry* det;
    std::vector<const LexEntry*> adjectives;  // in English order
    const LexEntry* noun;
};

struct PrepPhrase {
    const LexEntry* prep;
    NounPhrase place;
};

// A simple clause: a Vi or Vt verb and its places.
struct Clause {
    NounPhrase subject;
    const LexEntry* verb;
    std::optional<NounPhrase> object;
    std::vector<PrepPhrase> places;
};

struct Head {  // "the king says that"
    NounPhrase subject;
    const LexEntry* verb;
    const LexEntry* that;
};

struct Sentence {
    std::vector<Head> heads;
    Clause clause;
};

// A sentence of exactly `length` words (≥ 3) in both languages.
Sentence random_sentence(Rng& rng, int length);
// The sentence an English text (words of the lexicon) says; throws TaskError when the
// grammar cannot produce it.
Sentence read_english(std::vector<std::string_view> words);
LinkedWords english(const Sentence& sentence);
LinkedWords zeli(const Sentence& sentence);
// Every word of each side of the lexicon, in a fixed order.
std::vector<std::string> english_tokens();
std::vector<std::string> zeli_tokens();

}  // namespace stepgrad::zeli
