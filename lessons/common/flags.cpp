// The lesson flags: registering them, and the check of the flags taken together that
// add_lesson_flags adds to the Cli (see flags.hpp for what it refuses).
#include "common/flags.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <unistd.h>

#include "common/printing.hpp"  // defines: print_vocabulary
#include "common/training.hpp"  // defines: model_config
#include "stepgrad/seq2seq.hpp"

namespace stepgrad {

namespace {

std::string one_of(const std::vector<std::string>& words) { return listed(words, "or"); }

// A checkpoint's model must be one this lesson is about.
void require_lesson_model(const LessonFlags& f, const ModelConfig& c, const std::vector<std::string>& decoders,
                          const std::vector<std::string>& scores) {
    const std::string decoder = decoder_kind_name(c.decoder), score = score_kind_name(c.score);
    const bool plain = c.decoder == DecoderKind::plain;
    if (std::find(decoders.begin(), decoders.end(), decoder) == decoders.end() ||
        (scores.empty() ? !plain : std::find(scores.begin(), scores.end(), score) == scores.end()))
        throw UsageError(fmt::format("--load: {} holds a {} model; this lesson is about {} models{}", f.load,
                                     plain ? "plain" : decoder + "/" + score, one_of(decoders),
                                     scores.empty() ? "" : " with score " + one_of(scores)));
}

// A flag typed next to --load must agree with the checkpoint, which decides.
void require_agreement(const Cli& cli, const LessonFlags& f, const Checkpoint& checkpoint) {
    auto agree = [&](std::string_view flag, const auto& typed, const auto& held) {
        require_checkpoint_value(cli, f, flag, fmt::format("{}", typed), fmt::format("{}", held));
    };
    const ModelConfig& c = checkpoint.model;
    agree("--cell", f.cell, cell_kind_name(c.cell));
    agree("--decoder", f.decoder, decoder_kind_name(c.decoder));
    agree("--score", f.score, score_kind_name(c.score));
    agree("--bidirectional", f.bidirectional, c.bidirectional);
    agree("--layers", f.layers, c.layers);
    agree("--embed", f.embed, c.embed);
    agree("--hidden", f.hidden, c.hidden);
    if (c.score == ScoreKind::concat || c.score == ScoreKind::qk || c.score == ScoreKind::qk_scaled)
        agree("--attn", f.attn, c.attn);
    require_task_agreement(cli, f, checkpoint);
}

// --load: the checkpoint, read and checked against the lesson and the other flags.
std::shared_ptr<const Checkpoint> checked_checkpoint(const Cli& cli, const LessonFlags& f,
                                                     const std::vector<std::string>& decoders,
                                                     const std::vector<std::string>& scores) {
    refuse_training_flags(cli);
    std::shared_ptr<const Checkpoint> checkpoint;
    try {
        checkpoint = std::make_shared<const Checkpoint>(read_checkpoint(f.load));
    } catch (const CheckpointError& e) {
        throw UsageError(fmt::format("--load: {}", e.what()));
    }
    if (checkpoint->transformer)  // its `model` holds no recurrent config to compare
        throw UsageError(fmt::format("--load: {} holds a Transformer; this lesson is about {} models{} "
                                     "(10_transformer loads it)",
                                     f.load, one_of(decoders), scores.empty() ? "" : " with score " + one_of(scores)));
    require_lesson_model(f, checkpoint->model, decoders, scores);
    require_agreement(cli, f, *checkpoint);
    try {
        const TaskGenerator task(checkpoint->task, f.held_out);
        load_model(*checkpoint, task);
    } catch (const TaskError& e) {
        throw UsageError(fmt::format("--load {} --held-out {}: {}", f.load, f.held_out, e.what()));
    } catch (const CheckpointError& e) {
        throw UsageError(fmt::format("--load: {}", e.what()));
    }
    return checkpoint;
}

std::string gigabytes(double bytes) { return fmt::format("{:.1f} GB", bytes / 1e9); }

// Training with sizes that do not fit is killed by the kernel without a word: refuse
// them here with the estimate and the flags that lower it, and warn when the step may
// not fit in the memory free right now.
}  // namespace

void check_memory(const LessonFlags& f, const TaskGenerator& task, int at_once) {
    std::size_t m = static_cast<std::size_t>(task.config().max_len) + 1, n = 1;
    for (const Example& e : task.held_out()) {
        m = std::max(m, e.src.size());
        n = std::max(n, e.tgt.size());
    }
    MemoryEstimate memory = estimate_memory(model_config(f, task), f.batch, static_cast<int>(m), static_cast<int>(n));
    memory.step_bytes *= at_once;
    const std::string need = fmt::format("training needs about {} per step (--batch {}, sources of up to {} tokens, "
                                         "--hidden {}{})",
                                         gigabytes(memory.step_bytes), f.batch, m - 1, f.hidden,
                                         at_once > 1 ? fmt::format(", {} models at once", at_once) : "");
    if (!memory.fits())
        throw UsageError(fmt::format("{}, more than this machine's {} of memory; lower --batch, --max-len or --hidden",
                                     need, gigabytes(memory.machine_bytes)));
    if (!memory.fits_now())
        fmt::print(stderr, "warning: {}, more than the {} free now: it may be killed for lack of memory\n", need,
                   gigabytes(memory.available_bytes));
}

namespace {

// An attention size only concat, qk and qk-scaled have: --attn for any other model would
// be ignored without a word.
void refuse_unused_attn(const Cli& cli, const LessonFlags& f, bool has_scores) {
    if (!cli.given("--attn")) return;
    if (!has_scores)
        throw UsageError("--attn has no effect on a plain model (it has no attention); leave --attn out");
    const ScoreKind score = parse_score_kind(f.score);
    if (score != ScoreKind::concat && score != ScoreKind::qk && score != ScoreKind::qk_scaled)
        throw UsageError(fmt::format("--attn has no effect with --score {} (only concat, qk and qk-scaled have an "
                                     "attention size A); leave --attn out",
                                     f.score));
}

// The source vocabulary of the task the flags ask for, once its lengths are checked.
Vocab checked_task_vocab(const LessonFlags& f) {
    const std::unique_ptr<TaskGenerator> task = checked_task(f);
    check_memory(f, *task);
    return task->src_vocab();
}

// The source vocabulary of --load's checkpoint or, without --load, of the task the flags
// ask for; either is checked first.
Vocab checked_src_vocab(const Cli& cli, LessonFlags& f, const std::vector<std::string>& decoders,
                        const std::vector<std::string>& scores) {
    if (f.load.empty()) return checked_task_vocab(f);
    f.checkpoint = checked_checkpoint(cli, f, decoders, scores);
    return make_src_vocab(f.checkpoint->task);
}

// The flags taken together; see add_lesson_flags. `typed` holds what --min-len and
// --max-len read, kept only when the command line gave them.
void check_lesson_flags(const Cli& cli, LessonFlags& f, const LengthRange& typed,
                        const std::vector<std::string>& decoders, const std::vector<std::string>& scores) {
    if (cli.given("--min-len")) f.min_len = typed.min_len;
    if (cli.given("--max-len")) f.max_len = typed.max_len;
    check_output_files(cli, {{"--json", f.json}, {"--svg", f.svg}, {"--save", f.save}}, {{"--load", f.load}});
    refuse_unused_attn(cli, f, !scores.empty());
    if (f.bidirectional && !scores.empty() && f.score == "dot")
        throw UsageError("--bidirectional with --score dot: dot needs keys as wide as the decoder state, and "
                         "[→h_i; ←h_i] is twice as wide; use --score general or qk");

    const Vocab src_vocab = checked_src_vocab(cli, f, decoders, scores);
    if (cli.given("--sentence") && !f.list_vocab) check_sentence(src_vocab, f.sentence);  // listing comes first
}

}  // namespace

void refuse_training_flags(const Cli& cli) {
    for (const char* flag : {"--steps", "--batch", "--lr", "--optimizer", "--clip", "--teacher-forcing", "--save"})
        if (cli.given(flag))
            throw UsageError(fmt::format("{} has no effect with --load (a loaded model is not trained): drop one of "
                                         "the two",
                                         flag));
}

void require_checkpoint_value(const Cli& cli, const LessonFlags& f, std::string_view flag, const std::string& typed,
                              const std::string& held) {
    if (cli.given(flag) && typed != held)
        throw UsageError(fmt::format("{} {} conflicts with --load {}, whose model has {} {}; leave {} out", flag, typed,
                                     f.load, flag, held, flag));
}

void require_task_agreement(const Cli& cli, const LessonFlags& f, const Checkpoint& checkpoint) {
    auto agree = [&](std::string_view flag, const auto& typed, const auto& held) {
        require_checkpoint_value(cli, f, flag, fmt::format("{}", typed), fmt::format("{}", held));
    };
    agree("--task", f.task, checkpoint.task.name);
    agree("--min-len", f.min_len.value_or(0), checkpoint.task.min_len);  // typed, so set, when given
    agree("--max-len", f.max_len.value_or(0), checkpoint.task.max_len);
    agree("--seed", f.seed, checkpoint.task.seed);
}

std::unique_ptr<TaskGenerator> checked_task(const LessonFlags& f) {
    const TaskConfig config = task_config(f);
    if (config.min_len > config.max_len) {
        auto side = [&](const char* flag, int value, bool typed) {
            return typed ? fmt::format("{} {}", flag, value) : fmt::format("{} (task {} default: {})", flag, f.task, value);
        };
        throw UsageError(fmt::format("{} is greater than {}", side("--min-len", config.min_len, f.min_len.has_value()),
                                     side("--max-len", config.max_len, f.max_len.has_value())));
    }
    try {
        return std::make_unique<TaskGenerator>(config, f.held_out);
    } catch (const TaskError& e) {
        throw UsageError(fmt::format("--task {} --min-len {} --max-len {} --held-out {}: {}", f.task, config.min_len,
                                     config.max_len, f.held_out, e.what()));
    }
}

void check_sentence(const Vocab& src_vocab, const std::string& sentence) {
    std::vector<int> ids;
    try {
        ids = src_vocab.encode(sentence);
    } catch (const TaskError& e) {
        throw UsageError(fmt::format("--sentence: {}", e.what()));
    }
    if (ids.size() - 1 > static_cast<std::size_t>(task_max_len))
        throw UsageError(fmt::format("--sentence: {} tokens; at most {}", ids.size() - 1, task_max_len));
}

std::string listed(const std::vector<std::string>& items, std::string_view last) {
    std::string text;
    for (std::size_t i = 0; i < items.size(); ++i)
        text += (i == 0 ? "" : i + 1 == items.size() ? fmt::format(" {} ", last) : ", ") + items[i];
    return text;
}

std::vector<std::string> split_commas(const std::string& text) {
    std::vector<std::string> items;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t comma = std::min(text.find(',', start), text.size());
        items.push_back(text.substr(start, comma - start));
        start = comma + 1;
    }
    return items;
}

