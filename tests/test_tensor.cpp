// The tape: handles, parameters, backward semantics, memory reuse.
#include "testing.hpp"

#include <fmt/format.h>

#include <thread>

using namespace stepgrad;
using stepgrad::testing::random_parameter;

TEST_CASE("a parameter's leaf shares its storage: backward writes into Parameter::grad") {
    tape().reset();
    Parameter w("w", 1, 2);
    w.value = {2.0, -3.0};
    Tensor x = constant(1, 2, std::vector<double>{5.0, 7.0});
    tape().backward(sum(mul(w.use(), x)));
    CHECK(w.grad == std::vector<double>{5.0, 7.0});
}

TEST_CASE("backward twice: tape gradients are recomputed, parameter gradients accumulate") {
    tape().reset();
    Parameter w("w", 1, 1);
    w.value = {3.0};
    Tensor y = mul(w.use(), w.use());  // w², dy/dw = 2w = 6
    tape().backward(sum(y));
    CHECK(w.grad[0] == 6.0);
    CHECK(y.grads()[0] == 1.0);
    tape().backward(sum(y));
    CHECK(y.grads()[0] == 1.0);  // zeroed first, not 2
    CHECK(w.grad[0] == 12.0);    // accumulates, as PyTorch's .grad does
    w.zero_grad();
    CHECK(w.grad[0] == 0.0);
}

TEST_CASE("constants need no gradient and record no backward") {
    tape().reset();
    Tensor c = constant(1, 2, std::vector<double>{1.0, 2.0});
    CHECK_FALSE(c.requires_grad());
    CHECK_FALSE(stepgrad::tanh(c).requires_grad());
    Parameter w("w", 1, 2);
    CHECK(add(c, w.use()).requires_grad());
}

TEST_CASE("a tensor used after reset throws instead of reading stale memory") {
    tape().reset();
    Tensor t = zeros(2, 2);
    tape().reset();
    CHECK_THROWS_WITH(t.value(0), doctest::Contains("used after tape().reset()"));
    CHECK_THROWS_WITH(Tensor{}.rows(), doctest::Contains("empty Tensor"));
}

TEST_CASE("the loss must be 1×1") {
    tape().reset();
    CHECK_THROWS_WITH_AS(tape().backward(zeros(2, 1)), doctest::Contains("loss must be 1×1, got (2, 1)"), ShapeError);
}

TEST_CASE("the arena is reused: a repeated step allocates no new memory") {
    auto w = random_parameter("w", 8, 8, 1);
    auto step = [&] {
        tape().reset();
        Tensor h = w->use();
        for (int i = 0; i < 50; ++i) h = stepgrad::tanh(matmul(h, w->use()));
        tape().backward(sum(h));
    };
    step();
    const std::size_t after_first = tape().arena_bytes();
    for (int i = 0; i < 5; ++i) step();
    CHECK(tape().arena_bytes() == after_first);
}

TEST_CASE("backward keeping only the parameters' gradients: the same bits in a fraction of the memory") {
    auto w = random_parameter("w", 64, 64, 2);
    // a chain of products with a view (slice_rows) read by the loss halfway, on a tape of its own
    const auto gradient_and_arena = [&](Tape::KeepGradients keep) {
        std::vector<double> gradient;
        std::size_t arena = 0;
        std::thread([&] {
            w->zero_grad();
            Tensor h = w->use(), loss = constant(1, 1, std::vector<double>{0.0});
            for (int i = 0; i < 40; ++i) {
                h = stepgrad::tanh(matmul(h, w->use()));
                if (i % 10 == 5) loss = add(loss, sum(mul(slice_rows(h, 3, 7), slice_rows(h, 20, 7))));
            }
            tape().backward(add(loss, sum(h)), keep);
            gradient = w->grad;
            arena = tape().arena_bytes();
            if (keep == Tape::KeepGradients::parameters_only)
                CHECK_THROWS_WITH_AS(h.gradient(), doctest::Contains("the gradient of 'tanh' is gone"), std::logic_error);
            else
                CHECK(h.gradient() == std::vector<double>(64 * 64, 1.0));
        }).join();
        return std::pair{gradient, arena};
    };
    const auto [all, arena_all] = gradient_and_arena(Tape::KeepGradients::all);
    const auto [parameters_only, arena_parameters_only] = gradient_and_arena(Tape::KeepGradients::parameters_only);
    CHECK(parameters_only == all);
    // 80 gradients of 64 × 64 kept, against a few reused
    CHECK(arena_parameters_only * 10 < arena_all * 7);
}

TEST_CASE("backward through a graph 100,000 ops deep needs no recursion") {
    tape().reset();
    Parameter x("x", 1, 1);
    x.value = {0.5};
    Tensor y = x.use();
    for (int i = 0; i < 100000; ++i) y = scale(y, 1.0);
    tape().backward(sum(y));
    CHECK(x.grad[0] == 1.0);
    tape().reset();
}

TEST_CASE("first_non_finite names the op where a NaN or Inf appeared") {
    tape().reset();
    Tensor x = constant(1, 2, std::vector<double>{-1.0, 1.0});
    Tensor y = stepgrad::log(x);  // log(−1) = NaN
    sum(y);
    const TapeEntry* bad = tape().first_non_finite(false);
    REQUIRE(bad != nullptr);
    CHECK(std::string(bad->op) == "log");
    tape().reset();
    sum(zeros(1, 1));
    CHECK(tape().first_non_finite(false) == nullptr);
}

TEST_CASE("fmt prints a tensor's op, shape, values and gradients") {
    tape().reset();
    Parameter w("W_ih", 1, 2);
    w.value = {0.25, -1.5};
    const std::string text = fmt::format("{}", w.use());
    CHECK(text == "Tensor(W_ih, 1×2, values=[0.2500 -1.5000], grads=[0.0000 0.0000])");
}

TEST_CASE("parameters reject empty shapes") {
    CHECK_THROWS_AS(Parameter("bad", 0, 3), ShapeError);
    CHECK_THROWS_AS(Parameter("bad", 2, 3, true), ShapeError);
}
