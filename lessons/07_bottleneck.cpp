// Lesson 07 — the bottleneck, measured: plain vs concat vs dot-product attention as the
// source grows.
//
// What you will learn
//   Lesson 04 showed that plain seq2seq hands the decoder one vector, s_0 = h_m, and that
//   its accuracy falls as the source grows. Here the three models of lessons 04–06 get
//   the same budget — same cell, E, H, A, steps, batch, optimizer and learning rate —
//   and are trained on sources of one fixed length L, for several L:
//
//     plain      s_0 = h_m and nothing else                         (lesson 04)
//     concat     e_{j,i} = vᵀ tanh(W [h_i; s_{j−1}])                 (lesson 05)
//     qk-scaled  e_{j,i} = (W_K h_i)ᵀ (W_Q s_{j−1}) / √A             (lesson 06)
//
//   Each is then scored on held-out sources it never saw, with greedy decoding: the share
//   of whole sequences it gets exactly right, and of target tokens. Plotted against L,
//   this is the shape of Bahdanau, Cho & Bengio (2014), Figure 2: the encoder–decoder's
//   score falls as sentences get longer, the attention model's holds. The plain model
//   must squeeze L tokens into H numbers; the attention models re-read every h_i at
//   every step, so nothing has to survive the trip through one vector.
//
// How to run
//   07_bottleneck                               # reverse, L = 5, 8, 12, 20, 30: a few minutes
//   07_bottleneck --quick                       # tiny lengths and budget, seconds (the tests)
//   07_bottleneck --task translate              # English → Zeli sentences of 4, 6, 8, 10, 12 words
//   07_bottleneck --lengths 5,10,20,40 --steps 3000 --csv bottleneck.csv --json bottleneck.json
//   07_bottleneck --models plain,concat,dot,general,qk,qk-scaled
// The models train two at a time (--jobs), each on its own thread; the output is the
// same whatever --jobs is.
#include <algorithm>
#include <atomic>
#include <exception>
#include <thread>

#include "stepgrad/support/json.hpp"
#include "common/lesson.hpp"

using namespace stepgrad;

namespace {

// A model of the comparison: "plain", or the name of an attention score.
struct Contender {
    std::string name;
    bool plain() const { return name == "plain"; }
};

// One model trained at one length.
struct Run {
    int length;
    std::size_t model;  // index into the contenders
    Trained trained;
};

// Default source lengths per task: long enough for the plain model to collapse, short
// enough to train in the default budget (README, lesson 07).
std::string default_lengths(std::string_view task) {
    if (task == "translate") return "4,6,8,10,12";
    if (task == "dates") return "10,12,17,22";
    return "5,8,12,20,30";
}

// "5,10,20" → {5, 10, 20}: whole numbers, sorted, each once.
std::vector<int> parse_lengths(const std::string& text) {
    std::vector<int> lengths;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t comma = std::min(text.find(',', start), text.size());
        const std::string item = text.substr(start, comma - start);
        int value = 0;
        const auto [end, error] = std::from_chars(item.data(), item.data() + item.size(), value);
        if (item.empty() || error != std::errc{} || end != item.data() + item.size() || value < 1 || value > task_max_len)
            throw UsageError(fmt::format("--lengths: expected whole numbers from 1 to {} separated by commas, got '{}'",
                                         task_max_len, text));
        lengths.push_back(value);
        start = comma + 1;
    }
    std::sort(lengths.begin(), lengths.end());
    lengths.erase(std::unique(lengths.begin(), lengths.end()), lengths.end());
    return lengths;
}

std::vector<Contender> parse_models(const std::string& text) {
    static const std::vector<std::string> known{"plain", "concat", "dot", "general", "qk", "qk-scaled"};
    std::vector<Contender> models;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t comma = std::min(text.find(',', start), text.size());
        const std::string item = text.substr(start, comma - start);
        if (std::find(known.begin(), known.end(), item) == known.end())
            throw UsageError(fmt::format("--models: expected names from plain, concat, dot, general, qk, qk-scaled "
                                         "separated by commas, got '{}'",
                                         item));
        if (std::none_of(models.begin(), models.end(), [&](const Contender& c) { return c.name == item; }))
            models.push_back({item});
        start = comma + 1;
    }
    return models;
}

