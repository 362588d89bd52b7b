// Lesson 07's machinery: flags, the parallel training runner, tables, verdict, CSV and
// JSON (see bottleneck.hpp).
#include "common/bottleneck.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <csignal>
#include <exception>
#include <thread>

#include <fmt/ranges.h>

#include "common/gradient_flow.hpp"
#include "common/parallel.hpp"
#include "common/printing.hpp"  // defines: print_alignment, alignment_heatmap
#include "common/run.hpp"
#include "stepgrad/support/files.hpp"

namespace stepgrad {

namespace {

// --quick's source lengths per task: the shortest each task can make.
std::string quick_lengths(std::string_view task) {
    if (task == "translate") return "4,5";
    if (task == "dates") return "10,12";
    return "3,6";
}

// Default source lengths per task: long enough for the plain model to collapse, short
// enough to train in the default budget (README, lesson 07).
std::string default_lengths(std::string_view task) {
    if (task == "translate") return "4,6,8,10,12";
    if (task == "dates") return "10,12,17,22";
    // at 5 words the grammar has too few sentences of some verbs to hold out 300 and train on
    if (task == "headline") return "8,12,17,24,30";
    return "5,8,12,20,30";
}

// "5,10,20" → {5, 10, 20}: whole numbers, sorted, each once.
std::vector<int> parse_lengths(const std::string& text) {
    std::vector<int> lengths;
    for (const std::string& item : split_commas(text)) {
        int value = 0;
        const auto [end, error] = std::from_chars(item.data(), item.data() + item.size(), value);
        if (item.empty() || error != std::errc{} || end != item.data() + item.size() || value < 1 || value > task_max_len)
            throw UsageError(fmt::format("--lengths: expected whole numbers from 1 to {} separated by commas, got '{}'",
                                         task_max_len, text));
        lengths.push_back(value);
    }
    std::sort(lengths.begin(), lengths.end());
    lengths.erase(std::unique(lengths.begin(), lengths.end()), lengths.end());
    return lengths;
}

std::vector<Contender> parse_models(const std::string& text) {
    static const std::vector<std::string> known{"plain", "concat", "dot", "general", "qk", "qk-scaled", "transformer"};
    std::vector<Contender> models;
    for (const std::string& item : split_commas(text)) {
        if (std::find(known.begin(), known.end(), item) == known.end())
            throw UsageError(fmt::format("--models: expected names from plain, concat, dot, general, qk, qk-scaled, "
                                         "transformer separated by commas, got '{}'",
                                         item));
        if (std::none_of(models.begin(), models.end(), [&](const Contender& c) { return c.name == item; }))
            models.push_back({item});
    }
    return models;
}

// What the transformer model needs of the shared flags, and --transformer-heads only with it.
void check_transformer(const Cli& cli, BottleneckFlags& b) {
    const LessonFlags& flags = b.shared;
    const auto model = std::find_if(b.models.begin(), b.models.end(), [](const Contender& m) { return m.transformer(); });
    if (model == b.models.end()) {
        if (cli.given("--transformer-heads"))
            throw UsageError("--transformer-heads has no effect without transformer in --models; add it or leave "
                             "--transformer-heads out");
        return;
    }
    model->heads = b.transformer_heads;
    if (flags.hidden % 2 != 0)
        throw UsageError(fmt::format("--hidden {} with the model transformer: its d_model is H, and the positional "
                                     "encoding pairs a sin and a cos column, so H must be even",
                                     flags.hidden));
    if (flags.hidden % b.transformer_heads != 0)
        throw UsageError(fmt::format("--transformer-heads {} does not divide --hidden {}, the transformer's d_model: "
                                     "each head takes d_k = d_model / heads columns",
                                     b.transformer_heads, flags.hidden));
    if (flags.teacher_forcing != 1)
        throw UsageError(fmt::format("--teacher-forcing {} with the model transformer: the Transformer trains teacher "
                                     "forced only (its decoder reads the whole gold prefix at once); leave transformer "
                                     "out of --models or --teacher-forcing at 1",
                                     flags.teacher_forcing));
}

// The flags taken together; see add_bottleneck_flags.
void check_bottleneck_flags(const Cli& cli, BottleneckFlags& b) {
    LessonFlags& flags = b.shared;
    // --quick and --task change the defaults of the flags not given
    if (b.quick && !cli.given("--steps")) flags.steps = 40;
    if (b.quick && !cli.given("--held-out")) flags.held_out = 40;
    if (!cli.given("--lengths"))
        b.lengths_text = b.quick ? quick_lengths(flags.task) : default_lengths(flags.task);
    b.lengths = parse_lengths(b.lengths_text);
    b.models = parse_models(b.models_text);
    check_transformer(cli, b);
    if (flags.bidirectional && std::any_of(b.models.begin(), b.models.end(), [](const Contender& m) { return m.name == "dot"; }))
        throw UsageError("--bidirectional with the model dot: dot needs keys as wide as the decoder state, and "
                         "[→h_i; ←h_i] is twice as wide; use general or qk");
    for (int length : b.lengths) {
        try {
            const TaskGenerator task(fixed_length_task(flags, length), flags.held_out);
            if (length != *std::max_element(b.lengths.begin(), b.lengths.end())) continue;
            const int at_once = std::min<int>(b.jobs, static_cast<int>(b.models.size() * b.lengths.size()));
            // Not the Transformer's: lesson 10's estimate is private to transformer.cpp (at d = H,
            // 1 layer, its step is smaller than concat's, whose scores are A wide at every (j, i)).
            for (const Contender& model : b.models)
                if (!model.transformer()) check_memory(flags_for(flags, model), task, at_once);
        } catch (const TaskError& e) {
            throw UsageError(fmt::format("--task {} --lengths {} --held-out {}: {}", flags.task, b.lengths_text,
                                         flags.held_out, e.what()));
        }
    }
    if (cli.given("--svg") && std::none_of(b.models.begin(), b.models.end(), [](const Contender& m) { return m.attention(); }))
        throw UsageError("--svg has no effect without an attention model (it draws α over the h_i, which only concat, "
                         "dot, general, qk and qk-scaled have); add one to --models or leave --svg out");
    check_output_files(cli, {{"--csv", b.csv}, {"--json", flags.json}, {"--svg", b.svg}});
}

// A table cell of a run that did not finish (Ctrl-C).
constexpr const char* not_finished = "—";

// The parameter count of each contender, as section 1 of the lesson shows it.
std::vector<std::size_t> parameter_counts(const LessonFlags& shared, const Comparison& comparison) {
    std::vector<std::size_t> counts;
    for (const Contender& model : comparison.models)
        counts.push_back(parameter_count(shared, model, comparison.lengths.front()));
    return counts;
}

// How the verdict names a model, at the start of a sentence or within one.
std::string model_words(const Contender& model, bool starts_sentence) {
    if (!model.transformer()) return model.name;
    return starts_sentence ? "The Transformer" : "the Transformer";
}

// A fresh Transformer contender trained at `length` as train_at_length trains the RNNs:
// the same task, held-out sources, budget and seed. Its model goes beside the Trained.
void train_transformer_at_length(const LessonFlags& shared, const Contender& model, LengthRun& run,
                                 const std::string& label) {
    TrainedTransformer trained =
        train_transformer_quietly(transformer_flags(shared, model), fixed_length_task(shared, run.length), label);
    run.trained.task = std::move(trained.task);
    run.trained.training = std::move(trained.training);
    run.trained.accuracy = trained.accuracy;
    run.transformer = std::move(trained.model);
}

// The column headers of the tables: L, then one per model.
std::vector<std::string> model_headers(const Comparison& comparison) {
    std::vector<std::string> headers{"L"};
    for (const Contender& model : comparison.models) headers.push_back(model.name);
    return headers;
}

// " concat is 12.0 points above it at L = 30."
std::string compared_with_plain(const std::string& model, double gap, int length) {
    if (std::abs(gap) < 0.0005) return fmt::format(" {} is level with it at L = {}.", model, length);
    return fmt::format(" {} is {:.1f} points {} it at L = {}.", model, 100 * std::abs(gap), gap > 0 ? "above" : "below",
                       length);
}

// ‖∂L/∂h_i‖ by position, on the first held-out sources: the same ones for every model
// of a length, and none the model trained on.
std::vector<double> measured_gradient_norms(Trained& trained) {
    const std::vector<Example>& held_out = trained.task->held_out();
    const std::size_t count = std::min<std::size_t>(held_out.size(), gradient_examples);
    return gradient_norms_by_position(*trained.model, std::span<const Example>(held_out).first(count));
}

// The standard deviation of the first decoder step's scores e_{1,i} of a model at step 0
// (initialised, untrained), over the first held-out sources of `length`. Later steps' s_j
// already depend on α, and so on the score: the first step's query is the same for qk and
// qk-scaled, and their scores differ by exactly √A.
double initial_score_spread(const LessonFlags& model_flags, int length) {
    const TaskGenerator task(fixed_length_task(model_flags, length), model_flags.held_out);
    Seq2Seq model(model_config(model_flags, task));
    model.init(model_flags.seed);
    const std::size_t count = std::min<std::size_t>(task.held_out().size(), gradient_examples);
    tape().reset();
    const Forward forward = model.forward(make_batch(std::span<const Example>(task.held_out()).first(count)));
    double sum = 0, squares = 0, n = 0;
    for (double e : forward.decoder.front().attention.scores.values()) sum += e, squares += e * e, n += 1;
    tape().reset();
    // σ² = E[e²] − E[e]²
    return std::sqrt(std::max(0.0, squares / n - (sum / n) * (sum / n)));
}

// "From the same initial weights, qk's first scores e_{1,i} are exactly √64 = 8 times …",
// and whether they start as large as footnote 4 assumes.
std::string spread_sentence(const ScalingComparison& scaling) {
    const double root_A = std::sqrt(scaling.attn);
    std::string sentence = fmt::format("From the same initial weights, qk's first scores e_{{1,i}} are exactly √{} = "
                                       "{:.3g} times qk-scaled's: at step 0 their standard deviation is {:.3f} against "
                                       "{:.3f}.",
                                       scaling.attn, root_A, scaling.initial_spread[0], scaling.initial_spread[1]);
    if (scaling.initial_spread[0] < 1)  // a dot product of A unit-variance terms has σ = √A
        sentence += fmt::format(" Footnote 4's large scores assume q and k with components of variance 1, whose dot "
                                "product spreads by √A = {:.3g}; with these initial weights (uniform within "
                                "±1/√fan_in) even qk's start well below 1.",
                                root_A);
    return sentence;
}

// Which of qk and qk-scaled did better, and the numbers that say so.
struct ScalingOutcome {
    int winner;  // 1: qk-scaled, −1: qk, 0: neither
    std::string text;
};

// Held-out whole sequences decide, then tokens (by half a point or more), then the mean
// training loss (by 5% or more): how fast each learned.
ScalingOutcome scaling_outcome(const ScalingComparison& scaling) {
    const Accuracy& qk = scaling.runs.runs[0].trained.accuracy;
    const Accuracy& scaled = scaling.runs.runs[1].trained.accuracy;
    const double sequence_gap = scaled.sequence_accuracy - qk.sequence_accuracy;
    const double gap = std::abs(sequence_gap) >= 0.005 ? sequence_gap : scaled.token_accuracy - qk.token_accuracy;
    if (std::abs(gap) >= 0.005)
        return {gap > 0 ? 1 : -1,
                fmt::format("qk-scaled got {} of held-out whole sequences and {} of tokens right, qk {} and {}",
                            percent(scaled.sequence_accuracy), percent(scaled.token_accuracy),
                            percent(qk.sequence_accuracy), percent(qk.token_accuracy))};
    const double qk_loss = mean_loss(scaling.runs.runs[0].trained.training);
    const double scaled_loss = mean_loss(scaling.runs.runs[1].trained.training);
    const std::string both = fmt::format("both got {} of held-out whole sequences right", percent(qk.sequence_accuracy));
    if (std::abs(scaled_loss / qk_loss - 1) < 0.05)
        return {0, fmt::format("{}, with mean training losses within 5% of each other: at A = {}, 1/√A made no clear "
                               "difference", both, scaling.attn)};
    return {scaled_loss < qk_loss ? 1 : -1,
            fmt::format("{}, but qk-scaled's training loss averaged {:.3f} over the steps and qk's {:.3f}: {} learned "
                        "faster", both, scaled_loss, qk_loss, scaled_loss < qk_loss ? "qk-scaled" : "qk")};
}

}  // namespace

void add_bottleneck_flags(Cli& cli, BottleneckFlags& b) {
    LessonFlags& flags = b.shared;
    b.lengths_text = default_lengths(flags.task);
    std::vector<std::string> tasks;
    for (std::string_view name : task_names()) tasks.emplace_back(name);
    cli.choice("--task", flags.task, tasks, "task the models learn");
    cli.option("--lengths", b.lengths_text, fmt::format("source lengths L, every source exactly L tokens (translate: "
               "{}; dates: {})", default_lengths("translate"), default_lengths("dates")), "L,L,…");
    cli.option("--models", b.models_text, "models to compare: plain, attention scores (concat, dot, general, qk, "
               "qk-scaled) and transformer (d_model = --hidden, 1 layer, d_ff = 2·d, pre norm)", "NAME,…");
    cli.choice("--cell", flags.cell, {"rnn", "gru", "lstm"}, "recurrent cell of every encoder and decoder");
    cli.choice("--decoder", flags.decoder, {"bahdanau", "luong"}, "decoder of the attention models");
    cli.option("--seed", flags.seed, "seed of data, initialisation and everything random");
    add_encoder_flags(cli, flags);  // --bidirectional: RNNsearch's encoder for every model
    add_size_and_training_flags(cli, flags);
    add_decoding_flags(cli, flags);  // --beam, --length-penalty, --teacher-forcing for every model
    cli.option("--held-out", flags.held_out, "held-out examples per length", 1, 100000);
    cli.flag("--quick", b.quick, "a tiny run for tests: lengths 3,6 (translate 4,5; dates 10,12), 40 steps, 40 held-out, "
             "unless given");
    cli.option("--jobs", b.jobs, "models trained at once, one thread each", 1, 64);
    cli.option("--scaling-attn", b.scaling_attn, "A of qk against qk-scaled, trained at the middle length "
               "(0: leave that out)", 0, 1024);
    cli.option("--transformer-heads", b.transformer_heads, "attention heads h of the transformer model (must divide "
               "--hidden)", 1, 64);
    cli.option("--csv", b.csv, "write the accuracy table here (one row per length and model, with ‖∂L/∂h_i‖)",
               "PATH");
    cli.option("--json", flags.json, "write the results, the settings, the α maps and qk against qk-scaled here",
               "PATH");
    cli.option("--svg", b.svg, "write α at the longest length here: an SVG of one heatmap per attention model, "
               "one below the other, tokens on both axes", "PATH");
    cli.flag("--list-vocab", flags.list_vocab, "print the task's source and target vocabularies, every token, and stop");
    cli.add_print_flags(flags.print);
    cli.check([&cli, &b] { check_bottleneck_flags(cli, b); });
}

LessonFlags flags_for(const LessonFlags& shared, const Contender& model) {
    LessonFlags flags = shared;
    if (model.plain()) {
        flags.decoder = "plain";
        flags.score = "none";
    } else if (model.transformer()) {
        flags.decoder = "transformer";
        flags.score = "qk-scaled";
    } else {
        flags.score = model.name;
    }
    return flags;
}

// d = H, not a size of its own: the comparison is between models whose states are equally
// wide. One layer and d_ff = 2·d keep it small (lesson 10's defaults at d = 16).
TransformerFlags transformer_flags(const LessonFlags& shared, const Contender& model) {
    TransformerFlags flags;
    flags.shared = shared;
    flags.shared.layers = 1;  // N; --layers stacks the RNN models only
    flags.d_model = shared.hidden;
    flags.heads = model.heads;
    flags.d_ff = 2 * shared.hidden;
    flags.norm = "pre";
    return flags;
}

std::string transformer_sentence(const LessonFlags& shared, const Contender& model, int length) {
    const TaskGenerator task(fixed_length_task(shared, length), 1);
    return fmt::format("transformer is lesson 10's {} (d = H, so its states are as wide as the RNNs' h_i, and d_ff = "
                       "2·d), trained with the same budget on the same task and held-out sources, teacher forced like "
                       "the others; --cell, --embed, --attn, --decoder, --bidirectional and --layers are the RNNs' "
                       "alone (--transformer-heads sets h).",
                       transformer_words(transformer_config(transformer_flags(shared, model), task)));
}

std::size_t parameter_count(const LessonFlags& shared, const Contender& model, int length) {
    const TaskGenerator task(fixed_length_task(shared, length), 1);
    if (model.transformer()) return Transformer(transformer_config(transformer_flags(shared, model), task)).parameter_count();
    return Seq2Seq(model_config(flags_for(shared, model), task)).parameter_count();
}

// Threads take runs from one list, longest sources first so none waits long at the
// end. Each run has its own task, model and generator, so the numbers do not depend on
// which thread trained it or when.
Comparison train_comparison(const LessonFlags& shared, const std::vector<int>& lengths,
                            const std::vector<Contender>& models, int jobs) {
    Comparison comparison{lengths, models, {}};
    std::vector<LengthRun>& runs = comparison.runs;
    for (int length : lengths)
        for (std::size_t k = 0; k < models.size(); ++k) runs.push_back({length, k, {}});
    // the longest sources first, so that no thread is left with a long one at the end
    run_in_parallel(runs.size(), jobs, [&](std::size_t k) {
        LengthRun& run = runs[runs.size() - 1 - k];
        const std::string label = fmt::format("{} L={}", models[run.model].name, run.length);
        try {
            if (models[run.model].transformer())
                train_transformer_at_length(shared, models[run.model], run, label);
            else
                run.trained = train_at_length(flags_for(shared, models[run.model]), run.length, label);
            run.finished = run.trained.training.steps == shared.steps;  // and so evaluated
            // the Transformer has no recurrent h_i to measure (section 5)
            if (run.finished && !models[run.model].transformer()) run.gradient_norms = measured_gradient_norms(run.trained);
        } catch (const TrainingError& e) {  // say which model diverged
            throw TrainingError(label + ": " + e.what());
        }
    });
    comparison.interrupted = interrupt_requested();
    return comparison;
}

double late_loss(const TrainResult& result) {
    const auto& losses = result.losses;
    if (losses.empty()) return 0.0;
    const std::size_t tail = std::max<std::size_t>(1, losses.size() / 10);
    double total = 0;
    for (std::size_t s = losses.size() - tail; s < losses.size(); ++s) total += losses[s];
    return total / static_cast<double>(tail);
}

double mean_loss(const TrainResult& result) {
    if (result.losses.empty()) return 0.0;
    double total = 0;
    for (double loss : result.losses) total += loss;
    return total / static_cast<double>(result.losses.size());
}

Table loss_table(const Comparison& c) {
    Table table(model_headers(c));
    table.precision(3);
    for (std::size_t l = 0; l < c.lengths.size(); ++l) {
        std::vector<std::string> row{std::to_string(c.lengths[l])};
        for (std::size_t k = 0; k < c.models.size(); ++k)
            row.push_back(c.at(l, k).finished ? fixed(late_loss(c.at(l, k).trained.training), 3) : not_finished);
        table.add_row(row);
    }
    return table;
}

Table accuracy_table(const Comparison& c, bool whole) {
    Table table(model_headers(c));
    for (std::size_t l = 0; l < c.lengths.size(); ++l) {
        std::vector<std::string> row{std::to_string(c.lengths[l])};
        for (std::size_t k = 0; k < c.models.size(); ++k) {
            const Accuracy& a = c.at(l, k).trained.accuracy;
            row.push_back(c.at(l, k).finished ? fixed(whole ? a.sequence_accuracy : a.token_accuracy, 3) : not_finished);
        }
        table.add_row(row);
    }
    return table;
}

Table alignment_table(const Comparison& c) {
    std::vector<std::string> headers{"L"};
    for (const Contender& model : c.models)
        if (model.attention()) headers.push_back(model.name + " gold / +1");
    Table table(headers);
    for (std::size_t l = 0; l < c.lengths.size(); ++l) {
        std::vector<std::string> row{std::to_string(c.lengths[l])};
        for (std::size_t k = 0; k < c.models.size(); ++k) {
            if (!c.models[k].attention()) continue;
            const std::optional<AlignmentAccuracy>& a = c.at(l, k).trained.alignment;
            row.push_back(c.at(l, k).finished && a ? fixed(a->accuracy, 3) + " / " + fixed(a->shifted_accuracy, 3)
                                                   : not_finished);
        }
        table.add_row(row);
    }
    return table;
}

void report_interrupted(Printer& out, const Comparison& c) {
    const int signal_number = interrupt_signal();
    std::vector<std::string> unfinished;
    for (const LengthRun& run : c.runs) {
        if (run.finished) continue;
        const int steps = run.trained.training.steps;
        unfinished.push_back(fmt::format("{} L = {} ({})", c.models[run.model].name, run.length,
                                         steps == 0 ? "not started" : fmt::format("stopped after step {}", steps)));
    }
    const std::size_t finished = c.runs.size() - unfinished.size();
    out.text(fmt::format("{} stopped the training: {} of {} models finished. Their held-out accuracy ({} where a model "
                         "did not finish):",
                         signal_number == SIGINT ? "Ctrl-C" : signal_number == SIGTERM ? "SIGTERM" : "SIGHUP",
                         finished, c.runs.size(), not_finished));
    out.line("  whole sequences exactly right:");
    out.table(accuracy_table(c, true));
    out.blank();
    out.line("  target tokens right (position by position):");
    out.table(accuracy_table(c, false));
    if (!unfinished.empty()) out.text(fmt::format("Not finished: {}.", fmt::join(unfinished, ", ")));
    throw Interrupted(fmt::format("interrupted: {} of {} models did not finish training", unfinished.size(), c.runs.size()),
                      signal_number);
}

std::string bottleneck_verdict(const Comparison& c) {
    const std::size_t last = c.lengths.size() - 1;
    std::string verdict = fmt::format("At L = {}:", c.lengths[last]);
    for (std::size_t k = 0; k < c.models.size(); ++k)
        verdict += fmt::format("{} {} gets {} of whole sequences and {} of tokens right", k ? ";" : "",
                               model_words(c.models[k], false),
                               percent(c.at(last, k).trained.accuracy.sequence_accuracy),
                               percent(c.at(last, k).trained.accuracy.token_accuracy));
    verdict += ".";
    const auto plain = std::find_if(c.models.begin(), c.models.end(), [](const Contender& m) { return m.plain(); });
    if (plain == c.models.end() || c.lengths.size() < 2) return verdict;
    const std::size_t p = static_cast<std::size_t>(plain - c.models.begin());
    const Accuracy& first = c.at(0, p).trained.accuracy;
    const Accuracy& longest = c.at(last, p).trained.accuracy;
    verdict += fmt::format(" From L = {} to L = {} the plain model's whole-sequence accuracy goes from {} to {}.",
                           c.lengths.front(), c.lengths[last], percent(first.sequence_accuracy),
                           percent(longest.sequence_accuracy));
    for (std::size_t k = 0; k < c.models.size(); ++k)
        if (k != p)
            verdict += compared_with_plain(model_words(c.models[k], true),
                                           c.at(last, k).trained.accuracy.sequence_accuracy - longest.sequence_accuracy,
                                           c.lengths[last]);
    return verdict;
}

ScalingComparison train_scaling(const LessonFlags& shared, int length, int attn, int jobs) {
    LessonFlags wide = shared;
    wide.attn = attn;
    const std::vector<Contender> models{{"qk"}, {"qk-scaled"}};
    return {attn, train_comparison(wide, {length}, models, jobs),
            {initial_score_spread(flags_for(wide, models[0]), length),
             initial_score_spread(flags_for(wide, models[1]), length)}};
}

Table scaling_table(const ScalingComparison& scaling) {
    Table table({"model", "σ(e) at step 0", "mean loss", "late loss", "tokens right", "sequences right"});
    table.precision(3);
    for (const LengthRun& run : scaling.runs.runs) {
        const std::string spread = fixed(scaling.initial_spread[run.model], 3);
        const std::string& name = scaling.runs.models[run.model].name;
        if (!run.finished) {
            table.add_row(name, spread, not_finished, not_finished, not_finished, not_finished);
            continue;
        }
        const Accuracy& a = run.trained.accuracy;
        table.add_row(name, spread, mean_loss(run.trained.training), late_loss(run.trained.training), a.token_accuracy,
                      a.sequence_accuracy);
    }
    return table;
}

std::string scaling_verdict(const ScalingComparison& scaling) {
    const ScalingOutcome outcome = scaling_outcome(scaling);
    const bool small_scores = scaling.initial_spread[0] < 1;
    const char* lesson = outcome.winner > 0 ? " Dividing by √A helped here."
                         : outcome.winner == 0 ? ""
                         : small_scores        ? " Here dividing by √A made small scores smaller still, and did not help."
                                               : " Here dividing by √A did not help.";
    return spread_sentence(scaling) + " Under one budget, " + outcome.text + "." + lesson;
}

AlignmentMaps print_alignment_maps(Printer& out, const Comparison& comparison, const std::string& task) {
    const std::vector<Contender>& models = comparison.models;
    const std::size_t last = comparison.lengths.size() - 1;
    const bool has_transformer = std::ranges::any_of(models, &Contender::transformer);
    const bool has_attention = std::ranges::any_of(models, &Contender::attention);
    if (has_attention)
        out.text(fmt::format("One held-out source of the longest length, teacher forced through each attention model.{}",
                             task == "reverse" ? " For 'reverse' the ideal map is the anti-diagonal: the j-th output "
                                                 "token is the j-th source token from the end."
                                               : ""));
    else if (!has_transformer)
        out.text("plain's decoder reads only s_0 = h_m: there is no α to show.");
    if (has_transformer)
        out.text("The Transformer has no single α over encoder states h_i: each head of its cross-attention weighs "
                 "the encoder's output, so it has no map or alignment accuracy here (lesson 10 prints its heads).");
    AlignmentMaps maps;
    for (std::size_t k = 0; k < models.size(); ++k) {
        if (!models[k].attention()) continue;
        const Trained& trained = comparison.at(last, k).trained;
        const Vocab& src_vocab = trained.task->src_vocab();
        const Vocab& tgt_vocab = trained.task->tgt_vocab();
        const Example& example = trained.task->held_out().front();
        const TraceRun run = run_traced_example(*trained.model, example);
        Heatmap alpha = alignment_heatmap(run, src_vocab, tgt_vocab);
        alpha.title = fmt::format("{} (held-out whole-sequence accuracy {:.3f})", models[k].name,
                                  trained.accuracy.sequence_accuracy);
        out.blank();
        out.line("{}", out.bold(alpha.title));
        if (out.shows(TraceLevel::steps)) {
            if (run.batch.src_len <= 16)
                print_alignment(out, run, src_vocab, tgt_vocab);
            else
                print_alignment_compact(out, run, src_vocab, tgt_vocab);
        }
        maps.json.push_back(alignment_json(models[k].name, comparison.lengths[last], example, run, src_vocab, tgt_vocab));
        maps.pictures.push_back(std::move(alpha));
    }
    if (has_attention) {
        out.blank();
        out.text("How often each model's largest α falls on the gold source position of a held-out target token "
                 "(SPEC §11), and one position late (gold + 1): a forward encoder's h_{i+1} still holds x_i.");
        out.table(alignment_table(comparison));
    }
    return maps;
}

Json alignment_json(const std::string& model, int length, const Example& example, const TraceRun& run,
                    const Vocab& src_vocab, const Vocab& tgt_vocab) {
    Json alpha = Json::Array{};
    for (const DecoderStep& step : run.forward.decoder) {
        Json row = Json::Array{};
        for (double a : step.attention.alpha.row(0)) row.push_back(a);
        alpha.push_back(std::move(row));
    }
    Json src_tokens = Json::Array{}, tgt_tokens = Json::Array{};
    for (int id : example.src) src_tokens.push_back(src_vocab.token(id));
    for (int id : example.tgt) tgt_tokens.push_back(tgt_vocab.token(id));
    Json entry = Json::Object{};
    entry.set("model", model);
    entry.set("length", length);
    entry.set("src_tokens", std::move(src_tokens));
    entry.set("tgt_tokens", std::move(tgt_tokens));
    entry.set("alpha", std::move(alpha));
    return entry;
}

void write_bottleneck_csv(const std::string& path, const LessonFlags& shared, const Comparison& c) {
    const std::vector<std::size_t> parameters = parameter_counts(shared, c);
    const int longest_m = c.lengths.back() + 1;  // the <eos> too
    std::string text = "task,length,model,decoder,score,parameters,steps,examples,token_accuracy,"
                       "sequence_accuracy,final_loss,alignment_accuracy,alignment_accuracy_shifted";
    for (int i = 1; i <= longest_m; ++i) text += fmt::format(",grad_norm_{}", i);
    text += "\n";
    for (const LengthRun& run : c.runs) {
        const LessonFlags model_flags = flags_for(shared, c.models[run.model]);
        const Accuracy& a = run.trained.accuracy;
        text += fmt::format("{},{},{},{},{},{},{},{},{},{},{}", shared.task, run.length, c.models[run.model].name,
                            model_flags.decoder, model_flags.score, parameters[run.model], run.trained.training.steps,
                            a.examples, a.token_accuracy, a.sequence_accuracy, late_loss(run.trained.training));
        // empty for the plain model and the Transformer, which have no α over the h_i
        const std::optional<AlignmentAccuracy>& alignment = run.trained.alignment;
        text += alignment ? fmt::format(",{},{}", alignment->accuracy, alignment->shifted_accuracy) : ",,";
        // a shorter source leaves the columns past its m empty, so every row has as many cells
        for (std::size_t i = 0; i < static_cast<std::size_t>(longest_m); ++i)
            text += i < run.gradient_norms.size() ? fmt::format(",{}", run.gradient_norms[i]) : ",";
        text += "\n";
    }
    write_file_atomically(path, text);
}

namespace {

void write_settings(JsonWriter& w, const LessonFlags& f) {
    w.key("settings").begin_object(JsonWriter::Layout::line);
    w.key("cell").value(f.cell).key("decoder").value(f.decoder);
    w.key("embed_dim").value(f.embed).key("hidden_dim").value(f.hidden).key("attn_dim").value(f.attn);
    w.key("steps").value(f.steps).key("batch").value(f.batch).key("lr").value(f.lr);
    w.key("optimizer").value(f.optimizer).key("clip").value(f.clip);
    w.key("held_out").value(f.held_out).key("seed").value(f.seed);
    w.end_object();
}

void write_models(JsonWriter& w, const LessonFlags& shared, const Comparison& c) {
    const std::vector<std::size_t> parameters = parameter_counts(shared, c);
    w.key("models").begin_array();
    for (std::size_t k = 0; k < c.models.size(); ++k) {
        const LessonFlags model_flags = flags_for(shared, c.models[k]);
        w.begin_object(JsonWriter::Layout::line);
        w.key("name").value(c.models[k].name).key("decoder").value(model_flags.decoder);
        w.key("score").value(model_flags.score).key("parameters").value(parameters[k]);
        if (c.models[k].transformer()) {  // its sizes (transformer_flags)
            const TransformerFlags sizes = transformer_flags(shared, c.models[k]);
            w.key("d_model").value(sizes.d_model).key("heads").value(sizes.heads);
            w.key("layers").value(sizes.shared.layers).key("d_ff").value(sizes.d_ff).key("norm").value(sizes.norm);
        }
        w.end_object();
    }
    w.end_array();
}

// The accuracy of every run, then its training loss step by step.
void write_results(JsonWriter& w, const Comparison& c) {
    w.key("results").begin_array();
    for (const LengthRun& run : c.runs) {
        const Accuracy& a = run.trained.accuracy;
        w.begin_object(JsonWriter::Layout::line);
        w.key("model").value(c.models[run.model].name).key("length").value(run.length);
        w.key("examples").value(a.examples).key("token_accuracy").value(a.token_accuracy);
        w.key("sequence_accuracy").value(a.sequence_accuracy);
        w.key("final_loss").value(late_loss(run.trained.training));
        w.key("gradient_norms");
        if (c.models[run.model].transformer())  // no recurrent h_i
            w.value(nullptr);
        else
            w.value(run.gradient_norms);
        if (run.trained.alignment) {  // SPEC §11: none for the plain model and the Transformer
            w.key("alignment_accuracy").value(run.trained.alignment->accuracy);
            w.key("alignment_accuracy_shifted").value(run.trained.alignment->shifted_accuracy);
        }
        w.end_object();
    }
    w.end_array();
    w.key("losses").begin_array();
    for (const LengthRun& run : c.runs) {
        w.begin_object(JsonWriter::Layout::line);
        w.key("model").value(c.models[run.model].name).key("length").value(run.length);
        w.key("loss").value(run.trained.training.losses);
        w.end_object();
    }
    w.end_array();
}

// qk against qk-scaled: its A, length and score spreads at step 0, then results and
// losses as for the comparison.
void write_scaling(JsonWriter& w, const ScalingComparison* scaling) {
    w.key("scaling");
    if (!scaling) {
        w.value(nullptr);
        return;
    }
    w.begin_object();
    w.key("attn_dim").value(scaling->attn).key("length").value(scaling->runs.lengths.front());
    w.key("initial_score_std").begin_object(JsonWriter::Layout::line);
    for (const LengthRun& run : scaling->runs.runs)
        w.key(scaling->runs.models[run.model].name).value(scaling->initial_spread[run.model]);
    w.end_object();
    write_results(w, scaling->runs);
    w.end_object();
}

}  // namespace

void write_bottleneck_json(const std::string& path, const LessonFlags& shared, const Comparison& c,
                           const Json& alignments, const ScalingComparison* scaling) {
    JsonWriter w;
    w.begin_object();
    w.key("format").value("stepgrad-bottleneck/1");
    w.key("lesson").value("07");
    w.key("task").value(shared.task);
    w.key("lengths").value(c.lengths);
    write_settings(w, shared);
    write_models(w, shared, c);
    write_results(w, c);
    w.key("alignments").value(alignments);
    write_scaling(w, scaling);
    w.end_object();
    w.finish();
    write_file_atomically(path, w.str());
}

}  // namespace stepgrad
