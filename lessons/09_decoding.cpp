// Lesson 09 — decoding: greedy against beam search, BLEU, and what teacher forcing hides.
//
// What you will learn
//   A trained decoder gives, at each step j, a distribution softmax(logits_j) over the next
//   token; writing a sentence means choosing one token per step and feeding it back. How to
//   choose is a search problem the model does not solve for you (SPEC §13):
//
//     log p(y_1 … y_n) = Σ_j log softmax(logits_j)[y_j]
//     greedy     y_j = argmax softmax(logits_j): one prefix, never reconsidered
//     beam       keep the K prefixes of highest log p; one that emits <eos> is finished;
//                stop when K are finished; rank them by score = log p / lp(n),
//                lp(n) = ((5 + n) / 6)^a (Wu et al. 2016); a = 0 ranks by log p alone
//     BLEU       100 · BP · exp(¼ Σ_{n=1..4} log p_n), p_n the clipped n-gram precision over
//                the corpus, BP = exp(1 − r/c) when the c written words are fewer than the
//                r of the references (Papineni et al. 2002)
//     scheduled sampling   in training, each decoder input is the gold y_{j−1} with
//                probability P, else the model's own previous argmax (Bengio et al. 2015)
//
//   Teacher forcing (P = 1) trains the decoder only on gold prefixes; at test time it reads
//   its own, mistakes included: exposure bias. The last section measures it.
//
// How to run
//   09_decoding                          # en-zh, one model, every decoder, then P = 1, 0.75, 0.5
//   09_decoding --quick                  # a tiny run for tests, seconds
//   09_decoding --task translate --beam 4 --length-penalty 0.6   # the tree with K = 4, a = 0.6
//   09_decoding --sentence "Tom saw Jerry in the garden yesterday" --beam 3
//   09_decoding --json decoding.json     # every figure: accuracy, BLEU and its counts, times
#include <algorithm>

#include "common/decoding.hpp"  // defines: compare_decoders, print_beam_tree, train_exposure, …
#include "common/lesson.hpp"
#include "stepgrad/decode.hpp"

using namespace stepgrad;

namespace {

// --quick: a budget that only shows the lesson runs.
void apply_quick(const Cli& cli, LessonFlags& flags) {
    if (!cli.given("--steps")) flags.steps = 60;
    if (!cli.given("--held-out")) flags.held_out = 40;
}

// The widths compared: 1 (greedy), 2, 4 and 8, and --beam's when it is another.
std::vector<int> beam_widths(const LessonFlags& flags, bool quick) {
    std::vector<int> widths = quick ? std::vector<int>{1, 2} : std::vector<int>{1, 2, 4, 8};
    if (std::find(widths.begin(), widths.end(), flags.beam) == widths.end()) widths.push_back(flags.beam);
    return widths;
}

// The P of the exposure-bias table: 1, 0.75 and 0.5, and --teacher-forcing's when it is another.
std::vector<double> exposure_probabilities(const LessonFlags& flags) {
    std::vector<double> probabilities{1.0, 0.75, 0.5};
    if (std::find(probabilities.begin(), probabilities.end(), flags.teacher_forcing) == probabilities.end())
        probabilities.push_back(flags.teacher_forcing);
    return probabilities;
}

const DecoderRun& run_with(const std::vector<DecoderRun>& runs, int K, double a) {
    return *std::find_if(runs.begin(), runs.end(), [&](const DecoderRun& r) { return r.beam_width == K && r.length_penalty == a; });
}

}  // namespace

