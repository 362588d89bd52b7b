#pragma once
// The data a model reads: vocabularies, examples and padded batches.
//
// Ids: 0 = <pad>, 1 = <bos>, 2 = <eos> in every vocabulary (as in the golden traces);
// regular tokens start at Vocab::first_regular.
// An Example's src is x_1..x_m with x_m = <eos> (what the encoder reads); its tgt is
// y_1..y_n with y_n = <eos> (what the decoder must emit); its gold alignment says which
// source positions produced each y_j (SPEC §11).
// Dimension letters: B examples in a batch, m source and n target positions.
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace stepgrad {

// Invalid task names, lengths or symbol counts, example spaces too small, bad input.
class TaskError : public std::invalid_argument {
public:
    using std::invalid_argument::invalid_argument;
};

// A user's text holds a token the vocabulary does not know; the message names it and
// lists (some of) the allowed tokens.
class UnknownToken : public TaskError {
public:
    UnknownToken(std::string token, const std::string& message)
        : TaskError(message), token_(std::move(token)) {}
    const std::string& token() const { return token_; }

private:
    std::string token_;
};

struct Vocab {
    // character: each UTF-8 character is a token and decode() joins with nothing;
    // word: whitespace separates tokens and decode() joins with one space.
    enum class Level { character, word };

    static constexpr int pad = 0;
    static constexpr int bos = 1;
    static constexpr int eos = 2;
    static constexpr int first_regular = 3;  // the first id after the specials

    std::string name;  // e.g. "dates source", for error messages
    Level level = Level::character;
    std::vector<std::string> tokens;  // tokens[id]; the first three are the specials
    std::unordered_map<std::string, int> ids;

    Vocab() = default;
    // The specials are put first; `regular` must not repeat a token or contain them.
    Vocab(std::string name, Level level, const std::vector<std::string>& regular);

    int size() const { return static_cast<int>(tokens.size()); }
    bool contains(std::string_view token) const;
    int id(std::string_view token) const;  // throws UnknownToken
    const std::string& token(int id) const;  // throws TaskError when out of range

    // The tokens of a user's text, as the vocabulary spells them. Character level: a space
    // is a token when the vocabulary has one (runs of whitespace become one, ends are
    // trimmed), otherwise whitespace is ignored ("a b c" = "abc"). Word level: whitespace
    // separates words, and an unknown word is retried in lower case ("The" → "the"); a
    // run of Chinese or Japanese characters, which are written without spaces, is split
    // by forward maximum matching: the longest token at each position ("我爱中国" → 我 |
    // 爱 | 中国). Throws UnknownToken naming a token it does not know (for a run of CJK
    // characters, the first character no token starts with; bytes that are not UTF-8 are
    // such tokens, and the message says so) or a special token, and TaskError for empty
    // input.
    std::vector<std::string> segment(std::string_view text) const;
    // The ids of segment(text), then <eos>.
    std::vector<int> encode(std::string_view text) const;
    // The ids of exactly these tokens, then <eos> (for a task's own text, which is
    // already split).
    std::vector<int> encode_tokens(std::span<const std::string_view> tokens) const;
    // Joins the tokens up to the first <eos>, skipping <pad> and <bos>.
    std::string decode(std::span<const int> ids) const;
};

// alignment[j-1] = the 0-based source positions that produced y_j, one entry per target
// token: reverse y_j ↔ x_{m+1−j}, a date's digits ↔ the characters of their field, a word
// ↔ the word it translates. Empty: y_j comes from no source token (a function word such
// as 的 or 了). The target's <eos> aligns to the source's <eos>.
using Alignment = std::vector<std::vector<int>>;

struct Example {
    std::vector<int> src;  // x_1..x_m, ends with <eos>
    std::vector<int> tgt;  // y_1..y_n, ends with <eos>
    Alignment alignment = {};  // n entries, when the task knows it; make_batch ignores it
};

// Padded, row-major id matrices for teacher forcing. Row b holds example b:
//   src     (B × m)  x_1..x_m, then <pad>
//   tgt_in  (B × n)  <bos>, y_1..y_{n-1}, then <pad>   (the decoder's inputs)
//   tgt_out (B × n)  y_1..y_n, then <pad>              (what it must predict)
// m and n are the longest src and tgt in the batch.
struct Batch {
    int size = 0;
    int src_len = 0;
    int tgt_len = 0;
    std::vector<int> src;
    std::vector<int> tgt_in;
    std::vector<int> tgt_out;
    std::vector<int> src_lengths;
    std::vector<int> tgt_lengths;
    // The loss is the mean over this many target tokens; 0: this batch's own (not <pad>).
    // A shard of a larger batch (train_step with threads) counts its whole batch's tokens,
    // so the shards' losses and gradients add up to the batch's.
    int loss_tokens = 0;
};

Batch make_batch(std::span<const Example> examples);  // throws TaskError if empty
// Examples first … first + count − 1 of a batch, padded to the batch's lengths; loss_tokens
// is kept. Throws std::out_of_range outside the batch.
Batch slice_batch(const Batch& batch, int first, int count);
// The target tokens a loss over the batch averages over: loss_tokens, or those not <pad>.
int loss_token_count(const Batch& batch);

}  // namespace stepgrad
