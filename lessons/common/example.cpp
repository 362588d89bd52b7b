// The traced example, its --json trace and its --svg picture (see example.hpp).
#include "common/example.hpp"

#include <span>

#include <fmt/ranges.h>

#include "common/printing.hpp"  // defines: alignment_heatmap
#include "stepgrad/decode.hpp"  // defines: beam_search
#include "stepgrad/support/files.hpp"
#include "stepgrad/support/svg.hpp"
#include "stepgrad/support/text.hpp"  // defines: split_words
#include "stepgrad/tensor.hpp"

namespace stepgrad {

namespace {

// "segmented: 我 | 爱 | 中国", when the vocabulary split a chunk typed without spaces.
void print_segmentation(const Vocab& vocab, const std::string& sentence, Printer& out) {
    if (vocab.level != Vocab::Level::word) return;
    const std::vector<std::string> tokens = vocab.segment(sentence);
    if (tokens.size() != split_words(sentence).size()) out.line("segmented: {}", fmt::join(tokens, " | "));
}

// What the model writes for `source` on its own, its <eos> included: greedy decoding (its
// argmax fed back) or, with --beam K > 1, beam search. Resets the tape.
std::vector<int> model_output(Model& model, const std::vector<int>& source, const LessonFlags& f) {
    const int max_length = 2 * static_cast<int>(source.size()) + 2;
    tape().reset();
    std::vector<int> written;
    if (f.beam == 1) {
        const Example example{source, {Vocab::eos}};  // greedy decoding reads only the source
        written = model.greedy_decode(make_batch(std::span<const Example>(&example, 1)), max_length).front();
    } else {
        written = beam_search(model, source, f.beam, max_length, f.length_penalty).ids;
    }
    tape().reset();
    return written;
}

// What the model writes for the example's source, and whether that is the answer.
void print_model_output(const Example& example, const LessonFlags& f, Model& model, const TaskGenerator& task,
                        Printer& out) {
    const Vocab& tgt_vocab = task.tgt_vocab();
    const std::vector<int> written = model_output(model, example.src, f);
    const std::vector<int> words(written.begin(), written.end() - (!written.empty() && written.back() == Vocab::eos));
    const std::vector<int> answer(example.tgt.begin(), example.tgt.end() - 1);  // without its <eos>
    out.text(fmt::format("The model writes ({}): \"{}\" — {}.",
                         f.beam == 1 ? "greedy" : decoding_words(evaluate_options(f, task)), tgt_vocab.decode(words),
                         words == answer ? "the answer" : fmt::format("wrong: the answer is \"{}\"", tgt_vocab.decode(answer))));
}

}  // namespace

Example traced_example(const LessonFlags& flags, Trained& trained, Printer& out) {
    return traced_example(flags, *trained.model, *trained.task, out);
}

Example traced_example(const LessonFlags& flags, Model& model, const TaskGenerator& task, Printer& out) {
    if (flags.sentence.empty()) return task.held_out().front();
    print_segmentation(task.src_vocab(), flags.sentence, out);
    Example example;
    example.src = task.src_vocab().encode(flags.sentence);
    try {
        example = task_answer(task, example.src);  // the target and its gold alignment
        out.text("Your sentence, with the task's answer as the target the decoder is scored on.");
        print_model_output(example, flags, model, task, out);
    } catch (const TaskError& e) {
        // No reference answer: trace what the model itself writes, fed back step by step.
        example.tgt = model_output(model, example.src, flags);
        if (example.tgt.empty() || example.tgt.back() != Vocab::eos) example.tgt.push_back(Vocab::eos);
        out.text(fmt::format("Your sentence has no reference answer ({}), so the target below is the model's own "
                             "{} output, and the loss measures how sure it was of it.",
                             e.what(), flags.beam == 1 ? "greedy" : "beam search's"));
    }
    return example;
}

void write_lesson_trace(const LessonFlags& flags, std::string_view lesson, Trained& trained, const TraceRun& run) {
    if (flags.json.empty()) return;
    EvalSummary eval{trained.task->config().name, trained.accuracy.examples, trained.accuracy.token_accuracy,
                     trained.accuracy.sequence_accuracy, {}, {}};
    if (trained.alignment && trained.alignment->aligned_tokens > 0) {
        eval.alignment_accuracy = trained.alignment->accuracy;
        eval.alignment_accuracy_shifted = trained.alignment->shifted_accuracy;
    }
    write_file_atomically(flags.json, seq2seq_trace(lesson, *trained.model, trained.task->src_vocab(),
                                                    trained.task->tgt_vocab(), run, &eval));
}

void write_lesson_svg(const LessonFlags& flags, std::string_view lesson, const Trained& trained, const TraceRun& run) {
    if (flags.svg.empty()) return;
    Heatmap alpha = alignment_heatmap(run, trained.task->src_vocab(), trained.task->tgt_vocab());
    const ModelConfig& c = trained.model->config();
    alpha.title = fmt::format("{} {}/{} on '{}', {:.1f}% of held-out sequences right", cell_kind_name(c.cell),
                              decoder_kind_name(c.decoder), score_kind_name(c.score), trained.task->config().name,
                              100 * trained.accuracy.sequence_accuracy);
    write_file_atomically(flags.svg, heatmap_svg(fmt::format("{} · α: target tokens down, source tokens across", lesson),
                                                 "α", {alpha}));
}

}  // namespace stepgrad
