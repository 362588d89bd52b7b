#pragma once
// What lessons 04–07 share, so each lesson's body stays about the model: the common
// flags, building (or loading) and training a model on a task, and printing one
// example's computation — encoder states, every decoder step with its scores, α,
// context, gates and predictions, and the α heatmap.
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "stepgrad/support/checkpoint.hpp"
#include "stepgrad/support/cli.hpp"
#include "stepgrad/support/files.hpp"
#include "stepgrad/support/print.hpp"
#include "stepgrad/seq2seq.hpp"
#include "stepgrad/tasks.hpp"
#include "stepgrad/support/trace.hpp"
#include "stepgrad/train.hpp"

namespace stepgrad {

// The flags every seq2seq lesson takes; each lesson sets its own defaults first.
struct LessonFlags {
    std::string cell = "gru";
    std::string decoder = "bahdanau";
    std::string score = "concat";
    std::string task = "reverse";
    std::uint64_t seed = 1;
    int embed = 16;
    int hidden = 16;
    int attn = 16;
    int steps = 1000;
    int batch = 32;
    double lr = 1e-2;
    std::string optimizer = "adam";
    double clip = 1.0;
    int min_len = 4;  // for the lesson's default task; another task without --min-len and
    int max_len = 8;  // --max-len gets its own default lengths (dates are 10–29 characters)
    int held_out = 500;
    int default_min_len = 4;  // what the lesson set, remembered by add_lesson_flags
    int default_max_len = 8;
    std::string json;
    std::string save;
    std::string load;
    std::string sentence;  // --sentence: trace this source instead of a held-out example
    PrintOptions print;
    // Set by add_lesson_flags' check once the command line is read: which lengths it
    // gave (a typed value counts even when it equals the default), and the checkpoint of
    // --load, read and checked against the lesson and the other flags.
    bool min_len_given = false;
    bool max_len_given = false;
    std::shared_ptr<const Checkpoint> checkpoint;
};

// --embed, --hidden, --attn, --steps, --batch, --lr, --optimizer, --clip: the model's sizes
// and its training, the flags every lesson that trains shares (add_lesson_flags adds them).
void add_size_and_training_flags(Cli& cli, LessonFlags& flags);

// Registers --cell, --decoder, --score, --task, --seed, --embed, --hidden, --attn,
// --steps, --batch, --lr, --optimizer, --clip, --min-len, --max-len, --held-out, --json, --save, --load,
// --sentence, --color and --trace. `decoders`/`scores` list what this lesson accepts.
// It also adds a Cli check, so that a bad combination fails at parse time (one line,
// exit 2) before anything runs: min > max lengths or lengths the task cannot make;
// --json/--save that cannot be written; --load of a missing or damaged checkpoint, of a
// model this lesson is not about, or together with a flag that contradicts it (the
// checkpoint fixes the model and the task: --cell, --decoder, --score, --embed, --hidden,
// --attn, --task, --min-len, --max-len and --seed may be given only with the
// checkpoint's own values, and the training flags not at all); a --sentence with a token
// the task's source vocabulary lacks.
void add_lesson_flags(Cli& cli, LessonFlags& flags, const std::vector<std::string>& decoders,
                      const std::vector<std::string>& scores);

// A task, a model trained on it (or loaded from --load), and its held-out accuracy.
struct Trained {
    std::unique_ptr<TaskGenerator> task;
    std::unique_ptr<Seq2Seq> model;
    TrainResult training;
    Accuracy accuracy;
};

ModelConfig model_config(const LessonFlags& flags, const TaskGenerator& task);
// --steps, --batch, --lr, --optimizer and --clip as train() takes them.
TrainOptions train_options(const LessonFlags& flags);
// Trains from scratch (progress on stderr) or loads --load; saves to --save. Exits with
// code 130 after saving when Ctrl-C stopped the training.
Trained train_or_load(const LessonFlags& flags, Printer& out);

// ---- printing one example's computation (teacher forced, batch 1) ----
void print_encoder(Printer& out, const TraceRun& run, const Vocab& src_vocab);
void print_decoder_step(Printer& out, Seq2Seq& model, const TraceRun& run, std::size_t j, const Vocab& src_vocab,
                        const Vocab& tgt_vocab);
// α as a heatmap: target tokens down, source tokens across.
void print_alignment(Printer& out, const TraceRun& run, const Vocab& src_vocab, const Vocab& tgt_vocab);
// Held-out accuracy per source length, one row per length. Decoding resets the tape:
// tensors of an earlier run are gone afterwards.
void print_accuracy_by_length(Printer& out, Seq2Seq& model, const TaskGenerator& task);

// The example a lesson traces: the first held-out one or, with --sentence, the user's
// source with the task's answer as its target — or, when the task has no answer for it
// (English the grammar does not make, a date with the wrong weekday), the model's own
// greedy output, which a line on `out` then says.
Example traced_example(const LessonFlags& flags, Trained& trained, Printer& out);

// Writes --json (when given) for this run, with the evaluation.
void write_lesson_trace(const LessonFlags& flags, std::string_view lesson, Trained& trained, const TraceRun& run);

// Runs a lesson's body; an error from bad input (unknown token, corrupt checkpoint, …)
// becomes one line on stderr and exit code 2, a training failure exit code 1.
int run_lesson(std::string_view program, const std::function<int()>& body);

// ---- training several models side by side (lesson 07) ----
// The task of `flags` with every source exactly `length` tokens long (the seed, held-out
// count and symbols as the flags say), a fresh model of flags.cell/decoder/score trained
// on it without printing (progress on stderr, headed by `label`), and its held-out
// accuracy. Calls on different threads do not interfere: each thread has its own tape.
Trained train_at_length(const LessonFlags& flags, int length, const std::string& label);

// α as a compact heatmap for long sources: one shade character per source position,
// doubled (no numbers), so a 40-token source fits in about 90 columns. Every 5th position
// is numbered; the source tokens head their columns when they fit in two (a final <eos>
// shows as ·), else they are listed underneath.
void print_alignment_compact(Printer& out, const TraceRun& run, const Vocab& src_vocab, const Vocab& tgt_vocab);

// For a Cli check: throws UsageError naming `flag` unless a file can be created at
// `path` (tried, then removed), so a long run does not end in "cannot write". Does
// nothing for "".
void check_writable(std::string_view flag, const std::string& path);

}  // namespace stepgrad
