// Attention (attention.hpp, SPEC §4): each score against its formula on numbers small
// enough to check by hand, each score's gradient through attend() against central
// differences, and the masking of padded source positions.
#include "testing.hpp"

#include <cmath>
#include <string_view>

#include "stepgrad/attention.hpp"

using namespace stepgrad;
using namespace stepgrad::testing;

namespace {

const ScoreKind score_kinds[] = {ScoreKind::concat, ScoreKind::dot, ScoreKind::general, ScoreKind::qk,
                                 ScoreKind::qk_scaled};

// The hand-checked example, H = 2, one sentence of m = 2:
//   h_1 = (1, 0)   h_2 = (0, 2)   s = (0.5, −1)
const std::vector<double> h_1{1, 0}, h_2{0, 2}, s{0.5, -1};

void set_parameter(Score& score, std::string_view name, std::vector<double> values) {
    for (Parameter* p : score.parameters())
        if (p->name() == name) {
            REQUIRE(p->size() == values.size());
            p->value = std::move(values);
            return;
        }
    FAIL("the score has no parameter ", name);
}

// Attends from s over h_1, h_2 and checks what every score shares:
// α = softmax(e) and c = α_1 h_1 + α_2 h_2. Returns the step (valid until the next reset).
AttentionStep attend_by_hand(Score& score) {
    tape().reset();
    const std::vector<double> states{h_1[0], h_1[1], h_2[0], h_2[1]};  // H as blocks: (1, m·H)
    const AttentionKeys keys = prepare_attention(score, constant(1, 4, states), 2);
    const AttentionStep step = attend(score, keys, constant(1, 2, s), {});
    const double e_1 = step.scores.at(0, 0), e_2 = step.scores.at(0, 1);
    const double alpha_1 = std::exp(e_1) / (std::exp(e_1) + std::exp(e_2)), alpha_2 = 1 - alpha_1;
    check_close(step.alpha.row(0), {alpha_1, alpha_2}, "alpha = softmax(e)", 1e-15);
    check_close(step.context.row(0), {alpha_1 * h_1[0] + alpha_2 * h_2[0], alpha_1 * h_1[1] + alpha_2 * h_2[1]},
                "c = alpha_1 h_1 + alpha_2 h_2", 1e-15);
    return step;
}

}  // namespace

TEST_CASE("dot: e_i = sᵀ h_i") {
    auto score = make_score(ScoreKind::dot, 2, 2);
    const AttentionStep step = attend_by_hand(*score);
    check_close(step.query.row(0), s, "query s", 0);
    // e_1 = 0.5·1 − 1·0 = 0.5,  e_2 = 0.5·0 − 1·2 = −2
    check_close(step.scores.row(0), {0.5, -2}, "e", 0);
}

TEST_CASE("general: e_i = sᵀ W h_i") {
    auto score = make_score(ScoreKind::general, 2, 2);
    set_parameter(*score, "attention.W", {1, 2,
                                          0, 1});
    const AttentionStep step = attend_by_hand(*score);
    // the query sᵀW = (0.5, 0.5·2 − 1) = (0.5, 0), once per step
    check_close(step.query.row(0), {0.5, 0}, "query sᵀW", 0);
    // W h_1 = (1, 0): e_1 = 0.5;  W h_2 = (4, 2): e_2 = 0.5·4 − 1·2 = 0
    check_close(step.scores.row(0), {0.5, 0}, "e", 0);
}

TEST_CASE("qk: k_i = W_K h_i, q = W_Q s, e_i = k_iᵀ q") {
    auto score = make_score(ScoreKind::qk, 2, 4);
    set_parameter(*score, "attention.W_K", {1, 0,  1, 1,  0, 1,  1, 0});
    set_parameter(*score, "attention.W_Q", {2, 0,  0, 1,  1, 0,  0, 0});
    const AttentionStep step = attend_by_hand(*score);
    check_close(step.query.row(0), {1, -1, 0.5, 0}, "query q = W_Q s", 0);
    // k_1 = (1, 1, 0, 1): e_1 = 1 − 1 + 0 + 0 = 0;  k_2 = (0, 2, 2, 0): e_2 = −2 + 1 = −1
    check_close(step.scores.row(0), {0, -1}, "e", 0);
}

TEST_CASE("qk-scaled: qk's e_i divided by √A") {
    auto score = make_score(ScoreKind::qk_scaled, 2, 4);
    set_parameter(*score, "attention.W_K", {1, 0,  1, 1,  0, 1,  1, 0});
    set_parameter(*score, "attention.W_Q", {2, 0,  0, 1,  1, 0,  0, 0});
    const AttentionStep step = attend_by_hand(*score);
    check_close(step.scores.row(0), {0, -0.5}, "e: qk's (0, −1) over √4 = 2", 0);
}

TEST_CASE("concat: e_i = vᵀ tanh(W [h_i; s])") {
    auto score = make_score(ScoreKind::concat, 2, 2);
    set_parameter(*score, "attention.W", {1, 0, 0, 1,
                                          0, 1, 1, 0});
    set_parameter(*score, "attention.v", {1, -1});
    const AttentionStep step = attend_by_hand(*score);
    // W = [W_h W_s]: the query W_s s = (−1, 0.5)
    check_close(step.query.row(0), {-1, 0.5}, "query W_s s", 0);
    // W [h_1; s] = (1 − 1, 0 + 0.5) = (0, 0.5);  W [h_2; s] = (0 − 1, 2 + 0.5) = (−1, 2.5)
    check_close(step.scores.row(0), {std::tanh(0.0) - std::tanh(0.5), std::tanh(-1.0) - std::tanh(2.5)}, "e", 1e-15);
}

