#pragma once
// The translate task's grammar: English sentences and their Zeli translations, word for
// word aligned (src/tasks/zeli_grammar.cpp explains the language).
#include <string>
#include <string_view>
#include <vector>

#include "stepgrad/random.hpp"

namespace stepgrad::zeli {

using Words = std::vector<std::string_view>;

// A sentence of exactly `length` words (≥ 3) in both languages.
void random_sentence(Rng& rng, int length, Words& english, Words& zeli);
// Every word of each side of the lexicon, in a fixed order.
std::vector<std::string> english_tokens();
std::vector<std::string> zeli_tokens();

}  // namespace stepgrad::zeli
