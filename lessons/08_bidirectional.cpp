// Lesson 08 — RNNsearch as Bahdanau built it: a bidirectional encoder, and where it
// makes α look.
//
// What you will learn
//   The attention models of lessons 05–07 read the source one way. Bahdanau, Cho &
//   Bengio (2014, §3.2) read it twice, with two cells, and annotate each position with
//   both readings (SPEC §11):
//
//     →h_t = cell(src_embed[x_t], →h_{t−1})    t = 1..m, →h_0 = 0          the forward reading
//     ←h_t = cell(src_embed[x_t], ←h_{t+1})    t = m..1, ←h_{m+1} = 0      the backward reading
//     h_t  = [→h_t; ←h_t]                      what attention reads, 2H wide
//     s_0  = tanh(bridge.W ←h_1 + bridge.b)    where the decoder starts (their appendix A.2.2)
//
//   →h_t has read x_1 … x_t and ←h_t has read x_t … x_m, so h_t has seen the whole
//   source and sits on x_t. A forward encoder's h_{t+1} still holds x_t, so a forward-only
//   model's α may settle one place late; alignment accuracy (the share of target tokens
//   whose largest α falls on the gold source position) measures that, beside its twin
//   one place late. Then: one layer or two (layer ℓ > 1 reads [→h; ←h] of the layer below).
//
//   The default --seed is 3: at seed 1 the forward-only model on `reverse` happens to look
//   on gold, at seed 3 it looks one late; section "is it the seed?" shows four seeds.
//
// How to run
//   08_bidirectional                           # 3 tasks × 2 encoders, 4 seeds, 1 vs 2 layers: under a minute
//   08_bidirectional --quick                   # a tiny budget, seconds (the tests)
//   08_bidirectional --tasks reverse --seeds 8 --jobs 2
//   08_bidirectional --cell lstm --hidden 32 --steps 2000 --json bidirectional.json
//   08_bidirectional --layers-task en-zh --layers 3 --trace none
// Ctrl-C stops the training and exits 130. The models train two at a time (--jobs), each
// on its own thread; the output is the same whatever --jobs is.
#include "common/bidirectional.hpp"  // defines: the flags, train_models, the tables, verdicts and JSON
#include "common/encoders.hpp"       // defines: print_both_directions
#include "common/lesson.hpp"

using namespace stepgrad;

