#pragma once
// Lesson 10's command line and model (SPEC §14): the flags the seq2seq lessons share
// where they mean the same thing (LessonFlags: --task and its lengths, --seed, --layers,
// the training flags, --beam, --json, --save/--load, --sentence, --trace), the
// Transformer's own sizes (--d-model, --heads, --d-ff, --norm), the TransformerConfig they
// describe, and a Transformer trained from scratch (progress on stderr) or loaded from
// --load — or trained quietly on a task of one's own, for lesson 07's comparison.
// The printing of one example through it is in transformer_printing.hpp.
#include <memory>
#include <string>

#include "common/flags.hpp"
#include "stepgrad/support/cli.hpp"
#include "stepgrad/support/print.hpp"
#include "stepgrad/tasks.hpp"
#include "stepgrad/train.hpp"
#include "stepgrad/transformer.hpp"

namespace stepgrad {

// The sizes default to lesson 10's, the smallest measured to learn `reverse` in seconds
// (see lessons/10_transformer.cpp): d = 16, h = 2, N = 1 (LessonFlags' --layers), d_ff = 32.
struct TransformerFlags {
    LessonFlags shared;      // --layers is N; --embed, --hidden, --cell … do not apply
    int d_model = 16;        // d
    int heads = 2;           // h: d_k = d / h
    int d_ff = 32;
    std::string norm = "pre";
    bool quick = false;      // --quick: a tiny budget for tests
};

// The defaults of --quick, unless typed: enough steps to see the loss move, few held-out
// examples to decode.
inline constexpr int quick_steps = 60;
inline constexpr int quick_held_out = 40;

// Registers --task, --seed, --d-model, --heads, --layers, --d-ff, --norm, --steps, --batch,
// --lr, --optimizer, --clip, --beam, --length-penalty, --min-len, --max-len, --held-out,
// --json, --save, --load, --sentence, --list-vocab, --quick, --color and --trace, and a
// Cli check that refuses, with one line naming the flags: --heads that does not divide
// --d-model, an odd --d-model; lengths the task cannot make; outputs that cannot be
// written; --load of a missing or damaged checkpoint, of a recurrent model, or with a
// flag that contradicts it (model, task and training flags, as add_lesson_flags); a
// --sentence with a token the source vocabulary lacks; sizes that cannot fit in memory.
void add_transformer_flags(Cli& cli, TransformerFlags& flags);

// --d-model, --heads, --layers, --d-ff and --norm, with the task's vocabularies.
TransformerConfig transformer_config(const TransformerFlags& flags, const TaskGenerator& task);
// "pre-norm Transformer, d = 32, h = 4 heads of d_k = 8, N = 2 layers, d_ff = 64"
std::string transformer_words(const TransformerConfig& config);

// A task, a Transformer trained on it (or loaded), and its held-out accuracy.
struct TrainedTransformer {
    std::unique_ptr<TaskGenerator> task;
    std::unique_ptr<Transformer> model;
    TrainResult training;  // empty when loaded
    Accuracy accuracy;     // greedy or --beam, on the task's held-out examples
};

// Trains from scratch (the budget said on `out`, progress on stderr) or loads --load; saves
// to --save; then measures and prints the held-out accuracy. Throws Interrupted, after
// saving, when Ctrl-C stopped the training.
TrainedTransformer train_or_load_transformer(const TransformerFlags& flags, Printer& out);

// A fresh Transformer of `flags` trained on `task` without printing (progress on stderr,
// headed by `label`) and, once it trained every step, its held-out accuracy (left empty when
// Ctrl-C stopped it). Calls on different threads do not interfere: each has its own tape.
TrainedTransformer train_transformer_quietly(const TransformerFlags& flags, const TaskConfig& task,
                                             const std::string& label);

}  // namespace stepgrad
