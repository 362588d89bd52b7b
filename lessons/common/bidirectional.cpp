// Lesson 08's machinery: flags, the parallel training runner, tables, verdicts and JSON
// (see bidirectional.hpp).
#include "common/bidirectional.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <numeric>
#include <stdexcept>
#include <thread>

#include <fmt/ranges.h>

#include "common/bottleneck.hpp"  // defines: late_loss, alignment_json
#include "common/printing.hpp"    // defines: print_alignment
#include "common/parallel.hpp"
#include "common/run.hpp"
#include "stepgrad/support/files.hpp"

namespace stepgrad {

namespace {

// "reverse,translate" → {"reverse", "translate"}: known task names, each once.
std::vector<std::string> parse_tasks(const std::string& text) {
    std::vector<std::string> tasks;
    const auto names = task_names();
    for (const std::string& name : split_commas(text)) {
        if (std::find(names.begin(), names.end(), name) == names.end() ||
            std::find(tasks.begin(), tasks.end(), name) != tasks.end())
            throw UsageError(fmt::format("--tasks: expected different names from {} separated by commas, got '{}'",
                                         fmt::join(names, ", "), text));
        tasks.push_back(name);
    }
    return tasks;
}

// The flags of one model: the shared ones, with its task, encoder and seed.
LessonFlags flags_for(const LessonFlags& shared, const EncoderModel& model) {
    LessonFlags flags = shared;
    flags.task = model.task;
    flags.bidirectional = model.bidirectional;
    flags.layers = model.layers;
    flags.seed = model.seed;
    return flags;
}

// The flags taken together; see add_bidirectional_flags.
void check_bidirectional_flags(const Cli& cli, BidirectionalFlags& b) {
    LessonFlags& flags = b.shared;
    if (b.quick && !cli.given("--steps")) flags.steps = 40;
    if (b.quick && !cli.given("--held-out")) flags.held_out = 40;
    if (b.quick && !cli.given("--seeds")) b.seeds = 2;
    b.tasks = parse_tasks(b.tasks_text);
    const std::vector<EncoderModel> models = lesson_models(b);
    const int at_once = std::min<int>(b.jobs, static_cast<int>(models.size()));
    for (const EncoderModel& model : models) {
        if (!model.bidirectional || model.seed != flags.seed) continue;  // the largest models of each task
        const LessonFlags model_flags = flags_for(flags, model);
        try {
            const TaskGenerator task(task_config(model_flags), flags.held_out);
            check_memory(model_flags, task, at_once);
        } catch (const TaskError& e) {
            throw UsageError(fmt::format("task {} with --held-out {}: {}", model.task, flags.held_out, e.what()));
        }
    }
    check_output_files(cli, {{"--json", flags.json}});
}

// SPEC §11's alignment accuracy over the held-out examples with each target's <eos> (the
// last token) aligned to nothing, so that it counts in neither share.
AlignmentAccuracy alignment_without_eos(Seq2Seq& model, const std::vector<Example>& held_out) {
    std::vector<Example> words = held_out;
    for (Example& example : words)
        if (!example.alignment.empty()) example.alignment.back().clear();
    return alignment_accuracy(model, words);
}

// "en-zh bidirectional×2 seed 3", for the progress line and errors.
std::string run_label(const EncoderModel& model) {
    return fmt::format("{} {}{} seed {}", model.task, model.bidirectional ? "bidirectional" : "forward",
                       model.layers > 1 ? fmt::format("×{}", model.layers) : "", model.seed);
}

// A rough cost, to start the longest runs first so no thread waits long at the end:
// the longest source, times the cells that read it.
int training_cost(const LessonFlags& shared, const EncoderModel& model) {
    return task_config(flags_for(shared, model)).max_len * (model.bidirectional ? 3 : 2) * model.layers;
}

// True when a model's largest α falls one place late for most target tokens (more often
// than on the gold position, too).
bool mostly_late(const AlignmentAccuracy& a) { return a.shifted_accuracy >= 0.5 && a.shifted_accuracy > a.accuracy; }

// "8.7 points more often", "2.6 points less often", "as often" (within 0.05 points)
std::string how_much_more(double change) {
    if (std::abs(change) < 0.0005) return "as often";
    return fmt::format("{} points {} often", fixed(100 * std::abs(change), 1), change > 0 ? "more" : "less");
}

// "the forward-only model's largest α falls on the gold position for 82.4% of the target
// tokens, one place late for 3.1%", the commoner of the two first.
std::string alignment_clause(std::string_view model, const AlignmentAccuracy& a) {
    if (a.shifted_accuracy > a.accuracy)
        return fmt::format("{}'s largest α falls one place late for {} of the target tokens, on the gold position for "
                           "only {}",
                           model, percent(a.shifted_accuracy), percent(a.accuracy));
    return fmt::format("{}'s largest α falls on the gold position for {} of the target tokens, one place late for {}",
                       model, percent(a.accuracy), percent(a.shifted_accuracy));
}

// The two models on gold without the targets' <eos>, and whether that is where a
// bidirectional model fell behind (`gain`: its lead on gold over every token).
std::string without_eos_sentence(const ModelRun& forward, const ModelRun& bidirectional, double gain) {
    const double f = forward.without_eos.accuracy, b = bidirectional.without_eos.accuracy;
    std::string text = fmt::format(" Leaving out each target's <eos> (its gold position is the source's <eos>), α "
                                   "falls on gold for {} forward-only and {} bidirectional",
                                   percent(f), percent(b));
    if (gain > -0.02) return text + ".";
    if (b >= f)
        return text + ": the gap is all in the <eos> rows, where the bidirectional model's largest α is not on the "
                      "source's <eos> (its last words' ←h have read it too).";
    return text + ": even so, reading both ways did not bring α closer to the gold alignment on this task.";
}

// "0.824 / 0.031": on gold / one late.
std::string gold_and_late(const AlignmentAccuracy& a) { return fixed(a.accuracy, 3) + " / " + fixed(a.shifted_accuracy, 3); }

// The runs of the first task at each seed, forward and bidirectional.
struct SeedRuns {
    std::uint64_t seed;
    const ModelRun& forward;
    const ModelRun& bidirectional;
};
std::vector<SeedRuns> seed_runs(const std::vector<ModelRun>& runs, const BidirectionalFlags& flags) {
    std::vector<SeedRuns> seeds;
    for (int k = 0; k < flags.seeds; ++k) {
        const std::uint64_t seed = flags.shared.seed + static_cast<std::uint64_t>(k);
        const std::string& task = flags.tasks.front();
        seeds.push_back({seed, run_of(runs, {task, false, 1, seed}), run_of(runs, {task, true, 1, seed})});
    }
    return seeds;
}

// How the bidirectional model's α fell over the seeds: its range on the gold position,
// and its largest share one place late.
std::string bidirectional_over_seeds(const std::vector<SeedRuns>& seeds) {
    double lowest = 1, highest = 0, latest = 0;
    for (const SeedRuns& s : seeds) {
        const AlignmentAccuracy& a = *s.bidirectional.trained.alignment;
        lowest = std::min(lowest, a.accuracy), highest = std::max(highest, a.accuracy);
        latest = std::max(latest, a.shifted_accuracy);
    }
    return fmt::format("The bidirectional model's α falls on the gold position for {} to {} of the tokens, {}.",
                       percent(lowest), percent(highest),
                       latest == 0 ? "never one place late" : "one place late for at most " + percent(latest));
}

void write_settings(JsonWriter& w, const BidirectionalFlags& b) {
    const LessonFlags& f = b.shared;
    w.key("settings").begin_object(JsonWriter::Layout::line);
    w.key("cell").value(f.cell).key("decoder").value(f.decoder).key("score").value(f.score);
    w.key("embed_dim").value(f.embed).key("hidden_dim").value(f.hidden).key("attn_dim").value(f.attn);
    w.key("steps").value(f.steps).key("batch").value(f.batch).key("lr").value(f.lr);
    w.key("optimizer").value(f.optimizer).key("clip").value(f.clip);
    w.key("held_out").value(f.held_out).key("seed").value(f.seed).key("seeds").value(b.seeds);
    w.key("tasks").value(b.tasks).key("layers_task").value(b.layers_task).key("layers").value(b.layers);
    w.end_object();
}

}  // namespace

void add_bidirectional_flags(Cli& cli, BidirectionalFlags& b) {
    LessonFlags& flags = b.shared;
    std::vector<std::string> tasks;
    for (std::string_view name : task_names()) tasks.emplace_back(name);
    cli.option("--tasks", b.tasks_text, fmt::format("tasks to compare the encoders on, from {}", fmt::join(tasks, ", ")),
               "NAME,…");
    cli.choice("--cell", flags.cell, {"rnn", "gru", "lstm"}, "recurrent cell of every encoder and decoder");
    cli.option("--seed", flags.seed, "seed of data, initialisation and everything random", 0, checkpoint_max_seed);
    add_size_and_training_flags(cli, flags);
    cli.option("--held-out", flags.held_out, "held-out examples per task", 1, 100000);
    cli.option("--seeds", b.seeds, "train the first task's two models from this many seeds, --seed and up (1: only "
               "--seed)", 1, 16);
    cli.choice("--layers-task", b.layers_task, tasks, "task of the bidirectional model with 1 and --layers layers");
    cli.option("--layers", b.layers, "layers of the deeper bidirectional model (encoder and decoder alike)", 2, 4);
    cli.flag("--quick", b.quick, "a tiny run for tests: 40 steps, 40 held-out, 2 seeds, unless given");
    cli.option("--jobs", b.jobs, "models trained at once, one thread each", 1, 64);
    cli.option("--json", flags.json, "write the settings, every model's accuracies and alignment accuracies and the "
               "α maps here", "PATH");
    cli.add_print_flags(flags.print);
    cli.check([&cli, &b] { check_bidirectional_flags(cli, b); });
}

std::string encoder_name(const EncoderModel& model) {
    const char* name = model.bidirectional ? "bidirectional" : "forward";
    return model.layers == 1 ? name : fmt::format("{}, {} layers", name, model.layers);
}

std::vector<EncoderModel> lesson_models(const BidirectionalFlags& b) {
    std::vector<EncoderModel> models;
    const auto add = [&models](const EncoderModel& model) {
        if (std::find(models.begin(), models.end(), model) == models.end()) models.push_back(model);
    };
    const std::uint64_t seed = b.shared.seed;
    for (const std::string& task : b.tasks) add({task, false, 1, seed}), add({task, true, 1, seed});
    for (int k = 1; k < b.seeds; ++k)
        add({b.tasks.front(), false, 1, seed + k}), add({b.tasks.front(), true, 1, seed + k});
    add({b.layers_task, true, 1, seed});
    add({b.layers_task, true, b.layers, seed});
    return models;
}

std::vector<ModelRun> train_models(const LessonFlags& shared, const std::vector<EncoderModel>& models, int jobs) {
    std::vector<ModelRun> runs;
    for (const EncoderModel& model : models) runs.push_back({model, {}});
    std::vector<std::size_t> order(runs.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return training_cost(shared, models[a]) > training_cost(shared, models[b]);
    });
    run_in_parallel(runs.size(), jobs, [&](std::size_t k) {
        ModelRun& run = runs[order[k]];
        const std::string label = run_label(run.model);
        try {
            run.trained = train_quietly(flags_for(shared, run.model), task_config(flags_for(shared, run.model)), label);
            if (run.trained.training.steps == shared.steps)
                run.without_eos = alignment_without_eos(*run.trained.model, run.trained.task->held_out());
        } catch (const TrainingError& e) {  // say which model diverged
            throw TrainingError(label + ": " + e.what());
        }
    });
    if (interrupt_requested()) {
        const auto unfinished = std::count_if(runs.begin(), runs.end(),
                                              [&](const ModelRun& run) { return run.trained.training.steps < shared.steps; });
        throw Interrupted(fmt::format("interrupted: {} of {} models did not finish training", unfinished, runs.size()),
                          interrupt_signal());
    }
    return runs;
}