namespace {
// The gradient through attend() of every parameter, key and query: B = 2 sentences, m = 3,
// keys H_k wide, queries H wide, A = 2; the last position of sentence 2 is padding.
void check_attend_gradients(ScoreKind kind, int H_k, int H) {
    INFO(score_kind_name(kind), " H_k = ", H_k, " H = ", H);
    const std::vector<int> source_mask{0, 0, 0, 0, 0, 1};
    auto score = make_score(kind, H_k, H, 2);
    Rng rng(3);
    score->init(rng);
    auto states = random_parameter("H", 2, 3 * H_k, 4), query = random_parameter("s", 2, H, 5);
    std::vector<Parameter*> parameters = score->parameters();
    parameters.push_back(states.get());
    parameters.push_back(query.get());
    require_gradients(
        [&] {
            const AttentionKeys keys = prepare_attention(*score, states->use(), 3);
            const AttentionStep step = attend(*score, keys, query->use(), source_mask);
            CHECK(step.context.cols() == H_k);  // c is as wide as the keys
            return add(weighted_sum(step.context, 1), weighted_sum(step.alpha, 2));
        },
        parameters, 1e-6);
}
}  // namespace

TEST_CASE("each score's gradient through attend(), two sentences, one of them padded") {
    for (const ScoreKind kind : score_kinds) check_attend_gradients(kind, 3, 3);
}

TEST_CASE("alpha rows sum to 1 for every score, and padded positions get exactly 0") {
    // B = 3 sentences of lengths 4, 2 and 1 in an m = 4 batch; H = 3, A = 2.
    const std::vector<int> source_mask{0, 0, 0, 0,  0, 0, 1, 1,  0, 1, 1, 1};
    for (const ScoreKind kind : score_kinds) {
        INFO(score_kind_name(kind));
        auto score = make_score(kind, 3, 2);
        Rng rng(11);
        score->init(rng);
        auto states = random_parameter("H", 3, 12, 12, -3, 3), query = random_parameter("s", 3, 3, 13, -3, 3);
        tape().reset();
        const AttentionKeys keys = prepare_attention(*score, states->use(), 4);
        const AttentionStep step = attend(*score, keys, query->use(), source_mask);
        for (int b = 0; b < 3; ++b) {
            CAPTURE(b);
            double total = 0;
            for (int i = 0; i < 4; ++i) {
                if (source_mask[static_cast<std::size_t>(b * 4 + i)]) CHECK(step.alpha.at(b, i) == 0.0);
                total += step.alpha.at(b, i);
            }
            CHECK(total == doctest::Approx(1.0).epsilon(1e-14));
        }
    }
}

TEST_CASE("each score's parameters have SPEC §4's names and shapes") {
    const int H = 3, A = 5;
    auto shapes = [&](ScoreKind kind) {
        const auto score = make_score(kind, H, A);
        std::vector<std::string> out;
        for (const Parameter* p : score->parameters())
            out.push_back(fmt::format("{} {}x{}{}", p->name(), p->rows(), p->cols(), p->is_vector() ? " vector" : ""));
        return out;
    };
    CHECK(shapes(ScoreKind::concat) == std::vector<std::string>{"attention.W 5x6", "attention.v 1x5 vector"});
    CHECK(shapes(ScoreKind::dot).empty());
    CHECK(shapes(ScoreKind::general) == std::vector<std::string>{"attention.W 3x3"});
    CHECK(shapes(ScoreKind::qk) == std::vector<std::string>{"attention.W_K 5x3", "attention.W_Q 5x3"});
    CHECK(shapes(ScoreKind::qk_scaled) == shapes(ScoreKind::qk));
    CHECK_THROWS_WITH(make_score(ScoreKind::none, H, A), "make_score: the plain decoder has no score");
}

TEST_CASE("keys wider than the query (a bidirectional encoder's H_k = 2H): SPEC 11's shapes") {
    const int H_k = 6, H = 3, A = 5;
    auto shapes = [&](ScoreKind kind) {
        const auto score = make_score(kind, H_k, H, A);
        std::vector<std::string> out;
        for (const Parameter* p : score->parameters()) out.push_back(fmt::format("{} {}x{}", p->name(), p->rows(), p->cols()));
        return out;
    };
    CHECK(shapes(ScoreKind::concat) == std::vector<std::string>{"attention.W 5x9", "attention.v 1x5"});  // A × (H_k + H)
    CHECK(shapes(ScoreKind::general) == std::vector<std::string>{"attention.W 3x6"});                    // H × H_k
    CHECK(shapes(ScoreKind::qk) == std::vector<std::string>{"attention.W_K 5x6", "attention.W_Q 5x3"});
    CHECK_THROWS_WITH(make_score(ScoreKind::dot, H_k, H, A), doctest::Contains("use general or qk"));
}

TEST_CASE("each score's gradient with keys wider than the query (H_k = 2H), one sentence padded") {
    for (const ScoreKind kind : {ScoreKind::concat, ScoreKind::general, ScoreKind::qk, ScoreKind::qk_scaled})
        check_attend_gradients(kind, 4, 2);
}

TEST_CASE("score names parse and print back, and an unknown one lists the allowed") {
    for (const ScoreKind kind : score_kinds) {
        CHECK(parse_score_kind(score_kind_name(kind)) == kind);
        CHECK(make_score(kind, 2, 2)->kind() == kind);
    }
    CHECK(std::string(score_kind_name(ScoreKind::qk_scaled)) == "qk-scaled");
    CHECK_THROWS_WITH(parse_score_kind("cosine"), doctest::Contains("unknown score 'cosine' (allowed: concat, dot, general, qk, qk-scaled)"));
}
