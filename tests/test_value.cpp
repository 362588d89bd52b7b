// The scalar engine: known values, every op's derivative against finite differences,
// deep graphs, and the semantics of backward().
#include "stepgrad/value.hpp"

#include <cmath>
#include <doctest/doctest.h>
#include <functional>
#include <string>

using namespace stepgrad;

namespace {

// (f(x + ε) − f(x − ε)) / 2ε
double central_difference(const std::function<Value(const Value&)>& f, double x,
                          double eps = 1e-6) {
    return (f(Value(x + eps)).data() - f(Value(x - eps)).data()) / (2 * eps);
}

// backward()'s df/dx at x against the central difference, to a relative 1e-6.
void check_derivative(const std::string& name, const std::function<Value(const Value&)>& f,
                      double x) {
    Value input(x, "x");
    Value out = f(input);
    out.backward();
    const double analytic = input.grad();
    const double numeric = central_difference(f, x);
    CAPTURE(name);
    CAPTURE(x);
    CAPTURE(analytic);
    CAPTURE(numeric);
    CHECK(std::abs(analytic - numeric) <= 1e-6 * std::max(1.0, std::abs(numeric)));
}

}  // namespace

TEST_CASE("the micrograd lecture's neuron: o = tanh(x1·w1 + x2·w2 + b)") {
    Value x1(2.0), x2(0.0), w1(-3.0), w2(1.0), b(6.8813735870195432);
    Value o = tanh(x1 * w1 + x2 * w2 + b);
    o.backward();
    CHECK(o.data() == doctest::Approx(0.7071).epsilon(1e-4));
    CHECK(x1.grad() == doctest::Approx(-1.5));
    CHECK(w1.grad() == doctest::Approx(1.0));
    CHECK(x2.grad() == doctest::Approx(0.5));
    CHECK(w2.grad() == doctest::Approx(0.0));
    CHECK(b.grad() == doctest::Approx(0.5));
}

TEST_CASE("micrograd's README example gives its published numbers") {
    Value a(-4.0), b(2.0);
    Value c = a + b;
    Value d = a * b + pow(b, 3);
    c += c + 1;
    c += 1 + c + (-a);
    d += d * 2 + relu(b + a);
    d += 3 * d + relu(b - a);
    Value e = c - d;
    Value f = pow(e, 2);
    Value g = f / 2.0;
    g += 10.0 / f;
    g.backward();
    CHECK(g.data() == doctest::Approx(24.7041).epsilon(1e-5));
    CHECK(a.grad() == doctest::Approx(138.8338).epsilon(1e-6));
    CHECK(b.grad() == doctest::Approx(645.5773).epsilon(1e-6));
}

TEST_CASE("each op's derivative matches a central finite difference") {
    const Value c(1.7);
    check_derivative("x + c", [&](const Value& x) { return x + c; }, 0.3);
    check_derivative("c + x", [&](const Value& x) { return c + x; }, 0.3);
    check_derivative("x - c", [&](const Value& x) { return x - c; }, 0.3);
    check_derivative("c - x", [&](const Value& x) { return c - x; }, 0.3);
    check_derivative("x * c", [&](const Value& x) { return x * c; }, -0.8);
    check_derivative("x / c", [&](const Value& x) { return x / c; }, -0.8);
    check_derivative("c / x", [&](const Value& x) { return c / x; }, -0.8);
    check_derivative("2.5 * x", [](const Value& x) { return 2.5 * x; }, 0.4);
    check_derivative("x / 4.0", [](const Value& x) { return x / 4.0; }, 0.4);
    check_derivative("3.0 - x", [](const Value& x) { return 3.0 - x; }, 0.4);
    check_derivative("-x", [](const Value& x) { return -x; }, 0.4);
    check_derivative("x^3", [](const Value& x) { return pow(x, 3); }, -1.3);
    check_derivative("x^-1", [](const Value& x) { return pow(x, -1); }, 1.3);
    check_derivative("x^0.5", [](const Value& x) { return pow(x, 0.5); }, 1.3);
    check_derivative("exp", [](const Value& x) { return exp(x); }, 0.7);
    check_derivative("log", [](const Value& x) { return log(x); }, 0.7);
    check_derivative("tanh", [](const Value& x) { return tanh(x); }, 0.7);
    check_derivative("sigmoid", [](const Value& x) { return sigmoid(x); }, -0.7);
    check_derivative("relu (x > 0)", [](const Value& x) { return relu(x); }, 0.7);
    check_derivative("relu (x < 0)", [](const Value& x) { return relu(x); }, -0.7);
    check_derivative("x * x", [](const Value& x) { return x * x; }, 0.9);
    check_derivative("composite", [](const Value& x) { return tanh(x * exp(x) + sigmoid(x)); },
                     0.2);
}