int main(int argc, char** argv) {
    BidirectionalFlags options;
    LessonFlags& flags = options.shared;
    flags.seed = 3;  // see the header: the seed whose forward-only α on `reverse` is one late
    flags.print.trace = TraceLevel::steps;
    Cli cli("08_bidirectional", "RNNsearch as Bahdanau built it: a bidirectional encoder, and where α looks.");
    add_bidirectional_flags(cli, options);
    if (const auto exit_code = cli.parse(argc, argv)) return *exit_code;

    return run_lesson("08_bidirectional", [&] {
        Printer out(flags.print);
        out.title("Lesson 08 · RNNsearch as Bahdanau built it");
        out.text("Lessons 05–07 gave attention the states of an encoder that reads the source one way. Bahdanau, "
                 "Cho & Bengio (2014) read it both ways and hand attention the two readings side by side. First the "
                 "encoder itself, then what it changes: where α looks, and how often the model is right.");

        // --- 1. one source, read forwards, backwards and both ways ---
        out.section("1. one source, read forwards, backwards and both ways");
        LessonFlags demonstration = flags;
        demonstration.task = "reverse";
        const TaskGenerator reverse(task_config(demonstration), 1);
        const Example source = task_answer(reverse, reverse.src_vocab().encode("abcd"));
        const auto untrained = demonstration_model(flags, reverse);
        out.text(fmt::format("An untrained {} encoder, E = H = {}, its weights drawn from --seed: the numbers are "
                             "arbitrary, the wiring is the point. Source: \"abcd\" and its <eos>.",
                             cell_title(flags.cell), demonstration_size));
        if (out.shows(TraceLevel::steps)) print_both_directions(out, *untrained, source, reverse.src_vocab());
        out.text("Each h_t is the two readings at t laid end to end, nothing more: two cells with weights of their "
                 "own. →h_t has read up to x_t, ←h_t from x_t to the end, so h_t has seen the whole source, and both "
                 "halves have just read x_t itself. ←h_1 has read the whole source too, ending at x_1: the bridge "
                 "turns it into the decoder's first state, where a forward-only model starts from h_m.");

        // --- 2. forward-only and bidirectional models, one budget ---
        out.section("2. forward-only and bidirectional, one budget");
        out.text(fmt::format(
            "Each task gets a forward-only and a bidirectional model, alike in all else: {} cells, a bahdanau decoder "
            "with concat attention, E = {}, H = {}, A = {}; {} steps of {} examples, {}, lr {} with cosine decay, {}. "
            "The bidirectional encoder has a second cell and a bridge, and its keys are 2H wide.\n\nEach model is "
            "scored on its task's {} held-out examples, never trained on. \"tokens\" and \"sequences\": the share "
            "of target tokens and of whole targets it gets right, decoding greedily. \"α on gold\": the share of "
            "target tokens whose largest α (teacher forced) falls on the source position the task's gold alignment "
            "gives; \"one late\": on the position after it (SPEC §11).",
            cell_title(flags.cell), flags.embed, flags.hidden, flags.attn, flags.steps, flags.batch,
            flags.optimizer == "adam" ? "Adam" : "SGD", flags.lr,
            flags.clip > 0 ? fmt::format("gradient norm clipped at {}", flags.clip) : "no clipping", flags.held_out));
        const std::vector<EncoderModel> models = lesson_models(options);
        const std::vector<ModelRun> runs = train_models(flags, models, options.jobs);
        out.line("  Trained {} models (--jobs at a time); progress went to stderr.", runs.size());

        // --- 3a, 3b, …: each task, where α falls, forward-only against bidirectional ---
        char letter = 'a';
        Json alignments = Json::Array{};  // for --json
        for (const std::string& task : options.tasks) {
            const ModelRun& forward = run_of(runs, {task, false, 1, flags.seed});
            const ModelRun& bidirectional = run_of(runs, {task, true, 1, flags.seed});
            const TaskConfig& config = forward.trained.task->config();
            out.section(fmt::format("3{}. {}: sources of {}–{} tokens", letter++, task, config.min_len, config.max_len));
            out.table(comparison_table({&forward, &bidirectional}));
            out.blank();
            out.text("One held-out example through both models. " + expected_alignment(task));
            print_alpha_maps(out, {&forward, &bidirectional}, alignments);
            out.blank();
            out.text(task_verdict(forward, bidirectional));  // worded from the measured numbers
        }

        // --- 4. is it the seed? ---
        out.section("4. is it the seed?");
        if (options.seeds == 1) {
            out.text("One seed only (--seeds 1): nothing to compare it with.");
        } else {
            out.text(fmt::format("One training run is one draw. The two models of '{}' again from {} seeds, {} and "
                                 "up: the data, the initial weights and the batches all change with the seed.",
                                 options.tasks.front(), options.seeds, flags.seed));
            out.table(seed_table(runs, options));
            out.blank();
            out.text(seed_verdict(runs, options));
        }

        // --- 5. one layer or more ---
        out.section(fmt::format("5. 1 layer or {}", options.layers));
        out.text(fmt::format("Stacked layers (SPEC §11): encoder layer ℓ > 1 reads [→h_t; ←h_t] of layer ℓ−1 at the "
                             "same t, and attention reads the top layer; the decoder has as many layers, each "
                             "starting from its own bridge, with c_j fed into layer 1. The bidirectional model of "
                             "'{}' with 1 and {} layers, same budget:",
                             options.layers_task, options.layers));
        const ModelRun& one = run_of(runs, {options.layers_task, true, 1, flags.seed});
        const ModelRun& deeper = run_of(runs, {options.layers_task, true, options.layers, flags.seed});
        out.table(comparison_table({&one, &deeper}));
        out.blank();
        out.text(layers_verdict(one, deeper));

        // --- 6. the results, for notebooks and plots ---
        if (!flags.json.empty()) {
            write_bidirectional_json(flags.json, options, runs, alignments);
            out.section("6. results written");
            out.text(fmt::format("{}: the settings, every model's accuracies and alignment accuracies, and the α "
                                 "maps shown with their gold alignments.",
                                 flags.json));
        }
        return 0;
    });
}
