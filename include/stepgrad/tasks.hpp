#pragma once
// The toy tasks of SPEC §5, generated in code from a seed (nothing is downloaded):
//
//   reverse    random symbols → the same symbols reversed   (anti-diagonal attention)
//   copy       random symbols → the same symbols            (diagonal attention)
//   sort       random symbols → the symbols sorted          (attention hunts for the next)
//   dates      "saturday 21 nov 2026", "21/11/2026", … → "2026-11-21" (characters)
//   translate  English → Zeli, a made-up verb-final language with nouns before their
//              adjectives (words; see src/tasks/zeli_grammar.cpp): non-monotonic alignment
//   en-zh      English → Chinese, the seeds' language ("Tom chases Jerry" → "汤姆 追逐 杰瑞";
//              words; see src/tasks/chinese_grammar.cpp): time, place and modifiers move
//   zh-en      the same pairs, Chinese → English
//   headline   a news sentence → its headline, seed 004's summarisation (words; see
//              src/tasks/headline_grammar.cpp): attention that skips, merges, paraphrases
//
// Every example carries its gold alignment (Example::alignment, SPEC §11).
// Each task is one file in src/tasks/ implementing the Task interface below, and one row
// in src/tasks/registry.cpp. Lengths in a TaskConfig count source tokens without the <eos>.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "stepgrad/data.hpp"
#include "stepgrad/random.hpp"

namespace stepgrad {

struct TaskConfig {
    std::string name = "reverse";
    int min_len = 3;  // source tokens, <eos> not counted
    int max_len = 8;
    int symbols = 10;  // alphabet size of reverse, copy and sort (a, b, c, …)
    std::uint64_t seed = 1;
};

inline constexpr int task_max_len = 1000;
inline constexpr int task_max_symbols = 26;

// The shortest and longest source a task can produce.
struct LengthRange {
    int min_len;
    int max_len;
};

// One task: its name, the vocabularies it writes in, how it draws an example, and the
// answer it gives a source a user typed.
class Task {
public:
    virtual ~Task() = default;
    virtual std::string_view name() const = 0;
    virtual std::string_view description() const = 0;  // one sentence, for --help
    // The lengths it can make (translate: 3 words and up; dates: its formats' lengths),
    // and the lengths a first lesson uses.
    virtual LengthRange length_range() const { return {1, task_max_len}; }
    virtual LengthRange default_lengths() const { return {3, 8}; }
    // Vocabularies do not depend on the seed or the lengths (reverse, copy and sort
    // depend on `symbols`).
    virtual Vocab src_vocab(const TaskConfig& config) const = 0;
    virtual Vocab tgt_vocab(const TaskConfig& config) const = 0;
    // How many distinct sources the config allows, when the task can count them (so an
    // impossible held-out set is refused at once); infinity when it cannot.
    virtual double source_count(const TaskConfig& config) const;
    // One example from the task's distribution, drawn with `rng`, with its gold alignment.
    virtual Example sample(Rng& rng, const TaskConfig& config, const Vocab& src, const Vocab& tgt) const = 0;
    // The example the task makes of a source of regular ids (without its <eos>): that
    // source with <eos>, its target and the gold alignment. Throws TaskError when the
    // task could not have made this source.
    virtual Example answer(std::span<const int> src, const Vocab& src_vocab, const Vocab& tgt_vocab) const = 0;
};

// Every task, in the order --help lists them (src/tasks/registry.cpp).
std::span<const Task* const> all_tasks();
// Throws TaskError listing the known names.
const Task& find_task(std::string_view name);

// Names in a fixed order, and one sentence on each (for --help).
std::span<const std::string_view> task_names();
std::string_view describe_task(std::string_view name);  // throws TaskError if unknown
LengthRange task_length_range(std::string_view name);
// The task's name and lengths suited to a first lesson.
TaskConfig default_task_config(std::string_view name);
// Throws TaskError naming the field and what is allowed; the error for an unknown name
// lists the known ones.
void validate(const TaskConfig& config);

// The vocabularies of a task.
Vocab make_src_vocab(const TaskConfig& config);
Vocab make_tgt_vocab(const TaskConfig& config);

// Draws a held-out set first, then training examples whose source is never a held-out
// source. Same config, same held-out count ⇒ the same examples in the same order.
class TaskGenerator {
public:
    // Throws TaskError for an invalid config, or when the task cannot produce
    // `held_out_count` distinct sources with these lengths.
    TaskGenerator(const TaskConfig& config, int held_out_count);

    const Task& task() const { return *task_; }
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

    const Task* task_;
    TaskConfig config_;
    Vocab src_vocab_;
    Vocab tgt_vocab_;
    Rng rng_;
    std::vector<Example> held_out_;
    std::unordered_set<std::vector<int>, IdsHash> held_out_sources_;
};

// The example the task makes of a source the user typed (ids ending with <eos>, as in
// Example::src): its target and gold alignment. reverse, copy and sort rearrange its
// symbols; dates reads the date in any of its formats; translate, en-zh and zh-en apply
// their grammar. Throws TaskError when the task could not have made this source (a
// weekday that does not fit the date, English the grammar does not generate).
Example task_answer(const TaskGenerator& task, std::span<const int> src);
// Its target alone: task_answer(task, src).tgt.
std::vector<int> task_target(const TaskGenerator& task, std::span<const int> src);

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