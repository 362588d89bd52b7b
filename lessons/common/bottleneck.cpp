// Lesson 07's machinery: flags, the parallel training runner, tables, verdict, CSV and
// JSON (see bottleneck.hpp).
#include "common/bottleneck.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <csignal>
#include <exception>
#include <thread>

#include <fmt/ranges.h>

#include "common/run.hpp"
#include "stepgrad/support/files.hpp"

namespace stepgrad {

namespace {

// Default source lengths per task: long enough for the plain model to collapse, short
// enough to train in the default budget (README, lesson 07).
std::string default_lengths(std::string_view task) {
    if (task == "translate") return "4,6,8,10,12";
    if (task == "dates") return "10,12,17,22";
    return "5,8,12,20,30";
}

// "a,,b" → {"a", "", "b"}
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
    static const std::vector<std::string> known{"plain", "concat", "dot", "general", "qk", "qk-scaled"};
    std::vector<Contender> models;
    for (const std::string& item : split_commas(text)) {
        if (std::find(known.begin(), known.end(), item) == known.end())
            throw UsageError(fmt::format("--models: expected names from plain, concat, dot, general, qk, qk-scaled "
                                         "separated by commas, got '{}'",
                                         item));
        if (std::none_of(models.begin(), models.end(), [&](const Contender& c) { return c.name == item; }))
            models.push_back({item});
    }
    return models;
}

// The flags taken together; see add_bottleneck_flags.
void check_bottleneck_flags(const Cli& cli, BottleneckFlags& b) {
    LessonFlags& flags = b.shared;
    // --quick and --task change the defaults of the flags not given
    if (b.quick && !cli.given("--steps")) flags.steps = 40;
    if (b.quick && !cli.given("--held-out")) flags.held_out = 40;
    if (!cli.given("--lengths"))
        b.lengths_text = b.quick ? (flags.task == "translate" ? "4,5" : "3,6") : default_lengths(flags.task);
    b.lengths = parse_lengths(b.lengths_text);
    b.models = parse_models(b.models_text);
    for (int length : b.lengths) {
        try {
            const TaskGenerator task(fixed_length_task(flags, length), flags.held_out);
            if (length != *std::max_element(b.lengths.begin(), b.lengths.end())) continue;
            const int at_once = std::min<int>(b.jobs, static_cast<int>(b.models.size() * b.lengths.size()));
            for (const Contender& model : b.models) check_memory(flags_for(flags, model), task, at_once);
        } catch (const TaskError& e) {
            throw UsageError(fmt::format("--task {} --lengths {} --held-out {}: {}", flags.task, b.lengths_text,
                                         flags.held_out, e.what()));
        }
    }
    if (cli.given("--svg") && std::all_of(b.models.begin(), b.models.end(), [](const Contender& m) { return m.plain(); }))
        throw UsageError("--svg has no effect when every model is plain (it draws α, which only attention models have); "
                         "add one to --models or leave --svg out");
    check_output_files(cli, {{"--csv", b.csv}, {"--json", flags.json}, {"--svg", b.svg}});
}

// A table cell of a run that did not finish (Ctrl-C).
constexpr const char* not_finished = "—";

std::string percent(double fraction) { return fmt::format("{:.1f}%", 100 * fraction); }

// The parameter count of each contender, as section 1 of the lesson shows it.
std::vector<std::size_t> parameter_counts(const LessonFlags& shared, const Comparison& comparison) {
    std::vector<std::size_t> counts;
    for (const Contender& model : comparison.models)
        counts.push_back(parameter_count(flags_for(shared, model), comparison.lengths.front()));
    return counts;
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

}  // namespace

void add_bottleneck_flags(Cli& cli, BottleneckFlags& b) {
    LessonFlags& flags = b.shared;
    b.lengths_text = default_lengths(flags.task);
    std::vector<std::string> tasks;
    for (std::string_view name : task_names()) tasks.emplace_back(name);
    cli.choice("--task", flags.task, tasks, "task the models learn");
    cli.option("--lengths", b.lengths_text, fmt::format("source lengths L, every source exactly L tokens (translate: "
               "{}; dates: {})", default_lengths("translate"), default_lengths("dates")), "L,L,…");
    cli.option("--models", b.models_text, "models to compare: plain and attention scores (concat, dot, general, qk, "
               "qk-scaled)", "NAME,…");
    cli.choice("--cell", flags.cell, {"rnn", "gru", "lstm"}, "recurrent cell of every encoder and decoder");
    cli.choice("--decoder", flags.decoder, {"bahdanau", "luong"}, "decoder of the attention models");
    cli.option("--seed", flags.seed, "seed of data, initialisation and everything random");
    add_size_and_training_flags(cli, flags);
    cli.option("--held-out", flags.held_out, "held-out examples per length", 1, 100000);
    cli.flag("--quick", b.quick, "a tiny run for tests: lengths 3,6 (translate 4,5), 40 steps, 40 held-out, "
             "unless given");
    cli.option("--jobs", b.jobs, "models trained at once, one thread each", 1, 64);
    cli.option("--csv", b.csv, "write the accuracy table here (one row per length and model)", "PATH");
    cli.option("--json", flags.json, "write the results, the settings and the α maps here", "PATH");
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
    } else {
        flags.score = model.name;
    }
    return flags;
}

