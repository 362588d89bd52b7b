#pragma once
// A sentence pair a grammar wrote word by word (translate, en-zh, zh-en). Each word
// remembers the part of the sentence's tree it renders — a noun phrase's noun, a clause's
// verb — so the same part, written in both languages, links a word to its translation.
// A function word only one language has (的, 了, "the" before a Chinese noun) links to
// nothing. The tree must outlive its words.
#include <string_view>
#include <vector>

#include "stepgrad/data.hpp"

namespace stepgrad {

struct LinkedWord {
    std::string_view text;
    const void* link = nullptr;  // the part of the tree it renders; nullptr: a function word
};
using LinkedWords = std::vector<LinkedWord>;

// The ids of both sentences (each ending with <eos>) and the gold alignment: each target
// word aligns to the source words with its link, <eos> to <eos>.
Example linked_example(const LinkedWords& source, const LinkedWords& target, const Vocab& src, const Vocab& tgt);
// The words alone.
std::vector<std::string_view> texts(const LinkedWords& words);

}  // namespace stepgrad
