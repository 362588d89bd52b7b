// Exercise 11: fix the bug that leaves teacher forcing on at evaluation. <11_eval_teacher_forced.hpp>
// is the learner's file or the reference solution, as STEPGRAD_EXERCISES chooses
// (tests/exercises/CMakeLists.txt).
#include <11_eval_teacher_forced.hpp>

#include <fmt/ranges.h>

#include "exercise_testing.hpp"
#include "stepgrad/tasks.hpp"
#include "stepgrad/train.hpp"

using namespace stepgrad;
using namespace stepgrad::exercises::testing;

namespace {

// `reverse` sources of 3–6 symbols, and a model for them.
struct Setup {
    TaskGenerator task{TaskConfig{"reverse", 3, 6, 6, 7}, 60};
    std::unique_ptr<Seq2Seq> model;
    explicit Setup(std::uint64_t seed) {
        ModelConfig config;
        config.src_vocab = task.src_vocab().size();
        config.tgt_vocab = task.tgt_vocab().size();
        config.embed = config.hidden = config.attn = 8;
        model = std::make_unique<Seq2Seq>(config);
        model->init(seed);
    }
};

// Target tokens and whole sequences right, as evaluate() counts them.
Accuracy scored(const std::vector<Example>& examples, const std::vector<std::vector<int>>& predictions) {
    long tokens = 0, tokens_right = 0, right = 0;
    for (std::size_t k = 0; k < examples.size(); ++k) {
        const std::vector<int>& target = examples[k].tgt;
        for (std::size_t j = 0; j < target.size(); ++j) tokens_right += j < predictions[k].size() && predictions[k][j] == target[j];
        tokens += static_cast<long>(target.size());
        right += predictions[k] == target;
    }
    Accuracy a;
    a.token_accuracy = static_cast<double>(tokens_right) / static_cast<double>(tokens);
    a.sequence_accuracy = static_cast<double>(right) / static_cast<double>(examples.size());
    return a;
}

}  // namespace

TEST_CASE("evaluation: the predictions do not change when only the batch's targets change") {
    Setup s(1);
    std::vector<Example> examples = s.task.held_out();
    std::vector<Example> other_targets = examples;
    for (Example& e : other_targets) e.tgt = {4, 5, 4, 5, 4, 5, 4, 2};  // the same sources, other targets
    tape().reset();
    const auto yours = exercises::predict(*s.model, make_batch(examples), 8);
    tape().reset();
    const auto with_other_targets = exercises::predict(*s.model, make_batch(other_targets), 8);
    for (std::size_t k = 0; k < examples.size(); ++k)
        CHECK_MESSAGE(yours[k] == with_other_targets[k],
                      fmt::format("source {}: you predicted {}, but {} once only the targets in the batch changed: at "
                                  "evaluation the decoder must read its own previous token, never the target's",
                                  examples[k].src, yours[k], with_other_targets[k]));
}

TEST_CASE("evaluation: the predictions are greedy_decode's, each fed its own previous token") {
    Setup s(2);
    const Batch batch = make_batch(s.task.held_out());
    tape().reset();
    const auto yours = exercises::predict(*s.model, batch, 8);
    tape().reset();
    const auto greedy = s.model->greedy_decode(batch, 8);
    for (std::size_t k = 0; k < greedy.size(); ++k)
        CHECK_MESSAGE(yours[k] == greedy[k], fmt::format("example {}: yours {}, greedy_decode {}", k, yours[k], greedy[k]));
}

TEST_CASE("evaluation: a briefly trained model is scored as evaluate() scores it, not better") {
    Setup s(3);
    TrainOptions options;
    options.steps = 120;
    options.batch_size = 16;
    options.progress = false;
    train(*s.model, s.task, options);
    const std::vector<Example>& held_out = s.task.held_out();
    tape().reset();
    const Accuracy yours = scored(held_out, exercises::predict(*s.model, make_batch(held_out), 8));
    const Accuracy honest = evaluate(*s.model, held_out);
    const std::string verdict = fmt::format("you report {:.1f}% of tokens and {:.1f}% of whole sequences right, evaluate() "
                                            "{:.1f}% and {:.1f}%: too good to be true means the decoder was shown the answer",
                                            100 * yours.token_accuracy, 100 * yours.sequence_accuracy,
                                            100 * honest.token_accuracy, 100 * honest.sequence_accuracy);
    CHECK_MESSAGE(yours.token_accuracy == honest.token_accuracy, verdict);
    CHECK_MESSAGE(yours.sequence_accuracy == honest.sequence_accuracy, verdict);
}
