// Lesson 09's machinery: decoders compared, BLEU taken apart, the beam as a tree, the
// exposure-bias runs, verdicts and JSON (see decoding.hpp).
#include "common/decoding.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <thread>

#include <fmt/format.h>

#include "stepgrad/support/files.hpp"  // defines: write_file_atomically
#include "stepgrad/support/json.hpp"

namespace stepgrad {

namespace {

// Wall-clock seconds `work` takes.
template <class Work>
double seconds_of(Work&& work) {
    const auto start = std::chrono::steady_clock::now();
    work();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// "K = 4, a = 1", or "greedy".
std::string run_name(const DecoderRun& run) {
    if (run.beam_width == 1) return "greedy";
    return run.length_penalty > 0 ? fmt::format("K = {}, a = {}", run.beam_width, run.length_penalty)
                                  : fmt::format("K = {}", run.beam_width);
}

double bleu_of(const DecoderRun& run) { return run.accuracy.bleu.value_or(0.0); }

// Decodes and scores every example one way; beam search runs one sentence at a time, and
// greedy decoding is timed that way too (its scores come from evaluate()'s batches of 100).
DecoderRun run_decoder(Seq2Seq& model, std::span<const Example> examples, const Vocab& target, int K, double a) {
    EvaluateOptions options;
    options.beam_width = K;
    options.length_penalty = a;
    options.target = &target;
    DecoderRun run{K, a, {}, 0, 0};
    const double seconds = seconds_of([&] { run.accuracy = evaluate(model, examples, options); });
    const double sentences = static_cast<double>(std::max<std::size_t>(1, examples.size()));
    if (K > 1) {
        run.ms_per_sentence = 1000 * seconds / sentences;
        return run;
    }
    run.batched_ms_per_sentence = 1000 * seconds / sentences;
    options.batch_size = 1;
    run.ms_per_sentence = 1000 * seconds_of([&] { evaluate(model, examples, options); }) / sentences;
    return run;
}

}  // namespace

std::optional<std::string> other_word_task(const std::string& task) {
    if (task == "translate") return "en-zh";
    if (task == "en-zh" || task == "zh-en") return "translate";
    return std::nullopt;
}

std::vector<DecoderRun> compare_decoders(Seq2Seq& model, std::span<const Example> examples, const Vocab& target,
                                         const std::vector<int>& widths, double penalty) {
    std::vector<DecoderRun> runs;
    for (const int K : widths) runs.push_back(run_decoder(model, examples, target, K, 0.0));
    if (penalty > 0)
        for (const int K : widths)
            if (K > 1) runs.push_back(run_decoder(model, examples, target, K, penalty));
    return runs;
}

Table decoder_table(const std::vector<DecoderRun>& runs) {
    const bool bleu = runs.front().accuracy.bleu.has_value();
    std::vector<std::string> headers{"decoder", "sentences", "tokens"};
    if (bleu) headers.push_back("BLEU");
    Table table(headers);
    for (const DecoderRun& run : runs) {
        std::vector<std::string> row{run_name(run), percent(run.accuracy.sequence_accuracy),
                                     percent(run.accuracy.token_accuracy)};
        if (bleu) row.push_back(fixed(bleu_of(run), 1));
        table.add_row(row);
    }
    return table;
}

namespace {


// Beam search with a = 0 against greedy, in sentences right and BLEU.
std::string beam_against_greedy(const std::vector<DecoderRun>& runs) {
    const DecoderRun& greedy = runs.front();
    std::vector<std::string> scores, widths;
    for (const DecoderRun& run : runs)
        if (run.beam_width > 1 && run.length_penalty == 0) {
            scores.push_back(percent(run.accuracy.sequence_accuracy) +
                             (run.accuracy.bleu ? fmt::format(" (BLEU {:.1f})", bleu_of(run)) : ""));
            widths.push_back(std::to_string(run.beam_width));
        }
    if (widths.empty()) return "";
    return fmt::format("Ranked by log p alone (a = 0), beam search got {} of the sentences right at K = {}, against "
                       "greedy's {}{}; one sentence of {} is {:.1f} points.",
                       listed(scores, "and"), listed(widths, "and"), percent(greedy.accuracy.sequence_accuracy),
                       greedy.accuracy.bleu ? fmt::format(" (BLEU {:.1f})", bleu_of(greedy)) : "",
                       greedy.accuracy.examples, 100.0 / std::max(1, greedy.accuracy.examples));
}

// Predictions that do not end with <eos>: cut off by the length limit, or ranked unfinished.
int unfinished_count(const DecoderRun& run) {
    return static_cast<int>(std::count_if(run.accuracy.predictions.begin(), run.accuracy.predictions.end(),
                                           [](const std::vector<int>& ids) { return ids.empty() || ids.back() != Vocab::eos; }));
}

// The beam without a penalty that did worst against greedy, if any did worse, and what its sentences show.
std::string when_beam_lost(const std::vector<DecoderRun>& runs) {
    const DecoderRun& greedy = runs.front();
    const DecoderRun* worst = nullptr;
    for (const DecoderRun& run : runs)
        if (run.length_penalty == 0 && run.accuracy.sequence_accuracy < greedy.accuracy.sequence_accuracy &&
            (!worst || run.accuracy.sequence_accuracy < worst->accuracy.sequence_accuracy))
            worst = &run;
    if (!worst) return " Without a length penalty no beam did worse than greedy here.";
    std::string text = fmt::format(" At {} beam search did worse than greedy.", run_name(*worst));
    const auto& beam_counts = worst->accuracy.bleu_counts;
    const auto& greedy_counts = greedy.accuracy.bleu_counts;
    if (const int unfinished = unfinished_count(*worst); unfinished > unfinished_count(greedy))
        text += fmt::format(" {} of its sentences never wrote <eos>: once K hypotheses had finished, the search "
                            "stopped and ranked the prefixes still growing among them by their log p so far, which "
                            "the words still to come could only have lowered.",
                            unfinished);
    else if (beam_counts && greedy_counts && beam_counts->hypothesis_length < greedy_counts->hypothesis_length)
        text += fmt::format(" Its sentences were shorter ({} words in all against greedy's {}): every word adds a "
                            "negative log p, so Σ log p favours stopping early.",
                            beam_counts->hypothesis_length, greedy_counts->hypothesis_length);
    return text;
}

// What a = penalty did at each K, against a = 0.
std::string what_the_penalty_did(const std::vector<DecoderRun>& runs) {
    std::vector<std::string> changes;
    double penalty = 0;
    for (const DecoderRun& with : runs) {
        if (with.length_penalty == 0) continue;
        penalty = with.length_penalty;
        for (const DecoderRun& without : runs)
            if (without.beam_width == with.beam_width && without.length_penalty == 0)
                changes.push_back(fmt::format("{} → {} at K = {}", percent(without.accuracy.sequence_accuracy),
                                              percent(with.accuracy.sequence_accuracy), with.beam_width));
    }
    if (changes.empty()) return "";
    return fmt::format(" The length penalty a = {} divides log p by lp(n) = ((5 + n) / 6)^a, so longer hypotheses lose "
                       "less for their length: sentences right {}.",
                       penalty, listed(changes, "and"));
}

// BLEU as the table shows it, to one decimal: a difference the table does not show is none.
double shown_bleu(const DecoderRun& run) { return std::round(10 * bleu_of(run)) / 10; }

// Two runs that exact match and BLEU rank in opposite orders, if any.
std::string when_bleu_disagrees(const std::vector<DecoderRun>& runs) {
    for (const DecoderRun& x : runs)
        for (const DecoderRun& y : runs)
            if (x.accuracy.bleu && x.accuracy.sequence_accuracy > y.accuracy.sequence_accuracy &&
                shown_bleu(x) < shown_bleu(y))
                return fmt::format(" Exact match and BLEU disagree here: {} got more sentences exactly right than {} "
                                   "({} against {}), but a lower BLEU ({:.1f} against {:.1f}): BLEU gives credit for "
                                   "the n-grams a wrong sentence shares with the reference.",
                                   run_name(x), run_name(y), percent(x.accuracy.sequence_accuracy),
                                   percent(y.accuracy.sequence_accuracy), bleu_of(x), bleu_of(y));
    return "";
}

}  // namespace

std::string decoder_verdict(const std::vector<DecoderRun>& runs) {
    return beam_against_greedy(runs) + when_beam_lost(runs) + what_the_penalty_did(runs) + when_bleu_disagrees(runs);
}

std::string timing_words(const std::vector<DecoderRun>& runs) {
    const DecoderRun& greedy = runs.front();
    std::vector<std::string> costs;
    bool above_K = false;  // did a beam of K cost more than K greedy decodings?
    for (const DecoderRun& run : runs)
        if (run.beam_width > 1 && run.length_penalty == 0) {
            const double ratio = run.ms_per_sentence / greedy.ms_per_sentence;
            costs.push_back(fmt::format("{:.2f} ms at K = {} ({:.1f}× greedy)", run.ms_per_sentence, run.beam_width, ratio));
            above_K = above_K || ratio > run.beam_width;
        }
    const std::string why = above_K
        ? "More than K times greedy: besides running its K prefixes as K rows of one batch, each beam step ranks "
          "all K·V extensions."
        : "Less than K times greedy: the source is encoded once, a beam step runs its live prefixes as the rows of "
          "one batch, and a beam stops once K hypotheses have finished and no live prefix can beat them.";
    return fmt::format("Time, one sentence at a time: greedy {:.2f} ms a sentence; beam search {}. {} Greedy decoding "
                       "in batches of 100, as evaluate() runs it, takes {:.3f} ms a sentence. These times are measured "
                       "on this machine now: they vary from run to run.",
                       greedy.ms_per_sentence, listed(costs, "and"), why, greedy.batched_ms_per_sentence);
}

// ---- BLEU, taken apart ----

void print_bleu_parts(Printer& out, const BleuScore& score) {
    Table table({"n", "matched", "n-grams", "p_n"});
    double log_sum = 0;
    for (int n = 1; n <= BleuScore::max_order; ++n) {
        const auto k = static_cast<std::size_t>(n - 1);
        table.add_row(n, score.matched[k], score.total[k], fixed(score.precision(n), 4));
        log_sum += std::log(score.precision(n));
    }
    out.table(table);
    // BLEU = 100 · BP · exp(¼ Σ_n log p_n),  BP = exp(1 − r/c) when c < r, else 1
    const double recomputed = 100 * score.brevity_penalty * std::exp(log_sum / BleuScore::max_order);
    out.line("  c = {} words written, r = {} in the references: BP = {}", score.hypothesis_length,
             score.reference_length,
             score.hypothesis_length < score.reference_length ? fmt::format("exp(1 − r/c) = {:.4f}", score.brevity_penalty)
                                                               : std::string("1 (c ≥ r)"));
    out.line("  BLEU = 100 · BP · exp(¼ Σ log p_n) = {:.2f}", recomputed);
}

std::optional<PartialCredit> partial_credit(std::span<const Example> examples, const DecoderRun& run,
                                            const Vocab& target) {
    std::optional<PartialCredit> best;
    for (std::size_t k = 0; k < examples.size(); ++k) {
        const std::vector<int>& predicted = run.accuracy.predictions[k];
        if (predicted == examples[k].tgt) continue;
        const auto words = [&](const std::vector<int>& ids) {
            Tokens tokens;
            for (const int id : ids) {
                if (id == Vocab::eos) break;
                tokens.push_back(target.token(id));
            }
            return tokens;
        };
        const Tokens hypothesis = words(predicted), reference = words(examples[k].tgt);
        const BleuScore sentence = corpus_bleu(std::span<const Tokens>(&hypothesis, 1), std::span<const Tokens>(&reference, 1));
        if (sentence.bleu > 0 && (!best || sentence.bleu > best->sentence.bleu)) best = PartialCredit{k, sentence};
    }
    return best;
}

// ---- one sentence ----

Showcase pick_showcase(std::span<const Example> examples, const DecoderRun& greedy, const DecoderRun& beam) {
    std::optional<std::size_t> mended, greedy_wrong;
    for (std::size_t k = 0; k < examples.size(); ++k) {
        const bool greedy_right = greedy.accuracy.predictions[k] == examples[k].tgt;
        const bool beam_right = beam.accuracy.predictions[k] == examples[k].tgt;
        if (!greedy_right && !greedy_wrong) greedy_wrong = k;
        if (beam_right && !greedy_right && (!mended || examples[k].tgt.size() < examples[*mended].tgt.size()))
            mended = k;
    }
    if (mended) return {*mended, true};
    return {greedy_wrong.value_or(0), false};
}

namespace {

// One line of the tree: its drawing and token, then the numbers and what became of it.
struct TreeLine {
    std::string left;
    double log_prob;
    double score;
    std::string fate;
};

struct TreeContext {
    const BeamResult& beam;
    std::size_t shown;  // extensions drawn per step: the 2K most probable
    const Vocab& target;
    std::vector<TreeLine> lines;
};

// What became of candidate c of step j: kept (live), finished, pruned; the returned best marked.
std::string fate(const TreeContext& tree, std::size_t j, const BeamHypothesis& h) {
    std::string what = !h.kept ? "pruned" : h.finished ? "finished" : j + 1 == tree.beam.steps.size() ? "unfinished" : "kept";
    if (h.kept && h.ids == tree.beam.ids) what += " ← best";
    return what;
}

// Draws the extensions of step j whose parent is live prefix `parent` of step j − 1 (at
// j = 0, the empty prefix), and below each kept live one its own extensions: depth first.
void draw_children(TreeContext& tree, std::size_t j, int parent, const std::string& indent) {
    const BeamStep& step = tree.beam.steps[j];
    std::vector<std::size_t> children;
    for (std::size_t c = 0; c < step.candidates.size() && c < tree.shown; ++c)
        if (j == 0 || step.candidates[c].parent == parent) children.push_back(c);
    for (std::size_t k = 0; k < children.size(); ++k) {
        const BeamHypothesis& h = step.candidates[children[k]];
        const bool last = k + 1 == children.size();
        tree.lines.push_back({indent + (last ? "└─ " : "├─ ") + tree.target.token(h.ids.back()), h.log_prob, h.score,
                              fate(tree, j, h)});
        const auto live = std::find(step.kept.begin(), step.kept.end(), static_cast<int>(children[k]));
        if (live != step.kept.end() && j + 1 < tree.beam.steps.size())
            draw_children(tree, j + 1, static_cast<int>(live - step.kept.begin()), indent + (last ? "   " : "│  "));
    }
}

}  // namespace

void print_beam_tree(Printer& out, const BeamResult& beam, int beam_width, const Vocab& target) {
    TreeContext tree{beam, 2 * static_cast<std::size_t>(beam_width), target, {}};
    draw_children(tree, 0, 0, "");
    std::size_t width = display_width("<bos>");
    for (const TreeLine& line : tree.lines) width = std::max(width, display_width(line.left));
    out.write_line(fmt::format("  {}  {:>8}  {:>8}", pad("<bos>", width), "log p", "score"));
    for (const TreeLine& line : tree.lines)
        out.write_line(fmt::format("  {}  {:>8}  {:>8}  {}", pad(line.left, width), fixed(line.log_prob, 3),
                                   fixed(line.score, 3), line.fate));
    std::vector<std::string> hidden;
    for (std::size_t j = 0; j < beam.steps.size(); ++j) {
        const std::size_t drawn = std::min(tree.shown, beam.steps[j].candidates.size());
        hidden.push_back(fmt::format("{} at step {}", beam.steps[j].candidates.size() - drawn, j + 1));
    }
    out.text(fmt::format("Not drawn: the other extensions, all pruned ({}).", listed(hidden, "and")));
}

// ---- exposure bias ----

Trained train_quietly(const LessonFlags& flags, double P, const std::string& label) {
    Trained trained;
    trained.task = std::make_unique<TaskGenerator>(task_config(flags), flags.held_out);
    trained.model = std::make_unique<Seq2Seq>(model_config(flags, *trained.task));
    trained.model->init(flags.seed);
    TrainOptions options = train_options(flags);
    options.teacher_forcing = P;
    options.label = label;
    trained.training = train(*trained.model, *trained.task, options);
    return trained;
}

namespace {

// Token accuracy and mean token loss fed the gold prefix: argmax logits_j = y_j given y_{<j}.
struct Forced {
    double token_accuracy = 0;
    double loss = 0;
};

Forced teacher_forced(Seq2Seq& model, std::span<const Example> examples) {
    long right = 0, tokens = 0;
    double loss = 0;
    constexpr std::size_t chunk_size = 100;
    for (std::size_t start = 0; start < examples.size(); start += chunk_size) {
        tape().reset();
        const Batch batch = make_batch(examples.subspan(start, std::min(chunk_size, examples.size() - start)));
        const Forward forward = model.forward(batch);
        const auto V = static_cast<std::size_t>(forward.logits.cols());
        for (std::size_t r = 0; r < batch.tgt_out.size(); ++r) {
            if (batch.tgt_out[r] == Vocab::pad) continue;
            const auto row = forward.logits.values().subspan(r * V, V);
            right += std::max_element(row.begin(), row.end()) - row.begin() == batch.tgt_out[r];
            loss += forward.token_losses.value(r);
            ++tokens;
        }
    }
    tape().reset();
    return {tokens ? static_cast<double>(right) / static_cast<double>(tokens) : 0.0,
            tokens ? loss / static_cast<double>(tokens) : 0.0};
}

// A model trained with scheduled sampling P, and whether it trained every step.
ExposureRun train_with_sampling(const LessonFlags& flags, double P) {
    ExposureRun run;
    run.teacher_forcing = P;
    run.trained = train_quietly(flags, P, fmt::format("P = {}", P));
    run.finished = run.trained.training.steps == flags.steps;
    return run;
}

// Greedy decoding's accuracy (the exposure table compares P, not decoders) and the teacher-forced scores.
void score_exposure(ExposureRun& run) {
    Trained& trained = run.trained;
    EvaluateOptions greedy;
    greedy.target = &trained.task->tgt_vocab();
    trained.accuracy = evaluate(*trained.model, trained.task->held_out(), greedy);
    const Forced forced = teacher_forced(*trained.model, trained.task->held_out());
    run.forced_token_accuracy = forced.token_accuracy;
    run.forced_loss = forced.loss;
}

}  // namespace

std::vector<ExposureRun> train_exposure(const LessonFlags& flags, const std::vector<double>& probabilities,
                                        Trained main) {
    std::vector<ExposureRun> runs(probabilities.size());
    std::vector<std::size_t> to_train;
    const bool reuse = flags.load.empty() && main.model;
    for (std::size_t r = 0; r < runs.size(); ++r) {
        runs[r].teacher_forcing = probabilities[r];
        if (reuse && probabilities[r] == flags.teacher_forcing) {
            runs[r].trained = std::move(main);
            runs[r].finished = true;
            score_exposure(runs[r]);
        } else {
            to_train.push_back(r);
        }
    }
    // Each run has its own task, model, generator and tape: the numbers do not depend on the thread.
    std::vector<std::exception_ptr> errors(runs.size());
    std::atomic<std::size_t> next{0};
    const auto worker = [&] {
        for (std::size_t k; (k = next++) < to_train.size() && !interrupt_requested();) {
            const std::size_t r = to_train[k];
            try {
                runs[r] = train_with_sampling(flags, probabilities[r]);
                if (runs[r].finished) score_exposure(runs[r]);
            } catch (...) {
                errors[r] = std::current_exception();
            }
        }
    };
    {
        std::vector<std::jthread> threads;
        for (std::size_t t = 0; t < std::min<std::size_t>(2, to_train.size()); ++t) threads.emplace_back(worker);
    }
    for (const std::exception_ptr& error : errors)
        if (error) std::rethrow_exception(error);
    return runs;
}

Table exposure_table(const std::vector<ExposureRun>& runs) {
    const bool bleu = !runs.empty() && runs.front().trained.accuracy.bleu.has_value();
    std::vector<std::string> headers{"P", "loss, gold fed", "tokens, gold fed", "tokens, own fed", "sentences"};
    if (bleu) headers.push_back("BLEU");
    Table table(headers);
    for (const ExposureRun& run : runs) {
        const Accuracy& a = run.trained.accuracy;
        std::vector<std::string> row{fmt::format("{}", run.teacher_forcing), fixed(run.forced_loss, 3),
                                     percent(run.forced_token_accuracy), percent(a.token_accuracy),
                                     percent(a.sequence_accuracy)};
        if (bleu) row.push_back(fixed(a.bleu.value_or(0.0), 1));
        table.add_row(row);
    }
    return table;
}

std::string exposure_verdict(const std::vector<ExposureRun>& runs) {
    const ExposureRun& forced = runs.front();  // P = 1
    const double base = forced.trained.accuracy.sequence_accuracy;
    const ExposureRun* best = &forced;
    for (const ExposureRun& run : runs)
        if (run.trained.accuracy.sequence_accuracy > best->trained.accuracy.sequence_accuracy) best = &run;
    std::vector<std::string> gaps;
    for (const ExposureRun& run : runs)
        gaps.push_back(fmt::format("{:.1f} points at P = {}", 100 * (run.forced_token_accuracy - run.trained.accuracy.token_accuracy),
                                   run.teacher_forcing));
    std::string text = fmt::format("Fed its own tokens instead of the gold ones, each model gets fewer tokens right: "
                                   "{}. That gap is exposure bias.",
                                   listed(gaps, "and"));
    const auto gap = [](const ExposureRun& run) { return run.forced_token_accuracy - run.trained.accuracy.token_accuracy; };
    const ExposureRun* narrowest = &forced;
    for (const ExposureRun& run : runs)
        if (gap(run) < gap(*narrowest)) narrowest = &run;
    text += gap(forced) - gap(*narrowest) >= 0.005
                ? fmt::format(" Scheduled sampling narrowed it most at P = {}.", narrowest->teacher_forcing)
                : " Scheduled sampling did not narrow it here.";
    const double gain = best->trained.accuracy.sequence_accuracy - base;
    if (best == &forced || gain < 0.005) {
        const ExposureRun& last = runs.back();
        text += fmt::format(" Under this budget scheduled sampling did not pay off in sentences right: P = {} got {}, "
                            "P = 1 {}.",
                            last.teacher_forcing, percent(last.trained.accuracy.sequence_accuracy), percent(base));
    } else {
        text += fmt::format(" Scheduled sampling helped here: P = {} got {} of the sentences right with greedy "
                            "decoding, {:.1f} points above P = 1's {}.",
                            best->teacher_forcing, percent(best->trained.accuracy.sequence_accuracy), 100 * gain,
                            percent(base));
    }
    return text + " One seed and one budget: measure several before trusting a difference of a point or two.";
}

// ---- the figures ----

namespace {

void write_bleu_counts(JsonWriter& w, const BleuScore& s) {
    w.key("bleu").value(s.bleu);
    std::vector<double> precisions;
    std::vector<int> matched, total;
    for (int n = 1; n <= BleuScore::max_order; ++n) {
        precisions.push_back(s.precision(n));
        matched.push_back(static_cast<int>(s.matched[static_cast<std::size_t>(n - 1)]));
        total.push_back(static_cast<int>(s.total[static_cast<std::size_t>(n - 1)]));
    }
    w.key("precisions").value(precisions).key("matched").value(matched).key("total").value(total);
    w.key("hypothesis_length").value(s.hypothesis_length).key("reference_length").value(s.reference_length);
    w.key("brevity_penalty").value(s.brevity_penalty);
}

void write_accuracy(JsonWriter& w, const Accuracy& a) {
    w.key("examples").value(a.examples).key("token_accuracy").value(a.token_accuracy);
    w.key("sequence_accuracy").value(a.sequence_accuracy);
    if (a.bleu_counts) write_bleu_counts(w, *a.bleu_counts);
}

}  // namespace

void write_decoding_json(const std::string& path, const LessonFlags& f, const std::vector<TaskDecoders>& decoders,
                         const std::vector<ExposureRun>& exposure) {
    JsonWriter w;
    w.begin_object();
    w.key("format").value("stepgrad-decoding/1").key("lesson").value("09").key("task").value(f.task);
    w.key("settings").begin_object(JsonWriter::Layout::line);
    w.key("cell").value(f.cell).key("decoder").value(f.decoder).key("score").value(f.score);
    w.key("embed_dim").value(f.embed).key("hidden_dim").value(f.hidden).key("attn_dim").value(f.attn);
    w.key("steps").value(f.steps).key("batch").value(f.batch).key("lr").value(f.lr);
    w.key("held_out").value(f.held_out).key("seed").value(f.seed);
    w.end_object();
    w.key("decoders").begin_array();
    for (const TaskDecoders& task : decoders)
        for (const DecoderRun& run : task.runs) {
            w.begin_object(JsonWriter::Layout::line);
            w.key("task").value(task.task);
            w.key("beam_width").value(run.beam_width).key("length_penalty").value(run.length_penalty);
            write_accuracy(w, run.accuracy);
            w.key("unfinished").value(unfinished_count(run));
            w.key("ms_per_sentence").value(run.ms_per_sentence);
            if (run.beam_width == 1) w.key("batched_ms_per_sentence").value(run.batched_ms_per_sentence);
            w.end_object();
        }
    w.end_array();
    w.key("exposure").begin_array();
    for (const ExposureRun& run : exposure) {
        w.begin_object(JsonWriter::Layout::line);
        w.key("teacher_forcing").value(run.teacher_forcing).key("finished").value(run.finished);
        w.key("teacher_forced_token_accuracy").value(run.forced_token_accuracy);
        w.key("teacher_forced_loss").value(run.forced_loss);
        write_accuracy(w, run.trained.accuracy);
        w.end_object();
    }
    w.end_array();
    w.end_object();
    w.finish();
    write_file_atomically(path, w.str());
}

}  // namespace stepgrad