std::string_view cell_title(std::string_view cell) { return cell == "rnn" ? "SimpleRNN" : cell == "gru" ? "GRU" : "LSTM"; }

int list_vocabularies(const LessonFlags& f) {
    Printer out(f.print);
    const TaskConfig config = f.checkpoint ? f.checkpoint->task : task_config(f);
    print_vocabulary(out, "source", make_src_vocab(config));
    out.blank();
    print_vocabulary(out, "target", make_tgt_vocab(config));
    return 0;
}

TaskConfig task_config(const LessonFlags& f) {
    TaskConfig config = default_task_config(f.task);
    if (f.task == f.lesson_task) {
        config.min_len = f.lesson_lengths.min_len;
        config.max_len = f.lesson_lengths.max_len;
    }
    config.min_len = f.min_len.value_or(config.min_len);
    config.max_len = f.max_len.value_or(config.max_len);
    config.seed = f.seed;
    return config;
}

void add_encoder_flags(Cli& cli, LessonFlags& f) {
    cli.flag("--bidirectional", f.bidirectional,
             "read the source both ways: keys [→h_i; ←h_i], the decoder from s_0 = tanh(bridge.W ←h_1 + bridge.b)");
    cli.option("--layers", f.layers, "stacked layers L of encoder and decoder", 1, 4);
}

