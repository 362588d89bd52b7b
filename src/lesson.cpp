#include "stepgrad/lesson.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include "stepgrad/ops.hpp"

namespace stepgrad {

void add_lesson_flags(Cli& cli, LessonFlags& f, const std::vector<std::string>& decoders,
                      const std::vector<std::string>& scores) {
    f.default_min_len = f.min_len;
    f.default_max_len = f.max_len;
    std::vector<std::string> tasks;
    for (std::string_view name : task_names()) tasks.emplace_back(name);
    cli.choice("--cell", f.cell, {"rnn", "gru", "lstm"}, "recurrent cell of encoder and decoder");
    if (decoders.size() > 1) cli.choice("--decoder", f.decoder, decoders, "how the decoder uses the source");
    if (!scores.empty()) cli.choice("--score", f.score, scores, "attention score function");
    cli.choice("--task", f.task, tasks, "task the model learns");
    cli.option("--seed", f.seed, "seed of data, initialisation and everything random");
    cli.option("--embed", f.embed, "embedding size E", 1, 1024);
    cli.option("--hidden", f.hidden, "hidden size H", 1, 1024);
    cli.option("--attn", f.attn, "attention size A (concat, qk, qk-scaled)", 1, 1024);
    cli.option("--steps", f.steps, "training steps (batches)", 0, 1000000);
    cli.option("--batch", f.batch, "examples per batch", 1, 4096);
    cli.option("--lr", f.lr, "learning rate (cosine decay to 0)", 1e-6, 10.0);
    cli.choice("--optimizer", f.optimizer, {"adam", "sgd"}, "optimizer");
    cli.option("--clip", f.clip, "largest gradient norm (0: no clipping)", 0.0, 1e6);
    cli.option("--min-len", f.min_len, "shortest source, in tokens", 1, task_max_len);
    cli.option("--max-len", f.max_len, "longest source, in tokens", 1, task_max_len);
    cli.option("--held-out", f.held_out, "held-out examples for evaluation", 1, 100000);
    cli.option("--json", f.json, "write the trace of one example here (SPEC §7)", "PATH");
    cli.option("--save", f.save, "save the trained model to this checkpoint", "PATH");
    cli.option("--load", f.load, "load a checkpoint instead of training", "PATH");
    cli.add_print_flags(f.print);
}

ModelConfig model_config(const LessonFlags& f, const TaskGenerator& task) {
    ModelConfig config;
    config.cell = parse_cell_kind(f.cell);
    config.decoder = parse_decoder_kind(f.decoder);
    config.score = config.decoder == DecoderKind::plain ? ScoreKind::none : parse_score_kind(f.score);
    config.src_vocab = task.src_vocab().size();
    config.tgt_vocab = task.tgt_vocab().size();
    config.embed = f.embed;
    config.hidden = f.hidden;
    config.attn = f.attn;
    return config;
}

namespace {
TaskConfig task_config(const LessonFlags& f) {
    TaskConfig config = default_task_config(f.task);
    const LessonFlags lesson_defaults;
    const bool lengths_given = f.min_len != f.default_min_len || f.max_len != f.default_max_len;
    if (f.task == lesson_defaults.task || lengths_given) {
        config.min_len = f.min_len;
        config.max_len = f.max_len;
    }
    config.seed = f.seed;
    return config;
}
}  // namespace

Trained train_or_load(const LessonFlags& f, Printer& out) {
    Trained trained;
    if (!f.load.empty()) {
        const Checkpoint checkpoint = read_checkpoint(f.load);
        trained.task = std::make_unique<TaskGenerator>(checkpoint.task, f.held_out);
        trained.model = load_model(checkpoint, *trained.task);
        const ModelConfig& c = checkpoint.model;
        out.line("Loaded {} (step {}): {} cell, {} decoder, score {}, E = {}, H = {}, task {}.", f.load, checkpoint.step,
                 cell_kind_name(c.cell), decoder_kind_name(c.decoder), score_kind_name(c.score), c.embed, c.hidden,
                 checkpoint.task.name);
    } else {
        trained.task = std::make_unique<TaskGenerator>(task_config(f), f.held_out);
        trained.model = std::make_unique<Seq2Seq>(model_config(f, *trained.task));
        trained.model->init(f.seed);
        const TaskConfig& task = trained.task->config();
        out.text(fmt::format("Training a {} {} model ({} parameters) on '{}', sources of {}–{} tokens: {} steps of "
                             "{} examples, {}, lr {} with cosine decay, {}.",
                             f.cell, trained.model->config().decoder == DecoderKind::plain ? "plain" : f.decoder + "/" + f.score,
                             trained.model->parameter_count(), f.task, task.min_len, task.max_len, f.steps, f.batch,
                             f.optimizer == "adam" ? "Adam" : "SGD", f.lr,
                             f.clip > 0 ? fmt::format("gradient norm clipped at {}", f.clip) : "no clipping"));
        TrainOptions options;
        options.steps = f.steps;
        options.batch_size = f.batch;
        options.lr = f.lr;
        options.optimizer = f.optimizer;
        options.clip = f.clip;
        options.save_path = f.save;
        trained.training = train(*trained.model, *trained.task, options);
        if (trained.training.interrupted) {
            fmt::print(stderr, "interrupted at step {}{}\n", trained.training.steps,
                       f.save.empty() ? "" : fmt::format("; checkpoint saved to {}", f.save));
            std::exit(130);
        }
        if (!trained.training.losses.empty())
            out.line("Loss: {:.4f} after the first step, {:.4f} after the last.", trained.training.losses.front(),
                     trained.training.losses.back());
        if (!f.save.empty()) out.line("Saved the model to {}.", f.save);
    }
    trained.accuracy = evaluate(*trained.model, trained.task->held_out());
    out.text(fmt::format("Held-out accuracy ({} examples never trained on, greedy decoding): {:.1f}% of target "
                         "tokens, {:.1f}% of whole sequences.",
                         trained.accuracy.examples, 100 * trained.accuracy.token_accuracy,
                         100 * trained.accuracy.sequence_accuracy));
    return trained;
}

namespace {

std::string quoted(const Vocab& vocab, int id) { return "'" + vocab.token(id) + "'"; }

// The k most probable next tokens under softmax(logits).
std::string top_predictions(const std::vector<double>& logits, const Vocab& vocab, int k) {
    const double max = *std::max_element(logits.begin(), logits.end());
    double total = 0;
    for (double l : logits) total += std::exp(l - max);
    std::vector<int> order(logits.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return logits[static_cast<std::size_t>(a)] > logits[static_cast<std::size_t>(b)]; });
    std::string text;
    for (int i = 0; i < k && i < static_cast<int>(order.size()); ++i)
        text += fmt::format("{}{} {:.3f}", i ? ",  " : "", quoted(vocab, order[static_cast<std::size_t>(i)]),
                            std::exp(logits[static_cast<std::size_t>(order[static_cast<std::size_t>(i)])] - max) / total);
    return text;
}

void print_gates(Printer& out, const CellStep& step, std::string_view state_name, int t) {
    if (out.shows(TraceLevel::gates))
        for (const Gate& gate : step.gates()) out.vector(fmt::format("{}_{}", gate.name, t), gate.value.row(0));
    out.vector(fmt::format("{}_{}", state_name, t), step.state.h.row(0));
    if (step.state.c.defined()) out.vector(fmt::format("c_{}", t), step.state.c.row(0));
}

// Row 0's i-th block of width K of a (1, m·K) blocks tensor.
std::vector<double> block(Tensor blocks, int i, int K) {
    const auto row = blocks.row(0);
    return {row.begin() + i * K, row.begin() + (i + 1) * K};
}

}  // namespace

