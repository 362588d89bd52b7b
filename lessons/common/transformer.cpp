// Lesson 10's flags and model: registering, checking, training or loading (see transformer.hpp).
#include "common/transformer.hpp"

#include <algorithm>
#include <vector>

#include <unistd.h>

#include "common/outputs.hpp"   // defines: check_output_files
#include "common/training.hpp"  // defines: train_for_lesson, held_out_accuracy, train_quietly
#include "stepgrad/support/checkpoint.hpp"

namespace stepgrad {

namespace {

// d must split into h heads of d_k = d/h columns, and pair sin and cos columns in PE.
void check_sizes(const TransformerFlags& f) {
    if (f.d_model % 2 != 0)
        throw UsageError(fmt::format("--d-model {} is odd: the positional encoding pairs a sin and a cos column, so "
                                     "d must be even",
                                     f.d_model));
    if (f.d_model % f.heads != 0) {
        std::vector<std::string> divisors;
        for (int h = 1; h <= std::min(f.d_model, 64); ++h)
            if (f.d_model % h == 0) divisors.push_back(std::to_string(h));
        throw UsageError(fmt::format("--heads {} does not divide --d-model {}: each head takes d_k = d_model / heads "
                                     "columns; with --d-model {} use --heads {}",
                                     f.heads, f.d_model, f.d_model, listed(divisors, "or")));
    }
}

// A training step's memory, counted: each value the tape keeps has a gradient beside it
// (16 bytes). Per example, an encoder layer keeps about 16 vectors of d per source
// position (norms, Q, K, V, heads, sums), 3 of d_ff (FFN) and 3 score matrices per head
// (scores, masked, α); a decoder layer twice the attention, the logits 4 rows of V per
// target position. Then the parameters, their gradients and Adam's two moments. (Within
// 10 % of the tape measured at d = 16 … 128, N = 1 … 3, sources of 30 tokens.)
double step_bytes(const TransformerConfig& c, double batch, double m, double n) {
    const double d = c.d_model, h = c.heads, d_ff = c.d_ff, N = c.layers;
    const double encoder = m * (16 * d + 3 * d_ff) + 3 * h * m * m;
    const double decoder = n * (28 * d + 3 * d_ff) + 4 * m * d + 3 * h * (n * n + n * m);
    const double example = 16 * (N * (encoder + decoder) + 4 * n * c.tgt_vocab);
    const double embeddings = (c.src_vocab + 2.0 * c.tgt_vocab + 1) * d;
    const double per_layer = 3 * (4 * d * d + 4 * d) + 2 * (d * d_ff) + d_ff + d + 10 * d;
    return batch * example + 4 * 8 * (embeddings + N * per_layer);
}

// Sizes whose training step cannot fit in this machine's memory would be killed by the
// kernel without a word: refuse them, naming the estimate and the flags that lower it.
void check_memory(const TransformerFlags& f, const TaskGenerator& task) {
    std::size_t m = static_cast<std::size_t>(task.config().max_len) + 1, n = 1;
    for (const Example& e : task.held_out()) {
        m = std::max(m, e.src.size());
        n = std::max(n, e.tgt.size());
    }
    const double need = step_bytes(transformer_config(f, task), f.shared.batch, static_cast<double>(m), static_cast<double>(n));
    const double machine = static_cast<double>(::sysconf(_SC_PHYS_PAGES)) * static_cast<double>(::sysconf(_SC_PAGE_SIZE));
    if (machine > 0 && need > machine)
        throw UsageError(fmt::format("training needs about {:.1f} GB per step (--batch {}, sources of up to {} tokens, "
                                     "--d-model {}, --d-ff {}, --layers {}), more than this machine's {:.1f} GB of "
                                     "memory; lower --batch, --max-len, --d-model, --d-ff or --layers",
                                     need / 1e9, f.shared.batch, m - 1, f.d_model, f.d_ff, f.shared.layers, machine / 1e9));
}

// --load: the checkpoint must hold a Transformer, and the flags typed beside it agree.
std::shared_ptr<const Checkpoint> checked_checkpoint(const Cli& cli, const TransformerFlags& f) {
    const LessonFlags& s = f.shared;
    refuse_training_flags(cli);
    std::shared_ptr<const Checkpoint> checkpoint;
    try {
        checkpoint = std::make_shared<const Checkpoint>(read_checkpoint(s.load));
    } catch (const CheckpointError& e) {
        throw UsageError(fmt::format("--load: {}", e.what()));
    }
    if (!checkpoint->transformer) {
        const ModelConfig& c = checkpoint->model;
        throw UsageError(fmt::format("--load: {} holds a recurrent {} model ({} decoder, score {}); lesson 10 loads a "
                                     "Transformer, one saved by 10_transformer --save",
                                     s.load, cell_title(cell_kind_name(c.cell)), decoder_kind_name(c.decoder),
                                     score_kind_name(c.score)));
    }
    const TransformerConfig& c = *checkpoint->transformer;
    auto agree = [&](std::string_view flag, const auto& typed, const auto& held) {
        require_checkpoint_value(cli, s, flag, fmt::format("{}", typed), fmt::format("{}", held));
    };
    agree("--d-model", f.d_model, c.d_model);
    agree("--heads", f.heads, c.heads);
    agree("--layers", s.layers, c.layers);
    agree("--d-ff", f.d_ff, c.d_ff);
    agree("--norm", f.norm, norm_position_name(c.norm));
    require_task_agreement(cli, s, *checkpoint);
    try {
        const TaskGenerator task(checkpoint->task, s.held_out);
        load_transformer(*checkpoint, task);
    } catch (const TaskError& e) {
        throw UsageError(fmt::format("--load {} --held-out {}: {}", s.load, s.held_out, e.what()));
    } catch (const CheckpointError& e) {
        throw UsageError(fmt::format("--load: {}", e.what()));
    }
    return checkpoint;
}

// The flags taken together; see add_transformer_flags. `typed` holds what --min-len and
// --max-len read, kept only when the command line gave them.
void check_transformer_flags(const Cli& cli, TransformerFlags& f, const LengthRange& typed) {
    LessonFlags& s = f.shared;
    if (f.quick) {
        if (!cli.given("--steps")) s.steps = quick_steps;
        if (!cli.given("--held-out")) s.held_out = quick_held_out;
    }
    if (cli.given("--min-len")) s.min_len = typed.min_len;
    if (cli.given("--max-len")) s.max_len = typed.max_len;
    check_output_files(cli, {{"--json", s.json}, {"--save", s.save}}, {{"--load", s.load}});
    check_sizes(f);
    Vocab src_vocab;
    if (s.load.empty()) {
        const std::unique_ptr<TaskGenerator> task = checked_task(s);
        check_memory(f, *task);
        src_vocab = task->src_vocab();
    } else {
        s.checkpoint = checked_checkpoint(cli, f);
        src_vocab = make_src_vocab(s.checkpoint->task);
        const TransformerConfig& c = *s.checkpoint->transformer;  // from now on the flags describe it
        f.d_model = c.d_model;
        f.heads = c.heads;
        s.layers = c.layers;
        f.d_ff = c.d_ff;
        f.norm = norm_position_name(c.norm);
    }
    if (cli.given("--sentence") && !s.list_vocab) check_sentence(src_vocab, s.sentence);  // listing comes first
}

void load(const TransformerFlags& f, TrainedTransformer& trained, Printer& out) {
    const LessonFlags& s = f.shared;
    const auto checkpoint = s.checkpoint ? s.checkpoint : std::make_shared<const Checkpoint>(read_checkpoint(s.load));
    trained.task = std::make_unique<TaskGenerator>(checkpoint->task, s.held_out);
    trained.model = load_transformer(*checkpoint, *trained.task);
    out.text(fmt::format("Loaded {} (step {}): a {}, task {}.", s.load, checkpoint->step,
                         transformer_words(trained.model->config()), checkpoint->task.name));
}

void train_from_scratch(const TransformerFlags& f, TrainedTransformer& trained, Printer& out) {
    const LessonFlags& s = f.shared;
    trained.task = std::make_unique<TaskGenerator>(task_config(s), s.held_out);
    trained.model = std::make_unique<Transformer>(transformer_config(f, *trained.task));
    trained.model->init(s.seed);
    const TaskConfig& task = trained.task->config();
    out.text(fmt::format("Training a {} ({} parameters) on '{}', sources of {}–{} tokens: {} steps of {} examples, "
                         "teacher forced, {}, lr {} with cosine decay, {}.",
                         transformer_words(trained.model->config()), trained.model->parameter_count(), task.name,
                         task.min_len, task.max_len, s.steps, s.batch, s.optimizer == "adam" ? "Adam" : "SGD", s.lr,
                         s.clip > 0 ? fmt::format("gradient norm clipped at {}", s.clip) : "no clipping"));
    trained.training = train_for_lesson(*trained.model, *trained.task, s, out);
}

}  // namespace

void add_transformer_flags(Cli& cli, TransformerFlags& f) {
    LessonFlags& s = f.shared;
    s.lesson_task = s.task;
    // What --min-len and --max-len read; --help shows the lesson's lengths as defaults.
    const auto typed = std::make_shared<LengthRange>(s.lesson_lengths);
    std::vector<std::string> tasks;
    for (std::string_view name : task_names()) tasks.emplace_back(name);
    cli.choice("--task", s.task, tasks, "task the model learns");
    cli.option("--seed", s.seed, "seed of data, initialisation and everything random", 0, checkpoint_max_seed);
    cli.option("--d-model", f.d_model, "model width d (even, a multiple of --heads)", 2, 1024);
    cli.option("--heads", f.heads, "attention heads h, each d_k = d / h wide", 1, 64);
    cli.option("--layers", s.layers, "layers N of encoder and decoder", 1, 8);
    cli.option("--d-ff", f.d_ff, "width of each layer's feed-forward network", 1, 4096);
    cli.choice("--norm", f.norm, {"pre", "post"}, "layer norm before each sub-layer (pre) or after its residual sum "
               "(post, the paper's)");
    add_training_flags(cli, s);
    add_beam_flags(cli, s);
    cli.option("--min-len", typed->min_len, "shortest source, in tokens (other tasks: their own default)", 1, task_max_len);
    cli.option("--max-len", typed->max_len, "longest source, in tokens (other tasks: their own default)", 1, task_max_len);
    cli.option("--held-out", s.held_out, "held-out examples for evaluation", 1, 100000);
    cli.option("--json", s.json, "write the Transformer trace of the traced example here (SPEC §14)", "PATH");
    cli.option("--save", s.save, "save the trained model to this checkpoint", "PATH");
    cli.option("--load", s.load, "load a checkpoint instead of training (it fixes the model and the task)", "PATH");
    cli.option("--sentence", s.sentence, "trace this source, in the task's tokens, instead of a held-out example", "TEXT");
    cli.flag("--list-vocab", s.list_vocab, "print the task's source and target vocabularies, every token, and stop");
    cli.flag("--quick", f.quick, fmt::format("a tiny run for tests: {} steps, {} held-out examples, unless given",
                                             quick_steps, quick_held_out));
    cli.add_print_flags(s.print);
    cli.check([&cli, &f, typed] { check_transformer_flags(cli, f, *typed); });
}

TransformerConfig transformer_config(const TransformerFlags& f, const TaskGenerator& task) {
    TransformerConfig config;
    config.src_vocab = task.src_vocab().size();
    config.tgt_vocab = task.tgt_vocab().size();
    config.d_model = f.d_model;
    config.heads = f.heads;
    config.layers = f.shared.layers;
    config.d_ff = f.d_ff;
    config.norm = parse_norm_position(f.norm);
    return config;
}

std::string transformer_words(const TransformerConfig& c) {
    return fmt::format("{}-norm Transformer, d = {}, h = {} head{} of d_k = {}, N = {} layer{}, d_ff = {}",
                       norm_position_name(c.norm), c.d_model, c.heads, c.heads == 1 ? "" : "s", c.d_model / c.heads,
                       c.layers, c.layers == 1 ? "" : "s", c.d_ff);
}

TrainedTransformer train_or_load_transformer(const TransformerFlags& f, Printer& out) {
    TrainedTransformer trained;
    if (f.shared.checkpoint || !f.shared.load.empty())
        load(f, trained, out);
    else
        train_from_scratch(f, trained, out);
    trained.accuracy = held_out_accuracy(*trained.model, *trained.task, f.shared, out);
    return trained;
}

TrainedTransformer train_transformer_quietly(const TransformerFlags& f, const TaskConfig& task, const std::string& label) {
    TrainedTransformer trained;
    trained.task = std::make_unique<TaskGenerator>(task, f.shared.held_out);
    trained.model = std::make_unique<Transformer>(transformer_config(f, *trained.task));
    trained.model->init(f.shared.seed);
    trained.training = train_quietly(*trained.model, *trained.task, f.shared, label);
    if (trained.training.steps == f.shared.steps)
        trained.accuracy = evaluate(*trained.model, trained.task->held_out(), evaluate_options(f.shared, *trained.task));
    return trained;
}

}  // namespace stepgrad