int main(int argc, char** argv) {
    LessonFlags flags;
    flags.task = "en-zh";  // the seeds' language: word level, so BLEU means something
    const TaskConfig en_zh = default_task_config(flags.task);
    flags.lesson_lengths = {en_zh.min_len, en_zh.max_len};
    flags.steps = 600;  // short enough that greedy still makes mistakes for beam search to mend
    flags.json_help = "write every figure here: each decoder's accuracy, BLEU with its counts and time; P's table";
    bool quick = false;
    Cli cli("09_decoding", "Decoding: greedy against beam search, BLEU taken apart, and teacher forcing's exposure bias.");
    add_lesson_flags(cli, flags, {"bahdanau", "luong"}, {"concat", "dot", "general", "qk", "qk-scaled"});
    cli.flag("--quick", quick, "a tiny run for tests: 60 steps, 40 held-out examples, beams 1 and 2, unless given");
    if (const auto exit_code = cli.parse(argc, argv)) return *exit_code;
    if (flags.list_vocab) return list_vocabularies(flags);
    if (quick) apply_quick(cli, flags);
    const std::vector<int> widths = beam_widths(flags, quick);
    const int tree_width = flags.beam > 1 ? flags.beam : widths[1];  // --beam K, or the narrowest beam
    const double penalty = flags.length_penalty > 0 ? flags.length_penalty : 1.0;

    return run_lesson("09_decoding", [&] {
        Printer out(flags.print);
        out.title("Lesson 09 · decoding: greedy, beam search, BLEU, teacher forcing");
        out.text("A trained decoder gives a distribution over the next token; writing a sentence means choosing "
                 "one token per step and feeding it back. Greedy decoding takes the most probable token each time "
                 "and never looks back. Beam search keeps the K most probable prefixes. BLEU scores what was "
                 "written against the reference, word n-gram by n-gram.");

        // --- 1. train one attention model ---
        out.section("1. train");
        Trained trained = train_or_load(flags, out);
        const Vocab& src_vocab = trained.task->src_vocab();
        const Vocab& tgt_vocab = trained.task->tgt_vocab();
        const std::vector<Example>& held_out = trained.task->held_out();

        // Every decoder on every held-out sentence first: section 2 picks its sentence from the results.
        const std::vector<DecoderRun> runs = compare_decoders(*trained.model, held_out, tgt_vocab, widths, penalty);
        const DecoderRun& greedy = runs.front();
        const DecoderRun& tree_run = run_with(runs, tree_width, flags.length_penalty);

        // --- 2. one sentence: greedy's choice and the beam's ---
        out.section(fmt::format("2. one sentence, greedy and a beam of K = {}", tree_width));
        const Showcase showcase = pick_showcase(held_out, greedy, tree_run);
        const Example example = flags.sentence.empty() ? held_out[showcase.index] : traced_example(flags, trained, out);
        out.line("source: \"{}\"   target: \"{}\"", src_vocab.decode(example.src), tgt_vocab.decode(example.tgt));
        if (flags.sentence.empty())
            out.text(showcase.beam_mends_greedy
                         ? "A held-out sentence greedy decoding gets wrong and beam search gets right (the shortest):"
                         : "No held-out sentence that greedy gets wrong did the beam get right; here is one anyway:");
        const int max_length = static_cast<int>(example.tgt.size()) + 1;  // as evaluate() allows
        tape().reset();
        const BeamResult by_greedy = beam_search(*trained.model, example.src, 1, max_length);  // K = 1 is greedy
        tape().reset();
        const BeamResult beam = beam_search(*trained.model, example.src, tree_width, max_length, flags.length_penalty,
                                             record_every_candidate);
        tape().reset();
        out.line("  greedy writes \"{}\"  log p = {:.3f}", tgt_vocab.decode(by_greedy.ids), by_greedy.log_prob);
        out.line("  beam writes   \"{}\"  log p = {:.3f}", tgt_vocab.decode(beam.ids), beam.log_prob);
        out.text(fmt::format("The beam step by step. Each line is a hypothesis: the prefix above it and one more "
                             "token; log p sums log softmax over its tokens, and score = log p / lp(n) with a = {}. "
                             "Of each step's extensions the K = {} most probable are kept, the rest pruned; a kept "
                             "one that ends in <eos> is finished; 'unfinished' marks one still growing when the "
                             "search stopped.",
                             flags.length_penalty, tree_width));
        print_beam_tree(out, beam, tree_width, tgt_vocab);
        if (!flags.svg.empty())
            write_lesson_svg(flags, "Lesson 09 · the traced sentence", trained, run_traced_example(*trained.model, example));

        // --- 3. every held-out sentence: greedy against beam search ---
        out.section("3. greedy against beam search, held out");
        out.text(fmt::format("The {} held-out sentences, decoded each way: whole sentences exactly right and target "
                             "tokens right position by position{}. Rows with a > 0 rank the finished hypotheses by "
                             "log p / lp(n).",
                             held_out.size(), greedy.accuracy.bleu ? ", and corpus BLEU" : ""));
        out.table(decoder_table(runs));
        out.text(decoder_verdict(runs));
        // Times vary from run to run, so they go to stderr: stdout stays the same bytes for the same seed.
        PrintOptions on_stderr = flags.print;
        on_stderr.out = stderr;
        Printer(on_stderr).text(timing_words(runs));
        out.line("  The time per sentence of each decoder went to stderr: measured, it varies.");
        std::vector<TaskDecoders> decoders{{trained.task->config().name, runs}};  // for --json

        // --- 3b. the same comparison on the other word-level task ---
        if (const auto other = other_word_task(trained.task->config().name); other && flags.load.empty()) {
            out.section(fmt::format("3b. the same on '{}'", *other));
            LessonFlags other_flags = flags;
            other_flags.task = *other;
            other_flags.min_len = other_flags.max_len = std::nullopt;  // that task's own lengths
            Trained second = train_quietly(other_flags, flags.teacher_forcing, *other);
            if (interrupt_requested()) throw Interrupted("interrupted while training the second model", interrupt_signal());
            decoders.push_back({*other, compare_decoders(*second.model, second.task->held_out(), second.task->tgt_vocab(),
                                                         widths, penalty)});
            out.text(fmt::format("A model of the same kind and budget, trained on '{}' ({}):", *other, describe_task(*other)));
            out.table(decoder_table(decoders.back().runs));
            out.text(decoder_verdict(decoders.back().runs));
        }

        // --- 4. BLEU, taken apart ---
        if (greedy.accuracy.bleu_counts) {
            out.section("4. BLEU, taken apart (greedy)");
            out.text("Each n-gram the decoder wrote counts as matched at most as often as the reference holds it "
                     "(clipped), summed over the whole corpus; p_n = matched / n-grams. A geometric mean of p_1 … p_4 "
                     "rewards getting whole phrases right, and BP punishes writing too little.");
            print_bleu_parts(out, *greedy.accuracy.bleu_counts);
            if (const auto credit = partial_credit(held_out, greedy, tgt_vocab)) {
                const Example& wrong = held_out[credit->index];
                out.text(fmt::format("Exact match gives a wrong sentence 0; BLEU gives partial credit. Greedy wrote "
                                     "\"{}\" for \"{}\": exact match 0, sentence BLEU {:.1f}.",
                                     tgt_vocab.decode(greedy.accuracy.predictions[credit->index]),
                                     tgt_vocab.decode(wrong.tgt), credit->sentence.bleu));
            }
        }

        // --- 5. exposure bias: what teacher forcing hides ---
        const int exposure_section = greedy.accuracy.bleu_counts ? 5 : 4;
        out.section(fmt::format("{}. exposure bias: teacher forcing against scheduled sampling", exposure_section));
        std::vector<ExposureRun> exposure;
        if (!flags.load.empty()) {
            out.text("With --load the model was not trained here, so there is no budget to train the others under: "
                     "run without --load for this table.");
        } else {
            out.text(fmt::format("Models from the same seed, data and budget ({} steps), trained with P = 1 (teacher "
                                 "forcing), 0.75 and 0.5: the probability that a decoder input in training is the gold "
                                 "token rather than the model's own previous argmax. Each is scored fed the gold prefix "
                                 "(teacher forced) and fed its own tokens (greedy decoding).",
                                 flags.steps));
            exposure = train_exposure(flags, exposure_probabilities(flags), std::move(trained));
            if (interrupt_requested())
                throw Interrupted("interrupted: the exposure-bias models did not finish training", interrupt_signal());
            out.table(exposure_table(exposure));
            out.text(exposure_verdict(exposure));
        }
        if (!flags.json.empty()) write_decoding_json(flags.json, flags, decoders, exposure);
        return 0;
    });
}
