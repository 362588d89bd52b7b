#include "stepgrad/data.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "stepgrad/support/text.hpp"

namespace stepgrad {

// ---- vocabularies ----

Vocab::Vocab(std::string name_, Level level_, const std::vector<std::string>& regular)
    : name(std::move(name_)), level(level_), tokens{"<pad>", "<bos>", "<eos>"} {
    tokens.insert(tokens.end(), regular.begin(), regular.end());
    for (int i = 0; i < size(); ++i)
        if (!ids.emplace(tokens[i], i).second)
            throw TaskError(fmt::format("{} vocabulary: token {} appears twice", name,
                                        quoted(tokens[i])));
}

bool Vocab::contains(std::string_view token) const { return ids.count(std::string(token)) > 0; }

int Vocab::id(std::string_view token) const {
    const auto found = ids.find(std::string(token));
    if (found != ids.end()) return found->second;
    // Show the tokens a user can type: all of a character vocabulary, the first few
    // dozen words of a word vocabulary.
    const int shown = level == Level::character ? 100 : 40;
    std::string allowed;
    for (int i = first_regular; i < size() && i < first_regular + shown; ++i) {
        allowed += i > first_regular ? " " : "";
        allowed += quoted(tokens[i]);
    }
    if (size() > first_regular + shown) allowed += fmt::format(" … ({} more)", size() - first_regular - shown);
    throw UnknownToken(std::string(token),
                       fmt::format("unknown token {} for the {} vocabulary; allowed: {}",
                                   quoted(token), name, allowed));
}

const std::string& Vocab::token(int id) const {
    if (id < 0 || id >= size())
        throw TaskError(fmt::format("id {} is outside the {} vocabulary (0..{})", id, name,
                                    size() - 1));
    return tokens[static_cast<std::size_t>(id)];
}

std::vector<int> Vocab::encode(std::string_view text) const {
    std::vector<int> out;
    auto add = [&](std::string_view token) {
        const int i = id(token);
        if (i < first_regular)
            throw UnknownToken(std::string(token),
                               fmt::format("{} is a special token and cannot appear in the "
                                           "input",
                                           quoted(token)));
        out.push_back(i);
    };
    if (level == Level::word) {
        for (const std::string_view word : split_words(text)) {
            if (!contains(word) && contains(ascii_lower(word)))
                add(ascii_lower(word));
            else
                add(word);
        }
    } else {
        const bool keep_spaces = contains(" ");
        bool pending_space = false;
        for (const std::string_view ch : utf8_chars(text)) {
            if (ch.size() == 1 && is_space(ch[0])) {
                pending_space = keep_spaces && !out.empty();
                continue;
            }
            if (pending_space) add(" ");
            pending_space = false;
            add(ch);
        }
    }
    if (out.empty())
        throw TaskError(fmt::format("empty input: the {} vocabulary needs at least one token",
                                    name));
    out.push_back(eos);
    return out;
}

std::vector<int> Vocab::encode_tokens(std::span<const std::string_view> tokens) const {
    std::vector<int> out;
    out.reserve(tokens.size() + 1);
    for (const std::string_view token : tokens) out.push_back(id(token));
    out.push_back(eos);
    return out;
}

std::string Vocab::decode(std::span<const int> id_list) const {
    std::string out;
    bool first = true;
    for (const int i : id_list) {
        if (i == eos) break;
        if (i == pad || i == bos) continue;
        if (level == Level::word && !first) out += ' ';
        out += token(i);
        first = false;
    }
    return out;
}

// ---------------------------------------------------------------------------------

Batch make_batch(std::span<const Example> examples) {
    if (examples.empty()) throw TaskError("make_batch needs at least one example");
    Batch batch;
    batch.size = static_cast<int>(examples.size());
    for (const Example& example : examples) {
        if (example.src.empty() || example.tgt.empty())
            throw TaskError("make_batch: an example has an empty source or target");
        batch.src_lengths.push_back(static_cast<int>(example.src.size()));
        batch.tgt_lengths.push_back(static_cast<int>(example.tgt.size()));
        batch.src_len = std::max(batch.src_len, batch.src_lengths.back());
        batch.tgt_len = std::max(batch.tgt_len, batch.tgt_lengths.back());
    }
    const auto B = static_cast<std::size_t>(batch.size);
    const auto m = static_cast<std::size_t>(batch.src_len);
    const auto n = static_cast<std::size_t>(batch.tgt_len);
    batch.src.assign(B * m, Vocab::pad);
    batch.tgt_in.assign(B * n, Vocab::pad);
    batch.tgt_out.assign(B * n, Vocab::pad);
    for (std::size_t b = 0; b < B; ++b) {
        const Example& example = examples[b];
        std::copy(example.src.begin(), example.src.end(), batch.src.begin() + b * m);
        std::copy(example.tgt.begin(), example.tgt.end(), batch.tgt_out.begin() + b * n);
        // Teacher forcing: the decoder reads y_{j-1} at step j, starting from <bos>.
        batch.tgt_in[b * n] = Vocab::bos;
        std::copy(example.tgt.begin(), example.tgt.end() - 1, batch.tgt_in.begin() + b * n + 1);
    }
    return batch;
}


}  // namespace stepgrad
