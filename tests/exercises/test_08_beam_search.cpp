// Exercise 08: beam search instead of greedy decoding. <08_beam_search.hpp> is the learner's file
// or the reference solution, as STEPGRAD_EXERCISES chooses (tests/exercises/CMakeLists.txt).
#include <08_beam_search.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/ranges.h>

#include "stepgrad/random.hpp"
#include "exercise_testing.hpp"

using namespace stepgrad;
using namespace stepgrad::exercises::testing;

namespace {

constexpr int src_vocab = 7;

// An untrained GRU model with dot attention: its predictions are uncertain, so greedy and beam
// search often disagree, which is what these tests need.
std::unique_ptr<Seq2Seq> random_model(int tgt_vocab, std::uint64_t seed) {
    ModelConfig config;
    config.score = ScoreKind::dot;
    config.src_vocab = src_vocab;
    config.tgt_vocab = tgt_vocab;
    config.embed = config.hidden = 8;
    auto model = std::make_unique<Seq2Seq>(config);
    model->init(seed);
    return model;
}

// Sources of 2 to 5 regular tokens, then <eos>, as one-example batches.
std::vector<Batch> random_sources(int count, std::uint64_t seed) {
    Rng rng(seed);
    std::vector<Batch> batches;
    for (int k = 0; k < count; ++k) {
        Example example{{}, {Vocab::eos}};
        const int length = 2 + static_cast<int>(rng.uniform(0.0, 4.0));
        for (int t = 0; t < length; ++t) example.src.push_back(3 + static_cast<int>(rng.uniform(0.0, src_vocab - 3.0)));
        example.src.push_back(Vocab::eos);
        batches.push_back(make_batch(std::vector<Example>{example}));
    }
    return batches;
}

// log P(ids | source) = Σ_j log softmax(logits_j)[y_j], feeding the ids back in: the score beam
// search maximises, computed here independently of it.
double log_prob(Seq2Seq& model, const Batch& source, const std::vector<int>& ids) {
    tape().reset();
    const Encoded encoded = model.encode(source);
    CellState state = encoded.final;
    int input = Vocab::bos;
    double total = 0;
    for (int id : ids) {
        const DecoderStep step = model.decoder_step(encoded, state, {&input, 1});
        total += log_softmax(model.output_logits(step.features)).at(0, id);
        state = step.cell.state;
        input = id;
    }
    return total;
}

std::vector<int> greedy(Seq2Seq& model, const Batch& source, int max_length) {
    tape().reset();
    return model.greedy_decode(source, max_length).at(0);
}

std::vector<int> beam(Seq2Seq& model, const Batch& source, int width, int max_length) {
    tape().reset();
    return exercises::beam_search(model, source, width, max_length);
}

}  // namespace

TEST_CASE("beam search with width 1 is greedy decoding") {
    auto model = random_model(8, 1);
    int k = 0;
    for (const Batch& source : random_sources(12, 2)) {
        const std::vector<int> expected = greedy(*model, source, 8);
        const std::vector<int> yours = beam(*model, source, 1, 8);
        CHECK_MESSAGE(yours == expected, fmt::format("source {} {}: beam width 1 gave {} but greedy_decode gave {}", k,
                                                     source.src, yours, expected));
        ++k;
    }
}

TEST_CASE("beam search returns ids ending with <eos>, or max_length ids when <eos> never comes") {
    SUBCASE("<eos> is likely") {
        auto model = random_model(8, 3);
        model->output_b.value[Vocab::eos] += 2.0;
        for (const Batch& source : random_sources(6, 4)) {
            const std::vector<int> ids = beam(*model, source, 3, 10);
            CAPTURE(ids);
            REQUIRE_MESSAGE(!ids.empty(), "beam search returned no ids");
            CHECK_MESSAGE(ids.back() == Vocab::eos, "the result does not end with <eos> (id 2) although it is shorter than max_length");
            CHECK_MESSAGE(std::count(ids.begin(), ids.end(), Vocab::eos) == 1,
                          "<eos> appears before the end: a hypothesis that emitted <eos> is finished and must not grow");
        }
    }
    SUBCASE("<eos> is impossible") {
        auto model = random_model(8, 5);
        model->output_b.value[Vocab::eos] = -1000.0;
        for (const Batch& source : random_sources(4, 6)) {
            const std::vector<int> ids = beam(*model, source, 3, 7);
            CHECK_MESSAGE(ids.size() == 7u, fmt::format("with <eos> impossible the result should have max_length = 7 ids; got {}", ids));
        }
    }
}

TEST_CASE("a wider beam never scores below greedy, and sometimes above it") {
    auto model = random_model(8, 7);
    int better = 0, k = 0;
    for (const Batch& source : random_sources(12, 8)) {
        const std::vector<int> by_greedy = greedy(*model, source, 8);
        const double greedy_score = log_prob(*model, source, by_greedy);
        for (int width : {2, 3, 5}) {
            const std::vector<int> ids = beam(*model, source, width, 8);
            const double score = log_prob(*model, source, ids);
            CHECK_MESSAGE(score >= greedy_score - 1e-9,
                          fmt::format("source {} {}, beam width {}: log P = {:.6f} for {}, below greedy's {:.6f} for {}", k,
                                      source.src, width, score, ids, greedy_score, by_greedy));
            if (width == 5 && score > greedy_score + 1e-9) ++better;
        }
        ++k;
    }
    CHECK_MESSAGE(better > 0, "beam width 5 never found a more likely target than greedy on 12 sources: does the beam really "
                              "keep the k best hypotheses, each extended by every token?");
}

TEST_CASE("a beam as wide as every hypothesis finds the most likely target (all 5³ targets checked)") {
    // V = 5 target tokens and max_length 3: at most 5² = 25 live hypotheses, so a beam of 25
    // prunes nothing and must return the best of every possible target.
    constexpr int V = 5, max_length = 3;
    auto model = random_model(V, 11);  // on these sources greedy misses the most likely target
    int k = 0;
    for (const Batch& source : random_sources(4, 10)) {
        // every target: ended by <eos> at length 1 or 2, or of length 3 (ending in <eos> or cut off)
        std::vector<int> best;
        double best_score = -std::numeric_limits<double>::infinity();
        for (int length = 1, count = V; length <= max_length; ++length, count *= V)
            for (int code = 0; code < count; ++code) {
                std::vector<int> ids;
                for (int rest = code, j = 0; j < length; ++j, rest /= V) ids.push_back(rest % V);
                if (std::find(ids.begin(), ids.end() - 1, Vocab::eos) != ids.end() - 1) continue;  // finished earlier
                if (length < max_length && ids.back() != Vocab::eos) continue;                      // would go on
                const double score = log_prob(*model, source, ids);
                if (score > best_score) best = ids, best_score = score;
            }
        const std::vector<int> ids = beam(*model, source, V * V, max_length);
        const double score = log_prob(*model, source, ids);
        CHECK_MESSAGE(score == doctest::Approx(best_score).epsilon(1e-9),
                      fmt::format("source {} {}: beam search returned {} (log P = {:.6f}), but the most likely target is {} "
                                  "(log P = {:.6f})", k, source.src, ids, score, best, best_score));
        ++k;
    }
}