const ModelRun& run_of(const std::vector<ModelRun>& runs, const EncoderModel& model) {
    const auto found = std::find_if(runs.begin(), runs.end(), [&](const ModelRun& run) { return run.model == model; });
    if (found == runs.end()) throw std::logic_error("run_of: not trained: " + run_label(model));
    return *found;
}

const Example& shown_example(const TaskGenerator& task) {
    const std::vector<Example>& held_out = task.held_out();
    const auto fits = std::find_if(held_out.begin(), held_out.end(), [](const Example& e) { return e.src.size() <= 9; });
    return fits != held_out.end() ? *fits : held_out.front();
}

void print_alpha_maps(Printer& out, const std::vector<const ModelRun*>& runs, Json& alignments) {
    const TaskGenerator& task = *runs.front()->trained.task;
    const Example& example = shown_example(task);
    out.text(fmt::format("Held-out example: \"{}\" → \"{}\".", task.src_vocab().decode(example.src),
                         task.tgt_vocab().decode(example.tgt)));
    for (const ModelRun* run : runs) {
        Seq2Seq& model = *run->trained.model;
        const AlignmentAccuracy own = alignment_accuracy(model, std::span<const Example>(&example, 1));
        const auto rows = [&own](double fraction) { return std::lround(fraction * static_cast<double>(own.aligned_tokens)); };
        out.blank();
        out.line("  {}: largest α on gold in {} of {} rows, one late in {}",
                 out.bold(encoder_name(run->model)), rows(own.accuracy), own.aligned_tokens, rows(own.shifted_accuracy));
        const TraceRun traced = run_traced_example(model, example);
        if (out.shows(TraceLevel::steps)) print_alignment(out, traced, task.src_vocab(), task.tgt_vocab());
        Json entry = alignment_json(encoder_name(run->model), static_cast<int>(example.src.size()) - 1, example, traced,
                                    task.src_vocab(), task.tgt_vocab());
        entry.set("task", run->model.task);
        Json gold = Json::Array{};  // per target token, its gold source positions (0-based)
        for (const std::vector<int>& positions : example.alignment) {
            Json row = Json::Array{};
            for (int i : positions) row.push_back(i);
            gold.push_back(std::move(row));
        }
        entry.set("gold", std::move(gold));
        alignments.push_back(std::move(entry));
    }
    tape().reset();
}

