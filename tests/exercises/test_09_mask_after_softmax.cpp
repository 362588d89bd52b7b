// Exercise 09: fix the bug in attention over a padded batch. <09_mask_after_softmax.hpp> is the
// learner's file or the reference solution, as STEPGRAD_EXERCISES chooses (tests/exercises/CMakeLists.txt).
#include <09_mask_after_softmax.hpp>

#include <cmath>

#include "exercise_testing.hpp"
#include "stepgrad/seq2seq.hpp"

using namespace stepgrad;
using namespace stepgrad::exercises::testing;

namespace {

// Three sources of 5, 3 and 2 tokens: the last two are padded in a batch.
const std::vector<Example> examples = {{{3, 4, 5, 6, 2}, {4, 2}}, {{6, 3, 2}, {5, 2}}, {{4, 2}, {2}}};

std::unique_ptr<Seq2Seq> attention_model(const char* score, std::uint64_t seed) {
    ModelConfig config;
    config.score = parse_score_kind(score);
    config.src_vocab = 7;
    config.tgt_vocab = 6;
    config.embed = 4;
    config.hidden = 5;
    config.attn = 3;
    auto model = std::make_unique<Seq2Seq>(config);
    model->init(seed);
    return model;
}

// Attention of the learner's function for a batch of `chosen` examples, queried with s_0 = h_m.
AttentionStep attention_of(Seq2Seq& model, const std::vector<Example>& chosen) {
    const Encoded encoded = model.encode(make_batch(chosen));
    return exercises::attend_padded(*model.score, encoded.attention, encoded.final.h, encoded.source_mask);
}

}  // namespace

TEST_CASE("padded attention: each sentence gets the α and context it gets alone") {
    auto model = attention_model("concat", 1);
    tape().reset();
    const AttentionStep batched = attention_of(*model, examples);
    const int m = batched.alpha.cols();
    for (std::size_t b = 0; b < examples.size(); ++b) {
        const AttentionStep alone = attention_of(*model, {examples[b]});  // no padding at all
        const int length = static_cast<int>(examples[b].src.size());
        std::vector<double> row = batched.alpha.row(static_cast<int>(b));
        for (int i = length; i < m; ++i)
            CHECK_MESSAGE(row[static_cast<std::size_t>(i)] == 0.0, fmt::format("α of example {} is {:.6g} at padded position {}", b, row[static_cast<std::size_t>(i)], i));
        row.resize(static_cast<std::size_t>(length));
        check_tensor(constant(1, length, row), alone.alpha, fmt::format("α of example {} in the batch (its real positions)", b), 1e-12);
        check_tensor(constant(1, batched.context.cols(), batched.context.row(static_cast<int>(b))), alone.context,
                     fmt::format("the context c of example {} in the batch", b), 1e-12);
    }
}

TEST_CASE("padded attention: every row of α sums to 1") {
    auto model = attention_model("general", 2);
    tape().reset();
    const AttentionStep step = attention_of(*model, examples);
    for (int b = 0; b < step.alpha.rows(); ++b) {
        double total = 0;
        for (double a : step.alpha.row(b)) total += a;
        CHECK_MESSAGE(std::abs(total - 1) < 1e-12,
                      fmt::format("Σ_i α_{{{},i}} = {:.15g}: the padded positions still sit in the softmax's denominator",
                                  b, total));
    }
}

TEST_CASE("padded attention: the same α and context as the library's attend(), for every score") {
    for (const char* score : {"concat", "dot", "general", "qk", "qk-scaled"}) {
        INFO("score ", score);
        auto model = attention_model(score, 3);
        tape().reset();
        const Encoded encoded = model->encode(make_batch(examples));
        const AttentionStep yours = exercises::attend_padded(*model->score, encoded.attention, encoded.final.h, encoded.source_mask);
        const AttentionStep library = attend(*model->score, encoded.attention, encoded.final.h, encoded.source_mask);
        check_tensor(yours.alpha, library.alpha, "α");
        check_tensor(yours.context, library.context, "c");
    }
}
