#pragma once
// The command line every seq2seq lesson shares: the flags and their defaults
// (LessonFlags), registering them on a Cli, and the check that runs once they are read,
// so that a bad combination fails at parse time with one line and exit code 2 before
// anything trains. Also the task the flags ask for, since its lengths depend on which
// flags were typed.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/outputs.hpp"  // defines: check_output_files
#include "stepgrad/support/checkpoint.hpp"
#include "stepgrad/support/cli.hpp"
#include "stepgrad/support/print.hpp"
#include "stepgrad/tasks.hpp"

namespace stepgrad {

// The flags every seq2seq lesson takes; each lesson sets its own defaults first.
struct LessonFlags {
    std::string cell = "gru";
    std::string decoder = "bahdanau";
    std::string score = "concat";
    std::string task = "reverse";
    // The source lengths the lesson uses for its own task, the `task` it starts with
    // (add_lesson_flags remembers which that is in lesson_task). Another --task gets
    // that task's default lengths instead: dates are 10–29 characters, whatever a
    // lesson about `reverse` prefers.
    LengthRange lesson_lengths{4, 8};
    std::string lesson_task = "reverse";
    // --min-len and --max-len when typed (set by add_lesson_flags' check); a typed
    // length wins over both defaults, even when it equals one.
    std::optional<int> min_len;
    std::optional<int> max_len;
    std::uint64_t seed = 1;
    int embed = 16;
    int hidden = 16;
    bool bidirectional = false;  // --bidirectional: keys [→h; ←h] (SPEC §11)
    int layers = 1;              // --layers L, encoder and decoder alike
    int attn = 16;
    int steps = 1000;
    int batch = 32;
    double lr = 1e-2;
    std::string optimizer = "adam";
    double clip = 1.0;
    int threads = 0;             // --threads N: data parallel, shards of 16 examples (train_step)
    int held_out = 500;
    int beam = 1;                // --beam K: every held-out evaluation and --sentence; 1 is greedy
    double length_penalty = 0;   // --length-penalty a of lp(n) = ((5 + n) / 6)^a (SPEC §13)
    double teacher_forcing = 1;  // --teacher-forcing P: scheduled sampling when below 1
    std::string json;
    std::string json_help = "write the trace of one example here (SPEC §7)";  // what this lesson's --json holds
    std::string svg;  // --svg: α of the traced example as a picture (attention lessons)
    std::string save;
    std::string load;
    std::string sentence;  // --sentence: trace this source instead of a held-out example
    bool list_vocab = false;  // --list-vocab: print the task's vocabularies and stop
    PrintOptions print;
    // The checkpoint of --load, read by add_lesson_flags' check and checked against the
    // lesson and the other flags.
    std::shared_ptr<const Checkpoint> checkpoint;
};

// --bidirectional and --layers: the encoder Bahdanau et al. used, and stacked layers (SPEC §11).
void add_encoder_flags(Cli& cli, LessonFlags& flags);

// --beam, --length-penalty and --teacher-forcing: how held-out examples and --sentence are
// decoded, and how the decoder is fed in training (SPEC §13). Adds a Cli check that refuses
// --length-penalty with greedy decoding (--beam 1), where it changes nothing.
void add_decoding_flags(Cli& cli, LessonFlags& flags);
// --beam and --length-penalty alone, with that check: for a model trained teacher forced
// only (the Transformer), which has no --teacher-forcing.
void add_beam_flags(Cli& cli, LessonFlags& flags);

// --embed, --hidden, --attn, --steps, --batch, --lr, --optimizer, --clip: the model's sizes
// and its training, the flags every lesson that trains shares (add_lesson_flags adds them).
void add_size_and_training_flags(Cli& cli, LessonFlags& flags);
// --steps, --batch, --lr, --optimizer, --clip: the training alone, whatever the model.
void add_training_flags(Cli& cli, LessonFlags& flags);

// ---- pieces of add_lesson_flags' check, for a lesson with flags of its own (lesson 10) ----
// --load together with a training flag (--steps, --batch, --lr, --optimizer, --clip,
// --teacher-forcing, --save): a loaded model is not trained.
void refuse_training_flags(const Cli& cli);
// `flag` typed next to --load must have the checkpoint's value `held` (the checkpoint decides).
void require_checkpoint_value(const Cli& cli, const LessonFlags& flags, std::string_view flag, const std::string& typed,
                              const std::string& held);
// --task, --min-len, --max-len and --seed typed next to --load agree with the checkpoint's task.
void require_task_agreement(const Cli& cli, const LessonFlags& flags, const Checkpoint& checkpoint);
// The task the flags ask for, its lengths checked: min ≤ max, and lengths the task can make
// --held-out distinct sources of. Throws UsageError naming the flags.
std::unique_ptr<TaskGenerator> checked_task(const LessonFlags& flags);
// --sentence: every token in the source vocabulary, at most task_max_len of them.
void check_sentence(const Vocab& src_vocab, const std::string& sentence);

// Registers --cell, --decoder, --score, --task, --seed, --bidirectional, --layers, --embed, --hidden, --attn,
// --steps, --batch, --lr, --optimizer, --clip, --beam, --length-penalty, --teacher-forcing,
// --min-len, --max-len, --held-out, --json, --svg (with attention), --save, --load,
// --sentence, --list-vocab, --color and --trace.
// `decoders`/`scores` list what this lesson accepts (no scores: a plain model).
// It also adds a Cli check, so that a bad combination fails at parse time (one line,
// exit 2) before anything runs: min > max lengths or lengths the task cannot make;
// --json/--svg/--save that cannot be written, or two of them naming one file; --load of
// a missing or damaged checkpoint, of a model this lesson is not about, or together
// with a flag that contradicts it (the checkpoint fixes the model and the task: --cell,
// --decoder, --score, --bidirectional, --layers, --embed, --hidden, --attn, --task, --min-len, --max-len and --seed
// may be given only with the checkpoint's own values, and the training flags, --teacher-forcing
// among them, not at all); a --sentence with a token the task's source vocabulary lacks.
void add_lesson_flags(Cli& cli, LessonFlags& flags, const std::vector<std::string>& decoders,
                      const std::vector<std::string>& scores);

// --list-vocab: prints the source and target vocabularies of the task the flags ask for
// (or of --load's checkpoint), every token, and returns the exit code, 0.
int list_vocabularies(const LessonFlags& flags);

// "a, b and c" (last = "and"), "a, b or c" (last = "or").
std::string listed(const std::vector<std::string>& items, std::string_view last);
// A list flag's items: "a,,b" → {"a", "", "b"} (the caller says which are allowed).
std::vector<std::string> split_commas(const std::string& text);
// --cell's value as the lessons write it: "SimpleRNN", "GRU", "LSTM".
std::string_view cell_title(std::string_view cell);

// The task the flags ask for, lengths as LessonFlags describes them, seeded by --seed.
TaskConfig task_config(const LessonFlags& flags);

// For a Cli check: refuses sizes whose training step (`at_once` of them side by side)
// cannot fit in this machine's memory (the kernel would kill the run without a word),
// naming the estimate and the flags that lower it; warns on stderr when it may not fit
// in what is free now. Resets the calling thread's tape.
void check_memory(const LessonFlags& flags, const TaskGenerator& task, int at_once = 1);

}  // namespace stepgrad