void add_beam_flags(Cli& cli, LessonFlags& f) {
    cli.option("--beam", f.beam, "beam width K of held-out evaluation and --sentence (1: greedy decoding)", 1, 64);
    cli.option("--length-penalty", f.length_penalty, "a of the beam's length penalty lp(n) = ((5 + n) / 6)^a "
               "(0: rank by log p alone)", 0.0, 5.0);
    cli.check([&cli, &f] {
        if (cli.given("--length-penalty") && f.beam == 1)
            throw UsageError("--length-penalty has no effect with greedy decoding (--beam 1): it ranks the finished "
                             "hypotheses of a beam; add --beam K or leave --length-penalty out");
    });
}

void add_decoding_flags(Cli& cli, LessonFlags& f) {
    add_beam_flags(cli, f);
    cli.option("--teacher-forcing", f.teacher_forcing, "P: in training each decoder input is the gold token with "
               "probability P, else the model's own previous argmax", 0.0, 1.0);
}

void add_size_and_training_flags(Cli& cli, LessonFlags& f) {
    cli.option("--embed", f.embed, "embedding size E", 1, 1024);
    cli.option("--hidden", f.hidden, "hidden size H", 1, 1024);
    cli.option("--attn", f.attn, "attention size A (concat, qk, qk-scaled)", 1, 1024);
    add_training_flags(cli, f);
}