TEST_CASE("relu's derivative at the kink 0 is 0") {
    Value x(0.0);
    Value y = relu(x);
    y.backward();
    CHECK(x.grad() == 0.0);
}

TEST_CASE("sigmoid is finite and exact at extreme inputs") {
    CHECK(sigmoid(Value(-1000.0)).data() == 0.0);
    CHECK(sigmoid(Value(1000.0)).data() == 1.0);
    CHECK(sigmoid(Value(0.0)).data() == 0.5);
}

TEST_CASE("a value used twice gets both contributions") {
    Value x(3.0);
    Value y = x * x + x;  // dy/dx = 2x + 1
    y.backward();
    CHECK(x.grad() == doctest::Approx(7.0));
}

TEST_CASE("calling backward twice gives the same gradients, not doubled") {
    Value a(2.0), b(-3.0);
    Value loss = a * b + tanh(a);
    loss.backward();
    const double first_a = a.grad(), first_b = b.grad();
    loss.backward();
    CHECK(a.grad() == first_a);
    CHECK(b.grad() == first_b);
}

TEST_CASE("a 100,000-deep chain runs backward and is destroyed without recursion") {
    constexpr int depth = 100'000;
    Value x(0.5, "x");
    {
        Value y = x;
        for (int i = 0; i < depth; ++i) y = y * 1.0 + 0.0;
        y.backward();
        CHECK(x.grad() == 1.0);
        CHECK(topological_order(y).size() == 1 + 4 * depth);  // x, and per step two constants and two ops
    }  // y's whole chain is released here
    CHECK(x.is_leaf());
}

TEST_CASE("topological order lists every node once, inputs before their users") {
    Value a(1.0, "a"), b(2.0, "b");
    Value c = (a * b).named("c");
    Value d = (c + a).named("d");
    const auto order = topological_order(d);
    REQUIRE(order.size() == 4);
    CHECK(order[0].label() == "a");
    CHECK(order[1].label() == "b");
    CHECK(order[2].label() == "c");
    CHECK(order[3].label() == "d");
}

TEST_CASE("inputs() exposes the local derivatives the chain rule multiplies") {
    Value a(2.0, "a"), b(5.0, "b");
    Value c = a * b;
    const auto inputs = c.inputs();
    REQUIRE(inputs.size() == 2);
    CHECK(inputs[0].value.same_node(a));
    CHECK(inputs[0].local_derivative == 5.0);  // ∂(a·b)/∂a = b
    CHECK(inputs[1].value.same_node(b));
    CHECK(inputs[1].local_derivative == 2.0);  // ∂(a·b)/∂b = a
    CHECK(c.op() == "*");
    CHECK(pow(a, 3).op() == "^3");
}

TEST_CASE("copies of a Value share one node, and += rebinds to a new node") {
    Value a(1.0);
    Value alias = a;
    alias.set_data(4.0);
    CHECK(a.data() == 4.0);
    Value before = a;
    a += 1.0;
    CHECK(a.data() == 5.0);
    CHECK_FALSE(a.same_node(before));
    CHECK(before.data() == 4.0);
}