void print_encoder(Printer& out, const TraceRun& run, const Vocab& src_vocab) {
    const auto& steps = run.forward.encoder.steps;
    for (std::size_t t = 0; t < steps.size(); ++t) {
        if (out.shows(TraceLevel::gates)) out.line("  x_{} = {}", t + 1, quoted(src_vocab, run.batch.src[t]));
        if (out.shows(TraceLevel::gates))
            print_gates(out, steps[t], "h", static_cast<int>(t + 1));
        else
            out.vector(fmt::format("h_{} ({})", t + 1, quoted(src_vocab, run.batch.src[t])), steps[t].state.h.row(0));
    }
}

void print_decoder_step(Printer& out, Seq2Seq& model, const TraceRun& run, std::size_t j, const Vocab& src_vocab,
                        const Vocab& tgt_vocab) {
    const DecoderStep& step = run.forward.decoder[j];
    const int t = static_cast<int>(j + 1);
    const ModelConfig& config = model.config();
    out.blank();
    out.line("{}", out.bold(fmt::format("step j = {}: reads y_{} = {}, must predict y_{} = {}", t, t - 1,
                                        quoted(tgt_vocab, run.batch.tgt_in[j]), t, quoted(tgt_vocab, run.batch.tgt_out[j]))));
    if (config.decoder == DecoderKind::luong) print_gates(out, step.cell, "s", t);
    if (step.attention.alpha.defined()) {
        const int m = run.batch.src_len;
        const std::string query = config.decoder == DecoderKind::bahdanau ? fmt::format("s_{}", t - 1) : fmt::format("s_{}", t);
        const bool qk = config.score == ScoreKind::qk || config.score == ScoreKind::qk_scaled;
        if (qk && out.shows(TraceLevel::gates)) {
            out.vector(fmt::format("q_{} = W_Q {}", t, query), step.attention.query.row(0));
            for (int i = 0; i < m; ++i)
                out.vector(fmt::format("k_{} = W_K h_{}", i + 1, i + 1), block(run.forward.encoder.attention.keys, i, config.attn));
        }
        Table table({"i", "x_i", fmt::format("e_{},i = score(h_i, {})", t, query), fmt::format("α_{},i", t), ""});
        table.precision(out.precision());
        const auto scores = step.attention.scores.row(0), alpha = step.attention.alpha.row(0);
        double total = 0;
        for (int i = 0; i < m; ++i) {
            const std::size_t at = static_cast<std::size_t>(i);
            total += alpha[at];
            table.add_row(i + 1, quoted(src_vocab, run.batch.src[at]), scores[at], alpha[at],
                          std::string(static_cast<std::size_t>(std::lround(alpha[at] * 20)), '#'));
        }
        out.table(table);
        out.line("  Σ_i α_{},i = {:.{}f}", t, total, out.precision());
        out.vector(fmt::format("c_{} = Σ_i α_{},i h_i", t, t), step.attention.context.row(0));
    }
    if (config.decoder != DecoderKind::luong) print_gates(out, step.cell, "s", t);
    if (step.attentional.defined()) out.vector(fmt::format("h̃_{} = tanh(W_c [s_{}; c_{}])", t, t, t), step.attentional.row(0));
    out.line("  top predictions: {}", top_predictions(run.forward.logits.row(static_cast<int>(j)), tgt_vocab, 3));
}

