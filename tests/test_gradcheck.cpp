// The gradient checker itself (gradcheck.hpp): it must fail a wrong backward, use the
// ε it is given, report every entry it checked, skip what it is told to, and leave the
// parameters as it found them. Every other test trusts it.
#include "testing.hpp"

#include <cmath>

using namespace stepgrad;
using stepgrad::testing::random_parameter;

namespace {

// y = x², with a backward that multiplies by `slope`·x: slope 2 is right, 1 forgets the 2.
Tensor square(Tensor x, double slope) {
    Tensor y = tape().record("square", x.rows(), x.cols(), {x});
    for (std::size_t i = 0; i < x.size(); ++i) y.values()[i] = x.value(i) * x.value(i);
    tape().on_backward(y, [x, slope](Tensor out) {
        for (std::size_t i = 0; i < out.size(); ++i) x.grad(i) += slope * x.value(i) * out.grad(i);
    });
    return y;
}

// L = Σ x³: the central difference is exactly 3x² + ε² (the x³ and ε³ terms cancel).
Tensor sum_of_cubes(Parameter& p) {
    const Tensor x = p.use();
    return sum(mul(mul(x, x), x));
}

// gradcheck with the parameters written in place: {x.get()}.
GradcheckReport run_gradcheck(const std::function<Tensor()>& loss, const std::vector<Parameter*>& parameters,
                              const GradcheckOptions& options = {}) {
    return gradcheck(loss, parameters, options);
}

}  // namespace

TEST_CASE("a correct backward passes, a wrong one fails and the worst entry says by how much") {
    auto x = random_parameter("x", 2, 3, 1, 0.5, 2.0);
    const GradcheckReport right = run_gradcheck([&] { return sum(square(x->use(), 2.0)); }, {x.get()});
    CHECK(right.passed(1e-8));

    const GradcheckReport wrong = run_gradcheck([&] { return sum(square(x->use(), 1.0)); }, {x.get()});
    CHECK_FALSE(wrong.passed(1e-3));
    // analytic x, numeric 2x: relative error |x − 2x| / |2x| = 0.5 at every entry
    CHECK(wrong.max_relative_error() == doctest::Approx(0.5).epsilon(1e-8));
    const GradcheckEntry* worst = wrong.worst();
    REQUIRE(worst != nullptr);
    CHECK(worst->analytic == x->value[worst->index]);
    CHECK(worst->numeric == doctest::Approx(2 * x->value[worst->index]).epsilon(1e-8));
}

TEST_CASE("the report has one entry per parameter entry, with its name, row, column and both values") {
    auto a = random_parameter("a", 2, 3, 2), b = random_parameter("b", 1, 2, 3);
    const GradcheckReport report = run_gradcheck(
        [&] { return add(sum(square(a->use(), 2.0)), sum(mul(b->use(), b->use()))); }, {a.get(), b.get()});
    REQUIRE(report.entries.size() == 6 + 2);
    for (std::size_t k = 0; k < report.entries.size(); ++k) {
        const GradcheckEntry& e = report.entries[k];
        CAPTURE(k);
        const Parameter& p = k < 6 ? *a : *b;
        CHECK(e.parameter == p.name());
        CHECK(e.index == (k < 6 ? k : k - 6));
        CHECK(e.row == static_cast<int>(e.index) / p.cols());
        CHECK(e.col == static_cast<int>(e.index) % p.cols());
        CHECK(e.analytic == p.grad[e.index]);  // the grads hold the analytic gradient afterwards
        CHECK(e.analytic == doctest::Approx(2 * p.value[e.index]).epsilon(1e-15));
        CHECK(e.numeric == doctest::Approx(e.analytic).epsilon(1e-8));
        CHECK(e.relative_error == relative_error(e.analytic, e.numeric, GradcheckOptions{}.floor));
    }
    CHECK(report.entries[4].row == 1);
    CHECK(report.entries[4].col == 1);
}

