#pragma once
// The toy tasks of SPEC §5, generated in code from a seed (nothing is downloaded):
//
//   reverse    random symbols → the same symbols reversed   (anti-diagonal attention)
//   copy       random symbols → the same symbols            (diagonal attention)
//   sort       random symbols → the symbols sorted          (attention hunts for the next)
//   dates      "saturday 21 nov 2026", "21/11/2026", … → "2026-11-21" (characters)
//   translate  English → Zeli, a made-up verb-final language with nouns before their
//              adjectives (words; see tasks.cpp for the grammar): non-monotonic alignment
//
// Ids: 0 = <pad>, 1 = <bos>, 2 = <eos> in both vocabularies (as in the golden traces).
// An Example's src is x_1..x_m with x_m = <eos> (what the encoder reads); its tgt is
// y_1..y_n with y_n = <eos> (what the decoder must emit). Lengths in a TaskConfig count
// source tokens without the <eos>.
// Dimension letters: B examples in a batch, m source and n target positions.
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "stepgrad/random.hpp"

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

    // Tokenises a user's text and appends <eos>. Character level: a space is a token when
    // the vocabulary has one (runs of whitespace become one, ends are trimmed), otherwise
    // whitespace is ignored ("a b c" = "abc"). Word level: an unknown word is retried in
    // lower case ("The" → "the"). Empty input and unknown tokens throw.
    std::vector<int> encode(std::string_view text) const;
    // Joins the tokens up to the first <eos>, skipping <pad> and <bos>.
    std::string decode(std::span<const int> ids) const;
};

struct Example {
    std::vector<int> src;  // x_1..x_m, ends with <eos>
    std::vector<int> tgt;  // y_1..y_n, ends with <eos>
};

struct TaskConfig {
    std::string name = "reverse";
    int min_len = 3;  // source tokens, <eos> not counted
    int max_len = 8;
    int symbols = 10;  // alphabet size of reverse, copy and sort (a, b, c, …)
    std::uint64_t seed = 1;
};

inline constexpr int task_max_len = 1000;
inline constexpr int task_max_symbols = 26;

// Names in a fixed order, and one sentence on each (for --help).
std::span<const std::string_view> task_names();
std::string_view describe_task(std::string_view name);  // throws TaskError if unknown
// The shortest and longest source a task can produce (translate: 3 words and up; dates:
// the lengths of its formats), and lengths suited to a first lesson.
struct LengthRange {
    int min_len;
    int max_len;
};
LengthRange task_length_range(std::string_view name);
TaskConfig default_task_config(std::string_view name);
// Throws TaskError naming the field and what is allowed; the error for an unknown name
// lists the known ones.
void validate(const TaskConfig& config);

// The vocabularies of a task (they do not depend on the seed or the lengths; reverse,
// copy and sort depend on `symbols`).
Vocab make_src_vocab(const TaskConfig& config);
Vocab make_tgt_vocab(const TaskConfig& config);

// Draws a held-out set first, then training examples whose source is never a held-out
// source. Same config, same held-out count ⇒ the same examples in the same order.
class TaskGenerator {
public:
    // Throws TaskError for an invalid config, or when the task cannot produce
    // `held_out_count` distinct sources with these lengths.
    TaskGenerator(const TaskConfig& config, int held_out_count);

    const TaskConfig& config() const { return config_; }
    const Vocab& src_vocab() const { return src_vocab_; }
    const Vocab& tgt_vocab() const { return tgt_vocab_; }
    const std::vector<Example>& held_out() const { return held_out_; }
    bool is_held_out(std::span<const int> src) const;

    // The next training example. Throws TaskError when the held-out set covers (nearly)
    // every source, rather than looping forever.
    Example next();
    std::vector<Example> next(int count);

    // One example straight from the task's distribution, ignoring the split.
    Example sample();

private:
    struct IdsHash {
        std::size_t operator()(const std::vector<int>& ids) const;
    };

    TaskConfig config_;
    Vocab src_vocab_;
    Vocab tgt_vocab_;
    Rng rng_;
    std::vector<Example> held_out_;
    std::unordered_set<std::vector<int>, IdsHash> held_out_sources_;
};

// The target the task gives a source (ids ending with <eos>, as in Example::src), for a
// source the user typed: reverse, copy and sort rearrange its symbols; dates reads the
// date in any of its formats; translate applies the grammar. Throws TaskError when the
// task could not have made this source (a weekday that does not fit the date, English
// the grammar does not generate).
std::vector<int> task_target(const TaskGenerator& task, std::span<const int> src);

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
};

Batch make_batch(std::span<const Example> examples);  // throws TaskError if empty

// The dates task's renderings, exposed for lessons and tests.
// format_date(2026, 11, 21, k) for k = 0..date_format_count()-1 gives
// "saturday 21 nov 2026", "21/11/2026", "November 21, 2026", …; the target is
// iso_date(…) = "2026-11-21". Years 1950..2049 (two-digit years read that way).
int date_format_count();
std::string format_date(int year, int month, int day, int format);
std::string iso_date(int year, int month, int day);
// 0 = Monday … 6 = Sunday, proleptic Gregorian calendar.
int weekday(int year, int month, int day);

// The translate task's grammar, exposed for lessons and tests: the Zeli sentence for an
// English sentence the grammar generates (lower case words, single spaces). Throws
// TaskError when the sentence is not one the grammar can produce.
std::string translate_sentence(std::string_view english);

}  // namespace stepgrad
