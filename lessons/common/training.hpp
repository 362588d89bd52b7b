#pragma once
// Getting a trained model for a lesson: the model and training options the flags
// describe, and a model trained from scratch (progress on stderr) or loaded from --load,
// with its held-out accuracy. Ctrl-C during training is not an error: it throws
// Interrupted (run.hpp), after the checkpoint of --save is written.
#include <memory>
#include <optional>
#include <string>

#include "common/flags.hpp"
#include "stepgrad/seq2seq.hpp"
#include "stepgrad/support/print.hpp"
#include "stepgrad/tasks.hpp"
#include "stepgrad/train.hpp"

namespace stepgrad {

// A task, a model trained on it (or loaded from --load), and its held-out accuracy.
struct Trained {
    std::unique_ptr<TaskGenerator> task;
    std::unique_ptr<Seq2Seq> model;
    TrainResult training;
    Accuracy accuracy;
    // SPEC §11 on the held-out examples: none for a plain model, or when the training
    // did not finish
    std::optional<AlignmentAccuracy> alignment;
};

// --cell, --decoder, --score, --embed, --hidden and --attn, with the task's vocabularies.
ModelConfig model_config(const LessonFlags& flags, const TaskGenerator& task);
// SPEC §11's alignment accuracy of `model` on the task's held-out examples; none for a
// plain model. Resets the tape.
std::optional<AlignmentAccuracy> held_out_alignment(Seq2Seq& model, const TaskGenerator& task);
// --steps, --batch, --lr, --optimizer, --clip and --teacher-forcing as train() takes them.
TrainOptions train_options(const LessonFlags& flags);
// How held-out examples are decoded: --beam K and --length-penalty a (greedy when K = 1),
// with the task's target vocabulary, so that a word-level task reports BLEU too.
EvaluateOptions evaluate_options(const LessonFlags& flags, const TaskGenerator& task);
// "greedy decoding", "beam search, K = 4" or "beam search, K = 4, length penalty a = 0.6".
std::string decoding_words(const EvaluateOptions& options);
// Trains from scratch (progress on stderr) or loads --load; saves to --save. Throws
// Interrupted, after saving, when Ctrl-C stopped the training.
Trained train_or_load(const LessonFlags& flags, Printer& out);

// ---- the pieces of train_or_load that serve any Model (the Transformer of lesson 10 too) ----
// Trains `model` (initialised) on `task` as the flags say, progress on stderr, saving to
// --save; then prints the first and last loss and where it saved. Throws Interrupted,
// after saving, when Ctrl-C stopped the training.
TrainResult train_for_lesson(Model& model, TaskGenerator& task, const LessonFlags& flags, Printer& out);
// The held-out accuracy of `model`, decoded as --beam and --length-penalty say, and the
// sentence that reports it (with BLEU on a word-level task). Resets the tape.
Accuracy held_out_accuracy(Model& model, const TaskGenerator& task, const LessonFlags& flags, Printer& out);
// Trains `model` without printing (progress on stderr headed by `label`); safe on several
// threads at once (each has its own tape).
TrainResult train_quietly(Model& model, TaskGenerator& task, const LessonFlags& flags, const std::string& label);

// ---- training several models side by side (lesson 07) ----
// The task of `flags` with every source exactly `length` tokens long (the task's
// defaults otherwise, seeded by --seed).
TaskConfig fixed_length_task(const LessonFlags& flags, int length);
// A fresh model of flags.cell/decoder/score trained on fixed_length_task(flags, length)
// without printing (progress on stderr, headed by `label`), and its held-out accuracy
// once it trained every step (none when Ctrl-C stopped it before; a stop that comes
// after the last step does not undo it). Calls on different threads do not interfere:
// each thread has its own tape.
Trained train_at_length(const LessonFlags& flags, int length, const std::string& label);
// A model of `flags` trained on `task` without printing (progress on stderr, headed by
// `label`), evaluated when it finished; safe on several threads at once (each has its own
// tape). train_at_length is this on sources of one length.
Trained train_quietly(const LessonFlags& flags, const TaskConfig& task, const std::string& label);

}  // namespace stepgrad
