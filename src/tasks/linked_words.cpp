#include "linked_words.hpp"

namespace stepgrad {

std::vector<std::string_view> texts(const LinkedWords& words) {
    std::vector<std::string_view> out;
    out.reserve(words.size());
    for (const LinkedWord& word : words) out.push_back(word.text);
    return out;
}

Example linked_example(const LinkedWords& source, const LinkedWords& target, const Vocab& src, const Vocab& tgt) {
    Example e{src.encode_tokens(texts(source)), tgt.encode_tokens(texts(target))};
    for (const LinkedWord& word : target) {
        std::vector<int> positions;
        for (int i = 0; i < static_cast<int>(source.size()); ++i)
            if (word.link != nullptr && source[static_cast<std::size_t>(i)].link == word.link) positions.push_back(i);
        e.alignment.push_back(std::move(positions));
    }
    e.alignment.push_back({static_cast<int>(source.size())});  // <eos> ↔ <eos>
    return e;
}

}  // namespace stepgrad