TEST_CASE("epsilon is overridable: with ε = 0.1 the central difference of x³ is 3x² + 0.01") {
    auto x = random_parameter("x", 1, 4, 4);
    for (const double epsilon : {0.1, 1e-3}) {
        CAPTURE(epsilon);
        GradcheckOptions options;
        options.epsilon = epsilon;
        const GradcheckReport report = run_gradcheck([&] { return sum_of_cubes(*x); }, {x.get()}, options);
        REQUIRE(report.entries.size() == 4);
        for (const GradcheckEntry& e : report.entries) {
            const double v = x->value[e.index];
            CHECK(e.numeric == doctest::Approx(3 * v * v + epsilon * epsilon).epsilon(1e-9));
            CHECK(e.analytic == doctest::Approx(3 * v * v).epsilon(1e-15));
        }
    }
    // the default ε = 1e-5 leaves an ε² = 1e-10 truncation error
    CHECK(GradcheckOptions{}.epsilon == 1e-5);
    CHECK(run_gradcheck([&] { return sum_of_cubes(*x); }, {x.get()}).passed(1e-8));
}

TEST_CASE("the parameters' values come back bit for bit, and their grads hold the analytic gradient") {
    auto x = random_parameter("x", 3, 3, 5);
    const std::vector<double> before = x->value;
    x->grad.assign(x->size(), 42.0);  // stale: gradcheck zeroes it first
    run_gradcheck([&] { return sum_of_cubes(*x); }, {x.get()});
    CHECK(x->value == before);
    for (std::size_t i = 0; i < x->size(); ++i) CHECK(x->grad[i] == doctest::Approx(3 * before[i] * before[i]).epsilon(1e-15));
}

TEST_CASE("skip leaves out the entries it names: relu exactly at its kink") {
    auto x = random_parameter("x", 1, 5, 6);
    x->value[2] = 0.0;  // relu has no derivative here: central differences give 0.5
    const auto relu_loss = [&] { return sum(relu(x->use())); };
    CHECK_FALSE(run_gradcheck(relu_loss, {x.get()}).passed(1e-6));

    GradcheckOptions options;
    options.skip = [](const Parameter& p, std::size_t i) { return p.value[i] == 0.0; };
    const GradcheckReport report = run_gradcheck(relu_loss, {x.get()}, options);
    REQUIRE(report.entries.size() == 4);
    for (const GradcheckEntry& e : report.entries) CHECK(e.index != 2);
    CHECK(report.passed(1e-8));
}

TEST_CASE("max_entries spreads at most that many checks evenly over a parameter") {
    auto x = random_parameter("x", 2, 5, 7);
    GradcheckOptions options;
    options.max_entries = 3;  // 10 entries: every ⌈10/3⌉ = 4th
    const GradcheckReport report = run_gradcheck([&] { return sum_of_cubes(*x); }, {x.get()}, options);
    REQUIRE(report.entries.size() == 3);
    CHECK(report.entries[0].index == 0);
    CHECK(report.entries[1].index == 4);
    CHECK(report.entries[2].index == 8);
}

TEST_CASE("relative error: the floor keeps gradients near 0 from dividing by ~0") {
    CHECK(relative_error(2.0, 1.0, 1e-4) == 0.5);
    CHECK(relative_error(-1.0, 1.0, 1e-4) == 2.0);
    CHECK(relative_error(1e-9, 0.0, 1e-4) == doctest::Approx(1e-5));  // |1e-9 − 0| / floor
    CHECK(relative_error(0.0, 0.0, 1e-4) == 0.0);
}

TEST_CASE("an empty report passes, and a loss that is not 1×1 is refused") {
    const GradcheckReport empty;
    CHECK(empty.worst() == nullptr);
    CHECK(empty.max_relative_error() == 0.0);
    CHECK(empty.passed(0.0));
    auto x = random_parameter("x", 2, 3, 8);
    CHECK_THROWS_WITH_AS(run_gradcheck([&] { return square(x->use(), 2.0); }, {x.get()}),
                         doctest::Contains("the loss must be 1×1, got (2, 3)"), ShapeError);
}
