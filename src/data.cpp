#include "stepgrad/data.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "stepgrad/support/text.hpp"

namespace stepgrad {

// ---- vocabularies ----

namespace {

// Chinese and Japanese are written without spaces between words: CJK punctuation, kana
// and ideographs (U+2E80..U+9FFF), compatibility ideographs (U+F900..U+FAFF), full-width
// forms such as "？" and "，" (U+FF00..U+FFEF) and the rarer ideographs (U+20000..).
// UTF-8 keeps the order of code points, so comparing the bytes compares them.
bool written_without_spaces(std::string_view ch) {
    auto within = [&](std::string_view first, std::string_view last) { return first <= ch && ch <= last; };
    return within("\u2E80", "\u9FFF") || within("\uF900", "\uFAFF") || within("\uFF00", "\uFFEF") ||
           within("\U00020000", "\U0003FFFF");
}

constexpr std::string_view ideographic_space = "\u3000";  // separates words as a space does

// Punctuation, ASCII or full-width. The word vocabularies have none: "？" and "?" are
// unknown tokens rather than quietly dropped (a question is asked with 吗 or "does"), and
// the message says to leave them out.
bool has_punctuation(std::string_view text) {
    constexpr std::string_view full_width = "，。？！、；：（）《》「」“”‘’";
    for (const std::string_view ch : utf8_chars(text))
        if ((ch.size() == 1 && std::ispunct(static_cast<unsigned char>(ch[0]))) ||
            (ch.size() > 1 && full_width.find(ch) != std::string_view::npos))
            return true;
    return false;
}

// Why a token is unknown when it is more than a word the vocabulary lacks: bytes that are
// not UTF-8 (a terminal or file in another encoding; the message shows them as \xff), or
// punctuation in a word vocabulary, which has none. Empty otherwise.
std::string unknown_token_hint(const Vocab& vocab, std::string_view token, bool vocab_has_punctuation) {
    if (!is_valid_utf8(token))
        return "; it is not valid UTF-8 (each \\x.. is a stray byte): type the text in UTF-8";
    if (vocab.level == Vocab::Level::word && !vocab_has_punctuation && has_punctuation(token))
        return "; the vocabulary has no punctuation: leave it out";
    return "";
}

// Show the tokens a user can type: all of a character vocabulary, the first few dozen
// words of a word vocabulary.
[[noreturn]] void throw_unknown(const Vocab& vocab, std::string_view token) {
    const int shown = vocab.level == Vocab::Level::character ? 100 : 40;
    std::string allowed;
    bool punctuation = false;
    for (int i = Vocab::first_regular; i < vocab.size(); ++i) {
        punctuation = punctuation || has_punctuation(vocab.tokens[i]);
        if (i >= Vocab::first_regular + shown) continue;
        allowed += i > Vocab::first_regular ? " " : "";
        allowed += quoted(vocab.tokens[i]);
    }
    if (vocab.size() > Vocab::first_regular + shown)
        allowed += fmt::format(" … ({} more); --list-vocab lists them all", vocab.size() - Vocab::first_regular - shown);
    throw UnknownToken(std::string(token), fmt::format("unknown token {} for the {} vocabulary; allowed: {}{}",
                                                       quoted(token), vocab.name, allowed,
                                                       unknown_token_hint(vocab, token, punctuation)));
}

// A word as typed or, when only that is known, in lower case ("The" → "the").
std::string known_word(const Vocab& vocab, std::string_view word) {
    if (vocab.contains(word)) return std::string(word);
    if (vocab.contains(ascii_lower(word))) return ascii_lower(word);
    throw_unknown(vocab, word);
}

// Forward maximum matching over characters written without spaces: at each position,
// the longest token that starts there (it need not be the best split: 研究生命 → 研究生 |
// 命, where a reader sees 研究 | 生命; a small vocabulary rarely meets such a case).
void match_longest(const Vocab& vocab, std::span<const std::string_view> chars, std::vector<std::string>& out) {
    std::size_t longest = 1;  // in characters
    for (int i = Vocab::first_regular; i < vocab.size(); ++i)
        longest = std::max(longest, utf8_chars(vocab.tokens[i]).size());
    for (std::size_t start = 0; start < chars.size();) {
        std::string candidate, best;
        for (std::size_t end = start; end < chars.size() && end - start < longest; ++end) {
            candidate += chars[end];
            if (vocab.contains(candidate)) best = candidate;
        }
        if (best.empty()) throw_unknown(vocab, chars[start]);
        start += utf8_chars(best).size();
        out.push_back(std::move(best));
    }
}

// One whitespace-separated chunk of a word-level text: a token when the vocabulary has it;
// otherwise runs of characters written without spaces are matched longest first, and the
// runs between them ("I", "China" in "I爱China") are words.
void segment_chunk(const Vocab& vocab, std::string_view chunk, std::vector<std::string>& out) {
    if (vocab.contains(chunk) || vocab.contains(ascii_lower(chunk))) {
        out.push_back(known_word(vocab, chunk));
        return;
    }
    const std::vector<std::string_view> chars = utf8_chars(chunk);
    for (std::size_t start = 0; start < chars.size();) {
        const bool unspaced = written_without_spaces(chars[start]);
        std::size_t end = start;
        std::string word;
        for (; end < chars.size() && chars[end] != ideographic_space && written_without_spaces(chars[end]) == unspaced; ++end)
            word += chars[end];
        if (unspaced)
            match_longest(vocab, std::span(chars).subspan(start, end - start), out);
        else
            out.push_back(known_word(vocab, word));
        start = end + (end < chars.size() && chars[end] == ideographic_space);
    }
}

}  // namespace

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
    if (found == ids.end()) throw_unknown(*this, token);
    return found->second;
}