Table comparison_table(const std::vector<const ModelRun*>& runs) {
    Table table({"encoder", "parameters", "tokens", "sequences", "α on gold", "one late"});
    table.precision(3);
    for (const ModelRun* run : runs) {
        const Accuracy& a = run->trained.accuracy;
        const AlignmentAccuracy& alignment = *run->trained.alignment;
        table.add_row(encoder_name(run->model), run->trained.model->parameter_count(), a.token_accuracy,
                      a.sequence_accuracy, alignment.accuracy, alignment.shifted_accuracy);
    }
    return table;
}

std::string task_verdict(const ModelRun& forward, const ModelRun& bidirectional) {
    const AlignmentAccuracy& f = *forward.trained.alignment;
    const AlignmentAccuracy& b = *bidirectional.trained.alignment;
    std::string text = fmt::format("On '{}', {}; {}.", forward.model.task, alignment_clause("the forward-only model", f),
                                   alignment_clause("the bidirectional model", b));
    const double gain = b.accuracy - f.accuracy;
    if (mostly_late(b))
        text += " Even the bidirectional model's α sits mostly one place late here.";
    else if (mostly_late(f))
        text += fmt::format(" Reading both ways took the shift away: α falls on the gold position {}, one place "
                            "late {}.",
                            how_much_more(gain), how_much_more(b.shifted_accuracy - f.shifted_accuracy));
    else if (gain >= 0.02)
        text += fmt::format(" Neither sits mostly one place late; the bidirectional model's α is on gold {}.",
                            how_much_more(gain));
    else if (gain <= -0.02)
        text += fmt::format(" Neither sits mostly one place late, and here the bidirectional model's α is on gold {} "
                            "than the forward-only model's.",
                            how_much_more(gain));
    else
        text += " Neither sits mostly one place late, and both are on gold about as often (within 2 points).";
    text += without_eos_sentence(forward, bidirectional, gain);
    const Accuracy& fa = forward.trained.accuracy;
    const Accuracy& ba = bidirectional.trained.accuracy;
    return text + fmt::format(" Whole held-out sequences right: {} forward-only, {} bidirectional.",
                              percent(fa.sequence_accuracy), percent(ba.sequence_accuracy));
}