void print_alignment(Printer& out, const TraceRun& run, const Vocab& src_vocab, const Vocab& tgt_vocab) {
    const auto& steps = run.forward.decoder;
    if (steps.empty() || !steps.front().attention.alpha.defined()) return;
    const int m = run.batch.src_len;
    std::vector<double> alpha;
    std::vector<std::string> rows, cols;
    for (std::size_t j = 0; j < steps.size(); ++j) {
        const auto row = steps[j].attention.alpha.row(0);
        alpha.insert(alpha.end(), row.begin(), row.end());
        rows.push_back(tgt_vocab.token(run.batch.tgt_out[j]));
    }
    for (int i = 0; i < m; ++i) cols.push_back(src_vocab.token(run.batch.src[static_cast<std::size_t>(i)]));
    out.heatmap("α: target tokens down, source tokens across", alpha, steps.size(), static_cast<std::size_t>(m), rows, cols);
}

void print_accuracy_by_length(Printer& out, Seq2Seq& model, const TaskGenerator& task) {
    std::map<int, std::vector<Example>> by_length;
    for (const Example& e : task.held_out()) by_length[static_cast<int>(e.src.size()) - 1].push_back(e);
    Table table({"source length", "examples", "token accuracy", "sequence accuracy"});
    table.precision(3);
    for (const auto& [length, examples] : by_length) {
        const Accuracy a = evaluate(model, examples);
        table.add_row(length, static_cast<int>(examples.size()), a.token_accuracy, a.sequence_accuracy);
    }
    out.table(table);
}

void write_lesson_trace(const LessonFlags& flags, std::string_view lesson, Trained& trained, const TraceRun& run) {
    if (flags.json.empty()) return;
    const EvalSummary eval{trained.task->config().name, trained.accuracy.examples, trained.accuracy.token_accuracy,
                           trained.accuracy.sequence_accuracy};
    write_file_atomically(flags.json, seq2seq_trace(lesson, *trained.model, trained.task->src_vocab(),
                                                    trained.task->tgt_vocab(), run, &eval));
}

int run_lesson(std::string_view program, const std::function<int()>& body) {
    try {
        return body();
    } catch (const TrainingError& e) {
        fmt::print(stderr, "{}: error: {}\n", program, e.what());
        return 1;
    } catch (const std::exception& e) {
        fmt::print(stderr, "{}: error: {}\n", program, e.what());
        return 2;
    }
}

}  // namespace stepgrad
