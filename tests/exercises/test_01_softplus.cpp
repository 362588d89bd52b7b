// Exercise 01: softplus for the scalar engine. <01_softplus.hpp> is the learner's file or the
// reference solution, as STEPGRAD_EXERCISES chooses (tests/exercises/CMakeLists.txt).
#include <01_softplus.hpp>

#include <cmath>

#include "exercise_testing.hpp"

using namespace stepgrad;
using namespace stepgrad::exercises::testing;
using stepgrad::exercises::softplus;

namespace {
double sigma(double x) { return 1 / (1 + std::exp(-x)); }
}  // namespace

TEST_CASE("softplus: known values, and the slope σ(a) that backward() reads") {
    // softplus(a) = ln(1 + eᵃ);  d/da = σ(a)
    const struct {
        double a, value;
    } known[] = {{0.0, std::log(2.0)}, {2.0, 2.1269280110429727}, {-3.0, 0.04858735157374206}, {0.5, 0.9740769841801067}};
    for (const auto& row : known) {
        const double a = row.a, expected = row.value;
        CAPTURE(a);
        Value x(a, "a");
        Value y = softplus(x);
        CHECK_MESSAGE(y.data() == doctest::Approx(expected).epsilon(1e-12),
                      fmt::format("softplus({}) should be ln(1 + e^{}) = {:.12g}; yours gives {:.12g}", a, a, expected, y.data()));
        y.backward();
        CHECK_MESSAGE(x.grad() == doctest::Approx(sigma(a)).epsilon(1e-12),
                      fmt::format("d softplus/da at a = {} should be σ({}) = {:.12g}; backward() gave {:.12g} "
                                  "(is the local derivative in from_op's {{{{a, derivative}}}} right?)",
                                  a, a, sigma(a), x.grad()));
    }
}

TEST_CASE("softplus is one node named \"softplus\" whose only input is a") {
    Value a(0.3, "a");
    const Value y = softplus(a);
    CHECK_MESSAGE(y.op() == "softplus", fmt::format("the node's op is '{}': build it with Value::from_op(value, \"softplus\", {{{{a, derivative}}}}) "
                                                    "rather than from exp, + and log", y.op()));
    const std::vector<Input> inputs = y.inputs();
    REQUIRE_MESSAGE(inputs.size() == 1, fmt::format("the node has {} inputs; softplus has one, a", inputs.size()));
    CHECK_MESSAGE(inputs[0].value.same_node(a), "the node's input is not a itself");
}

TEST_CASE("softplus inside an expression: backward() matches finite differences") {
    // f(a, b) = softplus(a·b + 1) · tanh(b)
    const auto f = [](double a, double b) { return softplus(Value(a) * Value(b) + 1).data() * std::tanh(b); };
    const double a0 = 0.7, b0 = -1.3;
    Value a(a0, "a"), b(b0, "b");
    Value out = softplus(a * b + 1) * tanh(b);
    out.backward();
    const double da = numeric_derivative([&](double x) { return f(x, b0); }, a0);
    const double db = numeric_derivative([&](double x) { return f(a0, x); }, b0);
    CHECK_MESSAGE(a.grad() == doctest::Approx(da).epsilon(1e-7),
                  fmt::format("∂f/∂a of f = softplus(a·b + 1)·tanh(b): backward() gives {:.9g}, finite differences {:.9g}", a.grad(), da));
    CHECK_MESSAGE(b.grad() == doctest::Approx(db).epsilon(1e-7),
                  fmt::format("∂f/∂b of f = softplus(a·b + 1)·tanh(b): backward() gives {:.9g}, finite differences {:.9g}", b.grad(), db));
}

TEST_CASE("softplus of large inputs is finite: softplus(800) = 800, softplus(-800) = 0") {
    for (const double a : {800.0, -800.0, 40.0, -40.0}) {
        CAPTURE(a);
        Value x(a);
        Value y = softplus(x);
        y.backward();
        const double expected = a > 0 ? a + std::log1p(std::exp(-a)) : std::log1p(std::exp(a));
        CHECK_MESSAGE(std::isfinite(y.data()), fmt::format("softplus({}) = {}: e^{} overflows a double; "
                                                           "use max(a, 0) + ln(1 + e^−|a|)", a, y.data(), a));
        CHECK_MESSAGE(y.data() == doctest::Approx(expected).epsilon(1e-12),
                      fmt::format("softplus({}) should be {:.12g}; yours gives {:.12g}", a, expected, y.data()));
        CHECK_MESSAGE(x.grad() == doctest::Approx(sigma(a)).epsilon(1e-12),
                      fmt::format("the slope at {} should be σ({}) = {:.12g}; yours is {:.12g} (eᵃ/(1 + eᵃ) is inf/inf "
                                  "for large a: use 1/(1 + e⁻ᵃ) there)", a, a, sigma(a), x.grad()));
    }
}
