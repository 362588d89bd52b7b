// Exercise 05: masked softmax. <05_masked_softmax.hpp> is the learner's file or the reference
// solution, as STEPGRAD_EXERCISES chooses (tests/exercises/CMakeLists.txt).
#include <05_masked_softmax.hpp>

#include <cmath>

#include "exercise_testing.hpp"

using namespace stepgrad;
using namespace stepgrad::exercises::testing;

namespace {

// B = 4 rows of m = 5 scores; the rows' real lengths are 5, 3, 1 and 4 (1 = padding).
constexpr int B = 4, m = 5;
const std::vector<int> mask = {0, 0, 0, 0, 0,  //
                               0, 0, 0, 1, 1,  //
                               0, 1, 1, 1, 1,  //
                               0, 0, 0, 0, 1};

bool padded(int b, int i) { return mask[static_cast<std::size_t>(b * m + i)] != 0; }

}  // namespace

TEST_CASE("masked softmax: known values") {
    tape().reset();
    // row 0, positions 3 and 4 padded: α = [e¹, e²] / (e¹ + e²) then 0, 0
    // row 1, nothing padded: the plain softmax of [0, 0, 0, ln 2]
    const std::vector<double> scores = {1, 2, 3, 4, 0, 0, 0, std::log(2.0)};
    const std::vector<int> known_mask = {0, 0, 1, 1, 0, 0, 0, 0};
    const Tensor alpha = exercises::masked_softmax(constant(2, 4, scores), known_mask);
    const double a1 = 1 / (1 + std::exp(1.0));
    check_tensor(alpha, std::vector<double>{a1, 1 - a1, 0, 0, 0.2, 0.2, 0.2, 0.4}, 2, 4, "α");
}

TEST_CASE("masked softmax: α is exactly 0 at padded positions and every row sums to 1") {
    tape().reset();
    auto scores = random_parameter("scores", B, m, 1, -3.0, 3.0);
    const Tensor alpha = exercises::masked_softmax(scores->use(), mask);
    REQUIRE_MESSAGE((alpha.rows() == B && alpha.cols() == m),
                    fmt::format("α has shape ({}, {}); expected ({}, {}), the scores' shape", alpha.rows(), alpha.cols(), B, m));
    for (int b = 0; b < B; ++b) {
        double total = 0;
        for (int i = 0; i < m; ++i) {
            total += alpha.at(b, i);
            if (padded(b, i))
                CHECK_MESSAGE(alpha.at(b, i) == 0.0, fmt::format("α is not 0 at padded position ({}, {}): α = {:.6g}", b, i, alpha.at(b, i)));
            else
                CHECK_MESSAGE(alpha.at(b, i) > 0.0, fmt::format("α is {:.6g} at ({}, {}), a real (unpadded) position", alpha.at(b, i), b, i));
        }
        CHECK_MESSAGE(std::abs(total - 1) < 1e-12,
                      fmt::format("α does not sum to 1 at row {}: Σα = {:.15g} (mask before the softmax, not after)", b, total));
    }
}

TEST_CASE("masked softmax: a padded score never matters, however large or NaN") {
    tape().reset();
    auto scores = random_parameter("scores", B, m, 2, -3.0, 3.0);
    const Tensor reference = exercises::masked_softmax(scores->use(), mask);
    // garbage where the mask says padding: a padded encoder state's score can be anything
    std::vector<double> garbage = scores->value;
    for (int b = 0; b < B; ++b)
        for (int i = 0; i < m; ++i)
            if (padded(b, i)) garbage[static_cast<std::size_t>(b * m + i)] = (i % 2) ? 1e6 : std::nan("");
    const Tensor alpha = exercises::masked_softmax(constant(B, m, garbage), mask);
    check_tensor(alpha, reference, "α with padded scores of 1e6 and NaN (padded positions must take no part in the softmax)");
}

TEST_CASE("masked softmax: gradients match finite differences, and a padded score gets exactly 0") {
    auto scores = random_parameter("scores", B, m, 3, -3.0, 3.0);
    check_gradients([&] { return weighted_sum(exercises::masked_softmax(scores->use(), mask)); }, {scores.get()});
    // check_gradients leaves the analytic gradient in scores->grad
    for (int b = 0; b < B; ++b)
        for (int i = 0; i < m; ++i)
            if (padded(b, i))
                CHECK_MESSAGE(scores->grad[static_cast<std::size_t>(b * m + i)] == 0.0,
                              fmt::format("the gradient of the padded score ({}, {}) is {:.6g}; it must be exactly 0", b, i,
                                          scores->grad[static_cast<std::size_t>(b * m + i)]));
}