const std::string& Vocab::token(int id) const {
    if (id < 0 || id >= size())
        throw TaskError(fmt::format("id {} is outside the {} vocabulary (0..{})", id, name,
                                    size() - 1));
    return tokens[static_cast<std::size_t>(id)];
}

std::vector<std::string> Vocab::segment(std::string_view text) const {
    std::vector<std::string> out;
    if (level == Level::word) {
        for (const std::string_view chunk : split_words(text)) segment_chunk(*this, chunk, out);
    } else {
        const bool keep_spaces = contains(" ");
        bool pending_space = false;
        for (const std::string_view ch : utf8_chars(text)) {
            if (ch.size() == 1 && is_space(ch[0])) {
                pending_space = keep_spaces && !out.empty();
                continue;
            }
            if (pending_space) out.emplace_back(" ");
            pending_space = false;
            out.push_back(std::string(ch));
        }
    }
    for (const std::string& token : out)
        if (id(token) < first_regular)
            throw UnknownToken(token, fmt::format("{} is a special token and cannot appear in the input", quoted(token)));
    if (out.empty())
        throw TaskError(fmt::format("empty input: the {} vocabulary needs at least one token", name));
    return out;
}

std::vector<int> Vocab::encode(std::string_view text) const {
    std::vector<int> out;
    for (const std::string& token : segment(text)) out.push_back(id(token));
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

Batch slice_batch(const Batch& batch, int first, int count) {
    if (first < 0 || count <= 0 || first + count > batch.size)
        throw std::out_of_range(fmt::format("slice_batch: examples [{}, {}) outside a batch of {}", first, first + count,
                                            batch.size));
    Batch part;
    part.size = count;
    part.src_len = batch.src_len;
    part.tgt_len = batch.tgt_len;
    part.loss_tokens = batch.loss_tokens;
    const auto rows = [&](const std::vector<int>& all, int width) {
        const auto begin = all.begin() + static_cast<std::ptrdiff_t>(first) * width;
        return std::vector<int>(begin, begin + static_cast<std::ptrdiff_t>(count) * width);
    };
    part.src = rows(batch.src, batch.src_len);
    part.tgt_in = rows(batch.tgt_in, batch.tgt_len);
    part.tgt_out = rows(batch.tgt_out, batch.tgt_len);
    part.src_lengths = rows(batch.src_lengths, 1);
    part.tgt_lengths = rows(batch.tgt_lengths, 1);
    return part;
}

int loss_token_count(const Batch& batch) {
    if (batch.loss_tokens > 0) return batch.loss_tokens;
    return static_cast<int>(std::count_if(batch.tgt_out.begin(), batch.tgt_out.end(), [](int y) { return y != Vocab::pad; }));
}

}  // namespace stepgrad
