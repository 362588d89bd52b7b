#include "common/lesson.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <new>
#include <optional>

#include <unistd.h>

#include "stepgrad/ops.hpp"

namespace stepgrad {

namespace {

// The task the flags ask for. Lengths the command line gave win; the others are the
// lesson's own for its default task and the task's defaults for any other task (dates
// are 10–29 characters long, whatever a lesson about `reverse` prefers).
TaskConfig task_config(const LessonFlags& f) {
    TaskConfig config = default_task_config(f.task);
    const bool lesson_task = f.task == LessonFlags{}.task;
    // set in code rather than on the command line (no Cli check ran): both count
    const bool set_in_code = !f.min_len_given && !f.max_len_given &&
                             (f.min_len != f.default_min_len || f.max_len != f.default_max_len);
    if (lesson_task || set_in_code) {
        config.min_len = f.min_len;
        config.max_len = f.max_len;
    }
    if (f.min_len_given) config.min_len = f.min_len;
    if (f.max_len_given) config.max_len = f.max_len;
    config.seed = f.seed;
    return config;
}

// Throws UsageError unless a file can be created at `path` (tried, then removed).
void require_writable(std::string_view flag, const std::string& path) {
    if (path.empty()) return;
    std::error_code error;
    if (std::filesystem::is_directory(path, error)) throw UsageError(fmt::format("{}: {} is a folder, not a file", flag, path));
    const std::string probe = path + ".tmp-" + std::to_string(::getpid());
    std::FILE* file = std::fopen(probe.c_str(), "wb");
    if (!file) throw UsageError(fmt::format("{}: cannot write {}: {}", flag, path, std::strerror(errno)));
    std::fclose(file);
    std::remove(probe.c_str());
}

std::string one_of(const std::vector<std::string>& words) {
    std::string text;
    for (std::size_t i = 0; i < words.size(); ++i)
        text += (i == 0 ? "" : i + 1 == words.size() ? " or " : ", ") + words[i];
    return text;
}

// --load: the checkpoint, read and checked against the lesson and the other flags.
std::shared_ptr<const Checkpoint> checked_checkpoint(const Cli& cli, const LessonFlags& f,
                                                     const std::vector<std::string>& decoders,
                                                     const std::vector<std::string>& scores) {
    for (const char* flag : {"--steps", "--batch", "--lr", "--optimizer", "--clip", "--save"})
        if (cli.given(flag))
            throw UsageError(fmt::format("{} has no effect with --load (a loaded model is not trained): drop one of "
                                         "the two",
                                         flag));
    std::shared_ptr<const Checkpoint> checkpoint;
    try {
        checkpoint = std::make_shared<const Checkpoint>(read_checkpoint(f.load));
    } catch (const CheckpointError& e) {
        throw UsageError(fmt::format("--load: {}", e.what()));
    }
    const ModelConfig& c = checkpoint->model;
    const std::string decoder = decoder_kind_name(c.decoder), score = score_kind_name(c.score);
    const bool plain = c.decoder == DecoderKind::plain;
    if (std::find(decoders.begin(), decoders.end(), decoder) == decoders.end() ||
        (scores.empty() ? !plain : std::find(scores.begin(), scores.end(), score) == scores.end()))
        throw UsageError(fmt::format("--load: {} holds a {} model; this lesson is about {} models{}", f.load,
                                     plain ? "plain" : decoder + "/" + score, one_of(decoders),
                                     scores.empty() ? "" : " with score " + one_of(scores)));
    // A flag typed next to --load must agree with the checkpoint, which decides.
    auto agree = [&](std::string_view flag, const auto& typed, const auto& held) {
        if (cli.given(flag) && fmt::format("{}", typed) != fmt::format("{}", held))
            throw UsageError(fmt::format("{} {} conflicts with --load {}, whose model has {} {}; leave {} out", flag,
                                         typed, f.load, flag, held, flag));
    };
    agree("--cell", f.cell, cell_kind_name(c.cell));
    agree("--decoder", f.decoder, decoder);
    agree("--score", f.score, score);
    agree("--embed", f.embed, c.embed);
    agree("--hidden", f.hidden, c.hidden);
    if (c.score == ScoreKind::concat || c.score == ScoreKind::qk || c.score == ScoreKind::qk_scaled)
        agree("--attn", f.attn, c.attn);
    agree("--task", f.task, checkpoint->task.name);
    agree("--min-len", f.min_len, checkpoint->task.min_len);
    agree("--max-len", f.max_len, checkpoint->task.max_len);
    agree("--seed", f.seed, checkpoint->task.seed);
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

// The flags taken together; see add_lesson_flags.
void check_lesson_flags(const Cli& cli, LessonFlags& f, const std::vector<std::string>& decoders,
                        const std::vector<std::string>& scores) {
    f.min_len_given = cli.given("--min-len");
    f.max_len_given = cli.given("--max-len");
    if (same_file(f.json, f.save)) throw UsageError(fmt::format("--json and --save name the same file, {}", f.json));
    if (same_file(f.json, f.load))
        throw UsageError(fmt::format("--json {} would overwrite the checkpoint --load reads", f.json));
    require_writable("--json", f.json);
    require_writable("--save", f.save);

    std::optional<Vocab> src_vocab;
    if (!f.load.empty()) {
        f.checkpoint = checked_checkpoint(cli, f, decoders, scores);
        src_vocab.emplace(make_src_vocab(f.checkpoint->task));
    } else {
        const TaskConfig config = task_config(f);
        if (config.min_len > config.max_len) {
            auto side = [&](const char* flag, int value, bool given) {
                return given ? fmt::format("{} {}", flag, value) : fmt::format("{} (task {} default: {})", flag, f.task, value);
            };
            throw UsageError(fmt::format("{} is greater than {}", side("--min-len", config.min_len, f.min_len_given),
                                         side("--max-len", config.max_len, f.max_len_given)));
        }
        try {
            const TaskGenerator task(config, f.held_out);
            src_vocab.emplace(task.src_vocab());
        } catch (const TaskError& e) {
            throw UsageError(fmt::format("--task {} --min-len {} --max-len {} --held-out {}: {}", f.task, config.min_len,
                                         config.max_len, f.held_out, e.what()));
        }
    }
    if (cli.given("--sentence")) {
        std::vector<int> ids;
        try {
            ids = src_vocab->encode(f.sentence);
        } catch (const TaskError& e) {
            throw UsageError(fmt::format("--sentence: {}", e.what()));
        }
        if (ids.size() - 1 > static_cast<std::size_t>(task_max_len))
            throw UsageError(fmt::format("--sentence: {} tokens; at most {}", ids.size() - 1, task_max_len));
    }
}

}  // namespace

void add_size_and_training_flags(Cli& cli, LessonFlags& f) {
    cli.option("--embed", f.embed, "embedding size E", 1, 1024);
    cli.option("--hidden", f.hidden, "hidden size H", 1, 1024);
    cli.option("--attn", f.attn, "attention size A (concat, qk, qk-scaled)", 1, 1024);
    cli.option("--steps", f.steps, "training steps (batches) of each model", 0, 1000000);
    cli.option("--batch", f.batch, "examples per batch", 1, 4096);
    cli.option("--lr", f.lr, "learning rate (cosine decay to 0)", 1e-6, 10.0);
    cli.choice("--optimizer", f.optimizer, {"adam", "sgd"}, "optimizer");
    cli.option("--clip", f.clip, "largest gradient norm (0: no clipping)", 0.0, 1e6);
}

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
    cli.option("--seed", f.seed, "seed of data, initialisation and everything random", 0, checkpoint_max_seed);
    add_size_and_training_flags(cli, f);
    cli.option("--min-len", f.min_len, "shortest source, in tokens (other tasks: their own default)", 1, task_max_len);
    cli.option("--max-len", f.max_len, "longest source, in tokens (other tasks: their own default)", 1, task_max_len);
    cli.option("--held-out", f.held_out, "held-out examples for evaluation", 1, 100000);
    cli.option("--json", f.json, "write the trace of one example here (SPEC §7)", "PATH");
    cli.option("--save", f.save, "save the trained model to this checkpoint", "PATH");
    cli.option("--load", f.load, "load a checkpoint instead of training (it fixes the model and the task)", "PATH");
    cli.option("--sentence", f.sentence, "trace this source, in the task's tokens, instead of a held-out example", "TEXT");
    cli.add_print_flags(f.print);
    cli.check([&cli, &f, decoders, scores] { check_lesson_flags(cli, f, decoders, scores); });
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

// The training flags every lesson shares, as train() takes them.
TrainOptions train_options(const LessonFlags& f) {
    TrainOptions options;
    options.steps = f.steps;
    options.batch_size = f.batch;
    options.lr = f.lr;
    options.optimizer = f.optimizer;
    options.clip = f.clip;
    return options;
}

Trained train_or_load(const LessonFlags& f, Printer& out) {
    Trained trained;
    if (f.checkpoint || !f.load.empty()) {
        // read and checked by add_lesson_flags' check, unless the flags were set in code
        const auto checkpoint = f.checkpoint ? f.checkpoint : std::make_shared<const Checkpoint>(read_checkpoint(f.load));
        trained.task = std::make_unique<TaskGenerator>(checkpoint->task, f.held_out);
        trained.model = load_model(*checkpoint, *trained.task);
        const ModelConfig& c = checkpoint->model;
        out.line("Loaded {} (step {}): {} cell, {} decoder, score {}, E = {}, H = {}, task {}.", f.load, checkpoint->step,
                 cell_kind_name(c.cell), decoder_kind_name(c.decoder), score_kind_name(c.score), c.embed, c.hidden,
                 checkpoint->task.name);
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
        TrainOptions options = train_options(f);
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

Example traced_example(const LessonFlags& flags, Trained& trained, Printer& out) {
    if (flags.sentence.empty()) return trained.task->held_out().front();
    Example example;
    example.src = trained.task->src_vocab().encode(flags.sentence);
    try {
        example.tgt = task_target(*trained.task, example.src);
        out.text("Your sentence, with the task's answer as the target the decoder is scored on.");
    } catch (const TaskError& e) {
        // No reference answer: trace what the model itself writes, fed back step by step.
        tape().reset();
        example.tgt = {Vocab::eos};  // greedy decoding reads only the source side of the batch
        const Batch batch = make_batch(std::span<const Example>(&example, 1));
        example.tgt = trained.model->greedy_decode(batch, 2 * static_cast<int>(example.src.size()) + 2).front();
        tape().reset();
        if (example.tgt.empty() || example.tgt.back() != Vocab::eos) example.tgt.push_back(Vocab::eos);
        out.text(fmt::format("Your sentence has no reference answer ({}), so the target below is the model's own "
                             "greedy output, and the loss measures how sure it was of it.",
                             e.what()));
    }
    return example;
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
    } catch (const std::bad_alloc&) {
        fmt::print(stderr, "{}: error: out of memory: the model, the batch and the sources are too big together "
                           "(attention keeps m·n scores per example); try a smaller --batch, --hidden or --max-len\n",
                   program);
        return 2;
    } catch (const std::exception& e) {
        fmt::print(stderr, "{}: error: {}\n", program, e.what());
        return 2;
    }
}

// ---- training several models side by side (lesson 07) ----

Trained train_at_length(const LessonFlags& f, int length, const std::string& label) {
    TaskConfig config = default_task_config(f.task);
    config.min_len = config.max_len = length;
    config.seed = f.seed;
    Trained trained;
    trained.task = std::make_unique<TaskGenerator>(config, f.held_out);
    trained.model = std::make_unique<Seq2Seq>(model_config(f, *trained.task));
    trained.model->init(f.seed);
    TrainOptions options = train_options(f);
    options.label = label;
    trained.training = train(*trained.model, *trained.task, options);
    if (!trained.training.interrupted) trained.accuracy = evaluate(*trained.model, trained.task->held_out());
    return trained;
}

void print_alignment_compact(Printer& out, const TraceRun& run, const Vocab& src_vocab, const Vocab& tgt_vocab) {
    const auto& steps = run.forward.decoder;
    if (steps.empty() || !steps.front().attention.alpha.defined()) return;
    const auto m = static_cast<std::size_t>(run.batch.src_len);
    std::vector<std::string> rows, cols;
    for (std::size_t j = 0; j < steps.size(); ++j) rows.push_back(tgt_vocab.token(run.batch.tgt_out[j]));
    for (std::size_t i = 0; i < m; ++i) cols.push_back(src_vocab.token(run.batch.src[i]));
    std::size_t label_width = 0;
    for (const std::string& row : rows) label_width = std::max(label_width, display_width(row));
    const std::string indent = "  " + std::string(label_width, ' ') + "  ";

    out.write_line(fmt::format("  α: target tokens down, source positions across ({} of them)", m));
    // positions 1, 5, 10, …: a number starts at its column when there is room for it
    std::string numbers;
    for (std::size_t i = 1; i <= m; ++i) {
        if (i != 1 && i % 5 != 0) continue;
        const std::size_t column = 2 * (i - 1);
        if (numbers.size() > column) continue;
        numbers += std::string(column - numbers.size(), ' ') + std::to_string(i);
    }
    out.write_line(indent + numbers);
    // the tokens themselves when they fit their two columns ("·" for a last one that
    // does not, such as <eos>)
    std::string header;
    std::vector<std::size_t> wide;
    for (std::size_t i = 0; i < m; ++i) {
        const bool fits = display_width(cols[i]) <= 2;
        header += fits ? pad(cols[i], i + 1 < m ? 2 : 1) : i + 1 < m ? "· " : "·";
        if (!fits) wide.push_back(i);
    }
    const bool tokens_fit = wide.empty() || (wide.size() == 1 && wide.front() == m - 1);
    if (tokens_fit) out.write_line(indent + header);  // else they are listed underneath
    for (std::size_t j = 0; j < steps.size(); ++j) {
        const auto alpha = steps[j].attention.alpha.row(0);
        std::string cells;
        for (std::size_t i = 0; i < m; ++i) {
            const std::string_view s = shade(alpha[i]);
            cells += std::string(s) + std::string(s);
        }
        out.write_line("  " + pad(rows[j], label_width) + " │" + cells + "│");
    }
    out.write_line("  shade: ' ' < 0.2 ≤ ░ < 0.4 ≤ ▒ < 0.6 ≤ ▓ < 0.8 ≤ █");
    if (!wide.empty() && tokens_fit) {
        out.line("  the last column, ·, is '{}'", cols.back());
    } else if (!tokens_fit) {
        std::string listed;
        for (std::size_t i = 0; i < m; ++i) listed += fmt::format("{}{}:'{}'", i ? " " : "", i + 1, cols[i]);
        out.text("source: " + listed);
    }
}

void check_writable(std::string_view flag, const std::string& path) { require_writable(flag, path); }

}  // namespace stepgrad