Table seed_table(const std::vector<ModelRun>& runs, const BidirectionalFlags& flags) {
    Table table({"seed", "forward: gold / +1", "bidirectional: gold / +1", "sequences fwd / bi"});
    for (const SeedRuns& s : seed_runs(runs, flags))
        table.add_row(fmt::format("{}", s.seed), gold_and_late(*s.forward.trained.alignment),
                      gold_and_late(*s.bidirectional.trained.alignment),
                      fixed(s.forward.trained.accuracy.sequence_accuracy, 3) + " / " +
                          fixed(s.bidirectional.trained.accuracy.sequence_accuracy, 3));
    return table;
}

std::string seed_verdict(const std::vector<ModelRun>& runs, const BidirectionalFlags& flags) {
    const std::vector<SeedRuns> seeds = seed_runs(runs, flags);
    std::vector<std::string> forward_late;  // "seed 3: 75.5%"
    int bidirectional_late = 0;
    for (const SeedRuns& s : seeds) {
        if (mostly_late(*s.forward.trained.alignment))
            forward_late.push_back(fmt::format("seed {}: {}", s.seed, percent(s.forward.trained.alignment->shifted_accuracy)));
        bidirectional_late += mostly_late(*s.bidirectional.trained.alignment);
    }
    std::string text =
        forward_late.empty()
            ? fmt::format("In none of the {} seeds is the forward-only model's α mostly one place late.", seeds.size())
            : fmt::format("The forward-only model's α is mostly one place late in {} of the {} seeds ({} of the tokens "
                          "one late).",
                          forward_late.size(), seeds.size(), fmt::join(forward_late, ", "));
    text += fmt::format(" {}", bidirectional_over_seeds(seeds));
    if (bidirectional_late > 0)
        return text + fmt::format(" Even the bidirectional model's α is mostly one place late in {} of them.",
                                  bidirectional_late);
    if (!forward_late.empty())
        text += fmt::format(" Whether a forward-only model's α slips one place depends on the training run; the "
                            "bidirectional model's did not slip in any of the {} runs.",
                            seeds.size());
    return text;
}

