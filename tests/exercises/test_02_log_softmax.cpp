// Exercise 02: log-softmax as a new op on the tape. <02_log_softmax.hpp> is the learner's file or
// the reference solution, as STEPGRAD_EXERCISES chooses (tests/exercises/CMakeLists.txt).
#include <02_log_softmax.hpp>

#include <cmath>

#include "exercise_testing.hpp"

using namespace stepgrad;
using namespace stepgrad::exercises::testing;

TEST_CASE("log_softmax: known values, recorded on the tape as one op named \"log_softmax\"") {
    tape().reset();
    // row 0: [1, 2, 3] − ln(e + e² + e³);  row 1: three equal scores, each −ln 3
    const std::vector<double> x_values = {1, 2, 3, 0, 0, 0};
    const Tensor y = exercises::log_softmax(constant(2, 3, x_values));
    const double l0 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
    const std::vector<double> expected = {1 - l0, 2 - l0, 3 - l0, -std::log(3.0), -std::log(3.0), -std::log(3.0)};
    check_tensor(y, expected, 2, 3, "log_softmax([[1, 2, 3], [0, 0, 0]])");
    CHECK_MESSAGE(std::string(y.op()) == "log_softmax",
                  fmt::format("the result's op is '{}': record a new op with tape().record(\"log_softmax\", rows, cols, {{x}}) "
                              "instead of composing existing ops", y.op()));
}

TEST_CASE("log_softmax: e^y sums to 1 in every row, even for scores of ±1000") {
    tape().reset();
    // e^1000 overflows a double: the row max must come out before exp
    const std::vector<double> x_values = {1000, 1001, 999, -1000, -1002, -1001, 0.5, -0.25, 2};
    const Tensor y = exercises::log_softmax(constant(3, 3, x_values));
    REQUIRE(y.rows() == 3);
    REQUIRE(y.cols() == 3);
    for (int r = 0; r < 3; ++r) {
        double total = 0;
        for (int c = 0; c < 3; ++c) {
            CHECK_MESSAGE(std::isfinite(y.at(r, c)), fmt::format("y at ({}, {}) is {} for x = {}: subtract the row max "
                                                                 "before exp (e^x overflows at x ≈ 710)", r, c, y.at(r, c),
                                                                 x_values[static_cast<std::size_t>(3 * r + c)]));
            total += std::exp(y.at(r, c));
        }
        CHECK_MESSAGE(std::abs(total - 1) < 1e-12, fmt::format("e^y does not sum to 1 at row {}: Σ e^y = {:.15g}", r, total));
    }
    check_tensor(y, stepgrad::log_softmax(constant(3, 3, x_values)), "log_softmax (compared with stepgrad's)");
}

TEST_CASE("log_softmax: backward matches finite differences") {
    // L = Σ r ⊙ log_softmax(x) with fixed random r: every entry gets its own upstream gradient
    auto x = random_parameter("x", 3, 4, 1, -2.0, 2.0);
    check_gradients([&] { return weighted_sum(exercises::log_softmax(x->use())); }, {x.get()});
}

TEST_CASE("log_softmax: backward adds to x's gradient (+=), so x may also feed another op") {
    // x feeds log_softmax and tanh. tanh's backward runs first (it was recorded last); a
    // backward that assigns (=) to x.grads() instead of adding would erase tanh's share.
    auto x = random_parameter("x", 2, 3, 2, -2.0, 2.0);
    check_gradients(
        [&] {
            const Tensor xt = x->use();
            const Tensor y = exercises::log_softmax(xt);
            return add(weighted_sum(y, 3), weighted_sum(stepgrad::tanh(xt), 4));
        },
        {x.get()});
}
