// Exercise 06: Luong's general score on blocks. <06_general_score.hpp> is the learner's file or
// the reference solution, as STEPGRAD_EXERCISES chooses (tests/exercises/CMakeLists.txt).
#include <06_general_score.hpp>

#include "stepgrad/attention.hpp"
#include "exercise_testing.hpp"

using namespace stepgrad;
using namespace stepgrad::exercises::testing;

namespace {

// One example, m = 3 states of H = 2: h_1 = (1, 2), h_2 = (3, −1), h_3 = (0, 4); s = (2, 5).
const std::vector<double> states_1x3 = {1, 2, 3, -1, 0, 4};
const std::vector<double> s_1 = {2, 5};

Tensor score_of(const std::vector<double>& W) {
    tape().reset();
    return exercises::general_score(constant(1, 6, states_1x3), constant(1, 2, s_1), constant(2, 2, W));
}

}  // namespace

TEST_CASE("general score with W = I is the dot score: e_i = sᵀ h_i") {
    // sᵀ h_1 = 2 + 10, sᵀ h_2 = 6 − 5, sᵀ h_3 = 0 + 20
    check_tensor(score_of({1, 0, 0, 1}), std::vector<double>{12, 1, 20}, 1, 3, "e with W = I (expected sᵀ h_i)");
}

TEST_CASE("general score with W = [[0, 1], [0, 0]]: e_i = s_1 · h_{i,2}, not s_2 · h_{i,1}") {
    // sᵀ W h = s_1 (W h)_1 = s_1 h_{i,2};  the transposed sᵀ Wᵀ h would give s_2 h_{i,1}
    check_tensor(score_of({0, 1, 0, 0}), std::vector<double>{4, -2, 8}, 1, 3,
                 "e with W = [[0, 1], [0, 0]] (expected s_1·h_{i,2} = 2·(2, −1, 4); getting 5·(1, 3, 0) means W is transposed)");
}

TEST_CASE("general score equals stepgrad's general Score on a random batch") {
    constexpr int B = 3, m = 4, H = 5;
    auto states = random_parameter("H", B, m * H, 1);
    auto s = random_parameter("s", B, H, 2);
    auto W = random_parameter("W", H, H, 3);
    auto score = make_score(ScoreKind::general, H, H);
    score->parameters()[0]->value = W->value;
    tape().reset();
    const Tensor yours = exercises::general_score(states->use(), s->use(), W->use());
    const AttentionKeys keys = prepare_attention(*score, states->use(), m);
    const Tensor theirs = score->scores(keys.keys, score->query(s->use()));
    check_tensor(yours, theirs, "e compared with stepgrad's general Score");
}

TEST_CASE("general score: gradients of W, s and the states match finite differences") {
    constexpr int B = 2, m = 3, H = 4;
    auto states = random_parameter("H", B, m * H, 4);
    auto s = random_parameter("s", B, H, 5);
    auto W = random_parameter("W", H, H, 6);
    check_gradients([&] { return weighted_sum(exercises::general_score(states->use(), s->use(), W->use())); },
                    {W.get(), s.get(), states.get()});
}