std::string layers_verdict(const ModelRun& one, const ModelRun& deeper) {
    const Accuracy& a1 = one.trained.accuracy;
    const Accuracy& a2 = deeper.trained.accuracy;
    const AlignmentAccuracy& g1 = *one.trained.alignment;
    const AlignmentAccuracy& g2 = *deeper.trained.alignment;
    const double sequences = a2.sequence_accuracy - a1.sequence_accuracy, gold = g2.accuracy - g1.accuracy;
    std::string text = fmt::format(
        "With {} layers the bidirectional model on '{}' gets {} of whole sequences right (1 layer: {}) and puts α on "
        "the gold position for {} of the tokens (1 layer: {}).",
        deeper.model.layers, deeper.model.task, percent(a2.sequence_accuracy), percent(a1.sequence_accuracy),
        percent(g2.accuracy), percent(g1.accuracy));
    const auto change = [](double d, const char* what) {
        return std::abs(d) < 0.005 ? fmt::format("{} stayed within half a point", what)
                                   : fmt::format("{} went {} by {} points", what, d > 0 ? "up" : "down",
                                                 fixed(100 * std::abs(d), 1));
    };
    text += fmt::format(" Under one budget, {} and {}, for {} parameters instead of {}.",
                        change(sequences, "whole-sequence accuracy"), change(gold, "alignment accuracy"),
                        deeper.trained.model->parameter_count(), one.trained.model->parameter_count());
    return text;
}

void write_bidirectional_json(const std::string& path, const BidirectionalFlags& b, const std::vector<ModelRun>& runs,
                              const Json& alignments) {
    JsonWriter w;
    w.begin_object();
    w.key("format").value("stepgrad-bidirectional/1");
    w.key("lesson").value("08");
    write_settings(w, b);
    w.key("results").begin_array();
    for (const ModelRun& run : runs) {
        const Trained& t = run.trained;
        const TaskConfig& task = t.task->config();
        w.begin_object(JsonWriter::Layout::line);
        w.key("task").value(run.model.task).key("bidirectional").value(run.model.bidirectional);
        w.key("layers").value(run.model.layers).key("seed").value(run.model.seed);
        w.key("min_len").value(task.min_len).key("max_len").value(task.max_len);
        w.key("parameters").value(t.model->parameter_count()).key("examples").value(t.accuracy.examples);
        w.key("token_accuracy").value(t.accuracy.token_accuracy);
        w.key("sequence_accuracy").value(t.accuracy.sequence_accuracy);
        w.key("aligned_tokens").value(t.alignment->aligned_tokens);
        w.key("alignment_accuracy").value(t.alignment->accuracy);
        w.key("alignment_accuracy_shifted").value(t.alignment->shifted_accuracy);
        w.key("alignment_accuracy_without_eos").value(run.without_eos.accuracy);
        w.key("alignment_accuracy_shifted_without_eos").value(run.without_eos.shifted_accuracy);
        w.key("final_loss").value(late_loss(t.training));
        w.end_object();
    }
    w.end_array();
    w.key("alignments").value(alignments);
    w.end_object();
    w.finish();
    write_file_atomically(path, w.str());
}

}  // namespace stepgrad
