// Exercise 12: fix the bug in the decoder's first input. <12_first_input_eos.hpp> is the learner's file
// or the reference solution, as STEPGRAD_EXERCISES chooses (tests/exercises/CMakeLists.txt).
#include <12_first_input_eos.hpp>

#include <fmt/ranges.h>

#include "exercise_testing.hpp"
#include "stepgrad/tasks.hpp"
#include "stepgrad/train.hpp"

using namespace stepgrad;
using namespace stepgrad::exercises::testing;

namespace {

// `reverse` sources of 3–6 symbols, and a model for them.
struct Setup {
    TaskGenerator task{TaskConfig{"reverse", 3, 6, 6, 9}, 40};
    std::unique_ptr<Seq2Seq> model;
    explicit Setup(std::uint64_t seed, const char* decoder = "bahdanau", int size = 8) {
        ModelConfig config;
        config.decoder = parse_decoder_kind(decoder);
        config.score = config.decoder == DecoderKind::plain ? ScoreKind::none : ScoreKind::concat;
        config.src_vocab = task.src_vocab().size();
        config.tgt_vocab = task.tgt_vocab().size();
        config.embed = config.hidden = config.attn = size;
        model = std::make_unique<Seq2Seq>(config);
        model->init(seed);
    }
};

std::vector<int> greedy(Seq2Seq& model, const Example& example, int max_length) {
    tape().reset();
    return model.greedy_decode(make_batch(std::vector<Example>{example}), max_length).front();
}

std::vector<int> yours(Seq2Seq& model, const Example& example, int max_length) {
    tape().reset();
    return exercises::translate(model, example.src, max_length);
}

}  // namespace

TEST_CASE("first input: the decoder never reads <eos>, so tgt_embed[<eos>] cannot change what it writes") {
    Setup s(1);
    std::vector<std::vector<int>> before;
    for (const Example& e : s.task.held_out()) before.push_back(yours(*s.model, e, 9));
    for (int k = 0; k < s.model->tgt_embed.cols(); ++k)  // another embedding for <eos>
        s.model->tgt_embed.value[static_cast<std::size_t>(Vocab::eos * s.model->tgt_embed.cols() + k)] += 3.0;
    for (std::size_t k = 0; k < before.size(); ++k) {
        const std::vector<int> after = yours(*s.model, s.task.held_out()[k], 9);
        CHECK_MESSAGE(after == before[k], fmt::format("source {}: you wrote {}, then {} after changing only the embedding of "
                                                      "<eos>: the decoder read <eos> as an input (its first input is <bos>)",
                                                      s.task.held_out()[k].src, before[k], after));
    }
}

TEST_CASE("first input: the sentences written are greedy_decode's, for every decoder") {
    for (const char* decoder : {"plain", "bahdanau", "luong"}) {
        INFO("decoder ", decoder);
        Setup s(2, decoder);
        for (const Example& e : s.task.held_out()) {
            const std::vector<int> expected = greedy(*s.model, e, 9);
            const std::vector<int> got = yours(*s.model, e, 9);
            CHECK_MESSAGE(got == expected, fmt::format("source {}: yours {}, greedy_decode {}", e.src, got, expected));
        }
    }
}

TEST_CASE("first input: a briefly trained model gets as many held-out sentences right as greedy_decode") {
    Setup s(3, "bahdanau", 16);
    TrainOptions options;
    options.steps = 500;
    options.batch_size = 16;
    options.progress = false;
    train(*s.model, s.task, options);
    int right = 0, greedy_right = 0;
    for (const Example& e : s.task.held_out()) {
        right += yours(*s.model, e, 9) == e.tgt;
        greedy_right += greedy(*s.model, e, 9) == e.tgt;
    }
    CHECK_MESSAGE(right == greedy_right,
                  fmt::format("you get {} of {} held-out sentences right, greedy_decode {}: the first step reads y_0, "
                              "which must be <bos> as in training",
                              right, s.task.held_out().size(), greedy_right));
}