void add_training_flags(Cli& cli, LessonFlags& f) {
    cli.option("--steps", f.steps, "training steps (batches) of each model", 0, 1000000);
    cli.option("--batch", f.batch, "examples per batch", 1, 4096);
    cli.option("--lr", f.lr, "learning rate (cosine decay to 0)", 1e-6, 10.0);
    cli.choice("--optimizer", f.optimizer, {"adam", "sgd"}, "optimizer");
    cli.option("--clip", f.clip, "largest gradient norm (0: no clipping)", 0.0, 1e6);
    cli.option("--threads", f.threads, "0: one tape per batch; N: the batch in shards of 16 examples, N at a time on N "
               "threads (every N prints the same numbers, which differ from 0's in the last digits)", 0, max_threads);
}

void add_lesson_flags(Cli& cli, LessonFlags& f, const std::vector<std::string>& decoders,
                      const std::vector<std::string>& scores) {
    f.lesson_task = f.task;
    // What --min-len and --max-len read; --help shows the lesson's lengths as defaults.
    // Shared with the check below, which keeps it alive as long as the Cli.
    const auto typed = std::make_shared<LengthRange>(f.lesson_lengths);
    std::vector<std::string> tasks;
    for (std::string_view name : task_names()) tasks.emplace_back(name);
    cli.choice("--cell", f.cell, {"rnn", "gru", "lstm"}, "recurrent cell of encoder and decoder");
    if (decoders.size() > 1) cli.choice("--decoder", f.decoder, decoders, "how the decoder uses the source");
    if (!scores.empty()) cli.choice("--score", f.score, scores, "attention score function");
    cli.choice("--task", f.task, tasks, "task the model learns");
    cli.option("--seed", f.seed, "seed of data, initialisation and everything random", 0, checkpoint_max_seed);
    add_encoder_flags(cli, f);
    add_size_and_training_flags(cli, f);
    add_decoding_flags(cli, f);
    cli.option("--min-len", typed->min_len, "shortest source, in tokens (other tasks: their own default)", 1, task_max_len);
    cli.option("--max-len", typed->max_len, "longest source, in tokens (other tasks: their own default)", 1, task_max_len);
    cli.option("--held-out", f.held_out, "held-out examples for evaluation", 1, 100000);
    cli.option("--json", f.json, f.json_help, "PATH");
    if (!scores.empty())
        cli.option("--svg", f.svg, "write α of the traced example here, an SVG heatmap with the tokens on both axes", "PATH");
    cli.option("--save", f.save, "save the trained model to this checkpoint", "PATH");
    cli.option("--load", f.load, "load a checkpoint instead of training (it fixes the model and the task)", "PATH");
    cli.option("--sentence", f.sentence, "trace this source, in the task's tokens, instead of a held-out example", "TEXT");
    cli.flag("--list-vocab", f.list_vocab, "print the task's source and target vocabularies, every token, and stop");
    cli.add_print_flags(f.print);
    cli.check([&cli, &f, typed, decoders, scores] { check_lesson_flags(cli, f, *typed, decoders, scores); });
}

}  // namespace stepgrad
