#pragma once
// What lessons 04–07 share, so each lesson's body stays about the model: the common
// flags, building (or loading) and training a model on a task, and printing one
// example's computation — encoder states, every decoder step with its scores, α,
// context, gates and predictions, and the α heatmap.
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "stepgrad/cli.hpp"
#include "stepgrad/print.hpp"
#include "stepgrad/seq2seq.hpp"
#include "stepgrad/tasks.hpp"
#include "stepgrad/trace.hpp"
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
    PrintOptions print;
};

// Registers --cell, --decoder, --score, --task, --seed, --embed, --hidden, --attn,
// --steps, --batch, --lr, --optimizer, --clip, --min-len, --max-len, --held-out, --json, --save, --load,
// --color and --trace. `decoders`/`scores` list what this lesson accepts.
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

// Writes --json (when given) for this run, with the evaluation.
void write_lesson_trace(const LessonFlags& flags, std::string_view lesson, Trained& trained, const TraceRun& run);

// Runs a lesson's body; an error from bad input (unknown token, corrupt checkpoint, …)
// becomes one line on stderr and exit code 2, a training failure exit code 1.
int run_lesson(std::string_view program, const std::function<int()>& body);

}  // namespace stepgrad