// The task of the flags with every source exactly `length` tokens (as train_at_length).
TaskConfig fixed_length(const LessonFlags& flags, int length) {
    TaskConfig config = default_task_config(flags.task);
    config.min_len = config.max_len = length;
    config.seed = flags.seed;
    return config;
}

// The flags of one contender: the shared ones, with its decoder and score.
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

std::string_view cell_title(std::string_view cell) { return cell == "rnn" ? "SimpleRNN" : cell == "gru" ? "GRU" : "LSTM"; }

std::string percent(double fraction) { return fmt::format("{:.1f}%", 100 * fraction); }

}  // namespace

int main(int argc, char** argv) {
    LessonFlags flags;
    flags.steps = 1500;
    flags.embed = flags.hidden = flags.attn = 16;
    flags.held_out = 300;
    flags.print.trace = TraceLevel::steps;
    std::string lengths_text = default_lengths(flags.task);
    std::string models_text = "plain,concat,qk-scaled";
    std::string csv;
    bool quick = false;
    int jobs = 2;

    Cli cli("07_bottleneck", "Plain vs concat vs dot-product attention as the source grows (Bahdanau et al.'s Figure 2).");
    std::vector<std::string> tasks;
    for (std::string_view name : task_names()) tasks.emplace_back(name);
    cli.choice("--task", flags.task, tasks, "task the models learn");
    cli.option("--lengths", lengths_text, fmt::format("source lengths L, every source exactly L tokens (translate: "
               "{}; dates: {})", default_lengths("translate"), default_lengths("dates")), "L,L,…");
    cli.option("--models", models_text, "models to compare: plain and attention scores (concat, dot, general, qk, "
               "qk-scaled)", "NAME,…");
    cli.choice("--cell", flags.cell, {"rnn", "gru", "lstm"}, "recurrent cell of every encoder and decoder");
    cli.choice("--decoder", flags.decoder, {"bahdanau", "luong"}, "decoder of the attention models");
    cli.option("--seed", flags.seed, "seed of data, initialisation and everything random");
    add_size_and_training_flags(cli, flags);
    cli.option("--held-out", flags.held_out, "held-out examples per length", 1, 100000);
    cli.flag("--quick", quick, "a tiny run for tests: lengths 3,6 (translate 4,5), 40 steps, 40 held-out, "
             "unless given");
    cli.option("--jobs", jobs, "models trained at once, one thread each", 1, 64);
    cli.option("--csv", csv, "write the accuracy table here (one row per length and model)", "PATH");
    cli.option("--json", flags.json, "write the results, the settings and the α maps here", "PATH");
    cli.add_print_flags(flags.print);
    std::vector<int> lengths;
    std::vector<Contender> models;
    cli.check([&] {
        // --quick and --task change the defaults of the flags not given
        if (quick && !cli.given("--steps")) flags.steps = 40;
        if (quick && !cli.given("--held-out")) flags.held_out = 40;
        if (!cli.given("--lengths"))
            lengths_text = quick ? (flags.task == "translate" ? "4,5" : "3,6") : default_lengths(flags.task);
        lengths = parse_lengths(lengths_text);
        models = parse_models(models_text);
        for (int length : lengths) {
            try {
                const TaskGenerator task(fixed_length(flags, length), flags.held_out);
            } catch (const TaskError& e) {
                throw UsageError(fmt::format("--task {} --lengths {} --held-out {}: {}", flags.task, lengths_text,
                                             flags.held_out, e.what()));
            }
        }
        if (!csv.empty() && csv == flags.json) throw UsageError(fmt::format("--csv and --json name the same file, {}", csv));
        check_writable("--csv", csv);
        check_writable("--json", flags.json);
    });
    cli.parse(argc, argv);

    return run_lesson("07_bottleneck", [&] {
        Printer out(flags.print);
        out.title("Lesson 07 · the bottleneck, measured");
        out.text("The same task at several source lengths, and the same budget for every model. The plain "
                 "model's decoder knows the source only through h_m, H numbers whatever the length; the "
                 "attention models re-read every encoder state at every step. Watch what length does to each.");

        // --- 1. the models and their budget ---
        out.section("1. the models, and one budget for all");
        out.text(fmt::format(
            "Task '{}' ({}); sources of exactly L tokens, L = {}. Every model: a {} encoder and decoder, "
            "E = {}, H = {}, A = {}; {} steps of {} examples, {}, lr {} with cosine decay, {}. Each is scored "
            "on the same {} held-out sources per length, never trained on, with greedy decoding.",
            flags.task, describe_task(flags.task), fmt::join(lengths, ", "), cell_title(flags.cell), flags.embed, flags.hidden,
            flags.attn, flags.steps, flags.batch, flags.optimizer == "adam" ? "Adam" : "SGD", flags.lr,
            flags.clip > 0 ? fmt::format("gradient norm clipped at {}", flags.clip) : "no clipping", flags.held_out));
        std::vector<std::size_t> parameters;
        Table setup({"model", "decoder", "score", "parameters"});
        setup.align(1, Align::left).align(2, Align::left);
        for (const Contender& model : models) {
            // the vocabularies, and so the sizes, do not depend on the length
            const LessonFlags model_flags = flags_for(flags, model);
            const TaskGenerator task(fixed_length(flags, lengths.front()), 1);
            parameters.push_back(Seq2Seq(model_config(model_flags, task)).parameter_count());
            setup.add_row(model.name, model_flags.decoder, model_flags.score, parameters.back());
        }
        out.table(setup);
        out.text("The attention models have more parameters (the score's, and a decoder and output layer that "
                 "also read c_j), but the same state size H: the plain model can be given a larger --hidden to "
                 "try to make up for it.");

        // --- 2. train every model at every length ---
        // Two threads (--jobs) take runs from one list, longest sources first so neither
        // waits long at the end. Each run has its own task, model and generator, so the
        // numbers do not depend on which thread trained it or when.
        out.section("2. training");
        std::vector<Run> runs;
        for (int length : lengths)
            for (std::size_t k = 0; k < models.size(); ++k) runs.push_back({length, k, {}});
        std::vector<std::size_t> order(runs.size());
        for (std::size_t r = 0; r < order.size(); ++r) order[r] = order.size() - 1 - r;
        std::vector<std::exception_ptr> errors(runs.size());
        std::atomic<std::size_t> next{0};
        std::atomic<bool> failed{false};
        const auto worker = [&] {
            for (std::size_t k; (k = next++) < order.size() && !interrupt_requested() && !failed;) {
                Run& run = runs[order[k]];
                const std::string label = fmt::format("{} L={}", models[run.model].name, run.length);
                try {
                    run.trained = train_at_length(flags_for(flags, models[run.model]), run.length, label);
                } catch (const TrainingError& e) {  // say which model diverged
                    errors[order[k]] = std::make_exception_ptr(TrainingError(label + ": " + e.what()));
                    failed = true;
                } catch (...) {
                    errors[order[k]] = std::current_exception();
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
        if (interrupt_requested()) {
            fmt::print(stderr, "interrupted: not every model finished training\n");
            std::exit(130);
        }
        out.text(fmt::format("Trained {} models ({} lengths × {}); progress went to stderr. Training loss, the "
                             "mean over the last 10% of the steps:",
                             runs.size(), lengths.size(), models.size()));
        const auto run_at = [&](std::size_t l, std::size_t k) -> Run& { return runs[l * models.size() + k]; };
        const auto late_loss = [](const TrainResult& result) {
            const auto& losses = result.losses;
            if (losses.empty()) return 0.0;
            const std::size_t tail = std::max<std::size_t>(1, losses.size() / 10);
            double total = 0;
            for (std::size_t s = losses.size() - tail; s < losses.size(); ++s) total += losses[s];
            return total / static_cast<double>(tail);
        };
        std::vector<std::string> headers{"L"};
        for (const Contender& model : models) headers.push_back(model.name);
        Table losses(headers);
        losses.precision(3);
        for (std::size_t l = 0; l < lengths.size(); ++l) {
            std::vector<std::string> row{std::to_string(lengths[l])};
            for (std::size_t k = 0; k < models.size(); ++k) row.push_back(fixed(late_loss(run_at(l, k).trained.training), 3));
            losses.add_row(row);
        }
        out.table(losses);

        // --- 3. held-out accuracy by length ---
        out.section("3. held-out accuracy by source length");
        const auto accuracy_table = [&](bool whole) {
            Table table(headers);
            for (std::size_t l = 0; l < lengths.size(); ++l) {
                std::vector<std::string> row{std::to_string(lengths[l])};
                for (std::size_t k = 0; k < models.size(); ++k) {
                    const Accuracy& a = run_at(l, k).trained.accuracy;
                    row.push_back(fixed(whole ? a.sequence_accuracy : a.token_accuracy, 3));
                }
                table.add_row(row);
            }
            out.table(table);
        };
        out.line("  whole sequences exactly right (the harder measure):");
        accuracy_table(true);
        out.blank();
        out.line("  target tokens right (position by position):");
        accuracy_table(false);
        out.blank();
        std::vector<Bar> bars;
        for (std::size_t l = 0; l < lengths.size(); ++l)
            for (std::size_t k = 0; k < models.size(); ++k)
                bars.push_back({fmt::format("L = {:<3} {}", lengths[l], models[k].name),
                                run_at(l, k).trained.accuracy.sequence_accuracy});
        out.bars("whole-sequence accuracy", bars);

        // The conclusion, worded from the measured numbers.
        const std::size_t last = lengths.size() - 1;
        std::string verdict = fmt::format("At L = {}:", lengths[last]);
        for (std::size_t k = 0; k < models.size(); ++k)
            verdict += fmt::format("{} {} gets {} of whole sequences and {} of tokens right", k ? ";" : "",
                                   models[k].name, percent(run_at(last, k).trained.accuracy.sequence_accuracy),
                                   percent(run_at(last, k).trained.accuracy.token_accuracy));
        verdict += ".";
        const auto plain = std::find_if(models.begin(), models.end(), [](const Contender& c) { return c.plain(); });
        if (plain != models.end() && lengths.size() > 1) {
            const std::size_t p = static_cast<std::size_t>(plain - models.begin());
            const Accuracy& first = run_at(0, p).trained.accuracy;
            const Accuracy& longest = run_at(last, p).trained.accuracy;
            verdict += fmt::format(" From L = {} to L = {} the plain model's whole-sequence accuracy goes from {} to "
                                   "{}.",
                                   lengths.front(), lengths[last], percent(first.sequence_accuracy),
                                   percent(longest.sequence_accuracy));
            for (std::size_t k = 0; k < models.size(); ++k) {
                if (k == p) continue;
                const double gap = run_at(last, k).trained.accuracy.sequence_accuracy - longest.sequence_accuracy;
                verdict += std::abs(gap) < 0.0005
                               ? fmt::format(" {} is level with it at L = {}.", models[k].name, lengths[last])
                               : fmt::format(" {} is {:.1f} points {} it at L = {}.", models[k].name, 100 * std::abs(gap),
                                             gap > 0 ? "above" : "below", lengths[last]);
            }
        }
        out.text(verdict);

        // --- 4. where the attention models look, at the longest length ---
        Json alignments = Json::Array{};
        out.section(fmt::format("4. α at L = {}", lengths[last]));
        out.text(fmt::format("One held-out source of the longest length, teacher forced through each attention "
                             "model.{}",
                             flags.task == "reverse" ? " For 'reverse' the ideal map is the anti-diagonal: the j-th "
                                                       "output token is the j-th source token from the end."
                                                     : ""));
        for (std::size_t k = 0; k < models.size(); ++k) {
            if (models[k].plain()) continue;
            Trained& trained = run_at(last, k).trained;
            const Vocab& src_vocab = trained.task->src_vocab();
            const Vocab& tgt_vocab = trained.task->tgt_vocab();
            const Example& example = trained.task->held_out().front();
            const TraceRun run = run_traced_example(*trained.model, example);
            out.blank();
            out.line("{}", out.bold(fmt::format("{} (held-out whole-sequence accuracy {:.3f})", models[k].name,
                                                trained.accuracy.sequence_accuracy)));
            if (out.shows(TraceLevel::steps)) {
                if (run.batch.src_len <= 16)
                    print_alignment(out, run, src_vocab, tgt_vocab);
                else
                    print_alignment_compact(out, run, src_vocab, tgt_vocab);
            }
            // for --json: the map with its token labels
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
            entry.set("model", models[k].name);
            entry.set("length", lengths[last]);
            entry.set("src_tokens", std::move(src_tokens));
            entry.set("tgt_tokens", std::move(tgt_tokens));
            entry.set("alpha", std::move(alpha));
            alignments.push_back(std::move(entry));
        }

        // --- 5. the results, for notebooks and plots ---
        if (!csv.empty()) {
            std::string text = "task,length,model,decoder,score,parameters,steps,examples,token_accuracy,"
                               "sequence_accuracy,final_loss\n";
            for (const Run& run : runs) {
                const LessonFlags model_flags = flags_for(flags, models[run.model]);
                const Accuracy& a = run.trained.accuracy;
                text += fmt::format("{},{},{},{},{},{},{},{},{},{},{}\n", flags.task, run.length, models[run.model].name,
                                    model_flags.decoder, model_flags.score, parameters[run.model], run.trained.training.steps,
                                    a.examples, a.token_accuracy, a.sequence_accuracy, late_loss(run.trained.training));
            }
            write_file_atomically(csv, text);
        }
        if (!flags.json.empty()) {
            JsonWriter w;
            w.begin_object();
            w.key("format").value("stepgrad-bottleneck/1");
            w.key("lesson").value("07");
            w.key("task").value(flags.task);
            w.key("lengths").value(lengths);
            w.key("settings").begin_object(JsonWriter::Layout::line);
            w.key("cell").value(flags.cell).key("decoder").value(flags.decoder);
            w.key("embed_dim").value(flags.embed).key("hidden_dim").value(flags.hidden).key("attn_dim").value(flags.attn);
            w.key("steps").value(flags.steps).key("batch").value(flags.batch).key("lr").value(flags.lr);
            w.key("optimizer").value(flags.optimizer).key("clip").value(flags.clip);
            w.key("held_out").value(flags.held_out).key("seed").value(flags.seed);
            w.end_object();
            w.key("models").begin_array();
            for (std::size_t k = 0; k < models.size(); ++k) {
                const LessonFlags model_flags = flags_for(flags, models[k]);
                w.begin_object(JsonWriter::Layout::line);
                w.key("name").value(models[k].name).key("decoder").value(model_flags.decoder);
                w.key("score").value(model_flags.score).key("parameters").value(parameters[k]);
                w.end_object();
            }
            w.end_array();
            w.key("results").begin_array();
            for (const Run& run : runs) {
                const Accuracy& a = run.trained.accuracy;
                w.begin_object(JsonWriter::Layout::line);
                w.key("model").value(models[run.model].name).key("length").value(run.length);
                w.key("examples").value(a.examples).key("token_accuracy").value(a.token_accuracy);
                w.key("sequence_accuracy").value(a.sequence_accuracy);
                w.key("final_loss").value(late_loss(run.trained.training));
                w.end_object();
            }
            w.end_array();
            // the training loss of every run, step by step
            w.key("losses").begin_array();
            for (const Run& run : runs) {
                w.begin_object(JsonWriter::Layout::line);
                w.key("model").value(models[run.model].name).key("length").value(run.length);
                w.key("loss").value(run.trained.training.losses);
                w.end_object();
            }
            w.end_array();
            w.key("alignments").value(alignments);
            w.end_object();
            w.finish();
            write_file_atomically(flags.json, w.str());
        }
        if (!csv.empty() || !flags.json.empty()) {
            out.section("5. results written");
            if (!csv.empty()) out.line("  {}: one row per length and model", csv);
            if (!flags.json.empty()) out.line("  {}: settings, results, loss curves and the α maps", flags.json);
        }
        return 0;
    });
}