std::size_t parameter_count(const LessonFlags& model_flags, int length) {
    const TaskGenerator task(fixed_length_task(model_flags, length), 1);
    return Seq2Seq(model_config(model_flags, task)).parameter_count();
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
    std::vector<std::exception_ptr> errors(runs.size());
    std::atomic<std::size_t> next{0};
    std::atomic<bool> failed{false};
    const auto worker = [&] {
        for (std::size_t k; (k = next++) < runs.size() && !interrupt_requested() && !failed;) {
            const std::size_t r = runs.size() - 1 - k;
            LengthRun& run = runs[r];
            const std::string label = fmt::format("{} L={}", models[run.model].name, run.length);
            try {
                run.trained = train_at_length(flags_for(shared, models[run.model]), run.length, label);
                run.finished = run.trained.training.steps == shared.steps;  // and so evaluated
            } catch (const TrainingError& e) {  // say which model diverged
                errors[r] = std::make_exception_ptr(TrainingError(label + ": " + e.what()));
                failed = true;
            } catch (...) {
                errors[r] = std::current_exception();
                failed = true;
            }
        }
    };
    {
        std::vector<std::jthread> threads;
        for (int t = 0; t < std::min<int>(jobs, static_cast<int>(runs.size())); ++t) threads.emplace_back(worker);
    }
    for (const std::exception_ptr& error : errors)
        if (error) std::rethrow_exception(error);
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
        verdict += fmt::format("{} {} gets {} of whole sequences and {} of tokens right", k ? ";" : "", c.models[k].name,
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
            verdict += compared_with_plain(c.models[k].name,
                                           c.at(last, k).trained.accuracy.sequence_accuracy - longest.sequence_accuracy,
                                           c.lengths[last]);
    return verdict;
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
    std::string text = "task,length,model,decoder,score,parameters,steps,examples,token_accuracy,"
                       "sequence_accuracy,final_loss\n";
    for (const LengthRun& run : c.runs) {
        const LessonFlags model_flags = flags_for(shared, c.models[run.model]);
        const Accuracy& a = run.trained.accuracy;
        text += fmt::format("{},{},{},{},{},{},{},{},{},{},{}\n", shared.task, run.length, c.models[run.model].name,
                            model_flags.decoder, model_flags.score, parameters[run.model], run.trained.training.steps,
                            a.examples, a.token_accuracy, a.sequence_accuracy, late_loss(run.trained.training));
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

}  // namespace

void write_bottleneck_json(const std::string& path, const LessonFlags& shared, const Comparison& c,
                           const Json& alignments) {
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
    w.end_object();
    w.finish();
    write_file_atomically(path, w.str());
}

}  // namespace stepgrad
