// Exercise 04: an LSTM without a forget gate, and why it fails on long sequences.
// <04_lstm_no_forget.hpp> is the learner's file or the reference solution, as STEPGRAD_EXERCISES
// chooses (tests/exercises/CMakeLists.txt).
#include <04_lstm_no_forget.hpp>

#include <algorithm>
#include <cmath>

#include "exercise_testing.hpp"

using namespace stepgrad;
using namespace stepgrad::exercises::testing;

namespace {

constexpr int In = 3, H = 4, B = 2;
enum Gate { gate_i = 0, gate_f = 1, gate_g = 2, gate_o = 3 };

std::unique_ptr<Cell> random_lstm(std::uint64_t seed, double bound = 0.8) {
    auto lstm = make_cell(CellKind::lstm, "lstm", In, H);
    Rng rng(seed);
    for (Parameter* p : lstm->parameters()) p->init_uniform(rng, bound);
    return lstm;
}

void set_gate_bias(Parameter& bias, Gate gate, double value) {
    std::fill_n(bias.value.begin() + gate * H, H, value);
}

double max_abs(std::span<const double> values) {
    double m = 0;
    for (double v : values) m = std::max(m, std::abs(v));
    return m;
}

// 50 steps of the same input through both cells, from h_0 = c_0 = 0.
struct LongRun {
    std::vector<double> c_no_forget;  // max |c_t|, t = 1..50
    std::vector<double> c_lstm;
    double grad_c_no_forget;  // max |∂L/∂c_50| for L = Σ h_50
    double grad_c_lstm;
};

LongRun run_long_sequence(Cell& lstm, Parameter& x) {
    LongRun run;
    tape().reset();
    const Tensor input = x.use();
    CellState ours = lstm.initial_state(B), real = lstm.initial_state(B);
    for (int t = 0; t < 50; ++t) {
        ours = exercises::lstm_no_forget_step(lstm, input, ours);
        real = lstm.step(input, real).state;
        REQUIRE_MESSAGE(ours.c.defined(), "return the new cell state c' too: {h', c'}");
        run.c_no_forget.push_back(max_abs(ours.c.values()));
        run.c_lstm.push_back(max_abs(real.c.values()));
    }
    tape().backward(add(sum(ours.h), sum(real.h)));
    run.grad_c_no_forget = max_abs(ours.c.grads());
    run.grad_c_lstm = max_abs(real.c.grads());
    return run;
}

}  // namespace

TEST_CASE("LSTM without forget gate, every weight 0 but b_g = 1: i = o = ½, g = tanh 1, c' = c + ½ tanh 1") {
    tape().reset();
    auto lstm = random_lstm(1);
    for (Parameter* p : lstm->parameters()) std::fill(p->value.begin(), p->value.end(), 0.0);
    set_gate_bias(lstm->b_ih, gate_g, 1.0);
    auto x = random_parameter("x", B, In, 2);
    auto h = random_parameter("h", B, H, 3);
    auto c = random_parameter("c", B, H, 4);
    const CellState next = exercises::lstm_no_forget_step(*lstm, x->use(), {h->use(), c->use()});
    REQUIRE_MESSAGE(next.c.defined(), "return the new cell state c' too: {h', c'}");
    std::vector<double> c_expected = c->value, h_expected;
    for (double& v : c_expected) v += 0.5 * std::tanh(1.0);
    for (double v : c_expected) h_expected.push_back(0.5 * std::tanh(v));
    check_tensor(next.c, c_expected, B, H, "c' (expected c + i ⊙ g = c + ½ tanh 1: no f ⊙ c, c is kept whole)");
    check_tensor(next.h, h_expected, B, H, "h' (expected o ⊙ tanh(c') = ½ tanh(c'))");
}

TEST_CASE("LSTM without forget gate equals the real LSTM whose forget gate is held at 1") {
    tape().reset();
    auto lstm = random_lstm(5);
    set_gate_bias(lstm->b_ih, gate_f, 40.0);  // f = σ(≈ 40) = 1 in double precision: f ⊙ c = c
    auto x = random_parameter("x", B, In, 6);
    auto h = random_parameter("h", B, H, 7);
    auto c = random_parameter("c", B, H, 8);
    const CellState yours = exercises::lstm_no_forget_step(*lstm, x->use(), {h->use(), c->use()});
    const CellState real = lstm->step(x->use(), {h->use(), c->use()}).state;
    REQUIRE_MESSAGE(yours.c.defined(), "return the new cell state c' too: {h', c'}");
    check_tensor(yours.c, real.c, "c' compared with LstmCell at f = 1 (gates stacked i, f, g, o: i is rows 0..H−1, g rows 2H..3H−1)");
    check_tensor(yours.h, real.h, "h' compared with LstmCell at f = 1");
}

TEST_CASE("over 50 steps its cell state grows without bound, while the real LSTM's stays bounded") {
    // The same weights in both; the input gate and g lean positive, so i ⊙ g > 0 at every step.
    auto lstm = random_lstm(9, 0.5);
    set_gate_bias(lstm->b_ih, gate_i, 1.0);
    set_gate_bias(lstm->b_ih, gate_g, 1.0);
    auto x = random_parameter("x", B, In, 10);
    const LongRun run = run_long_sequence(*lstm, *x);
    INFO(fmt::format("max |c_t| without forget gate at t = 10, 25, 50: {:.3g}, {:.3g}, {:.3g}", run.c_no_forget[9],
                     run.c_no_forget[24], run.c_no_forget[49]));
    INFO(fmt::format("max |c_t| of the real LSTM at t = 10, 25, 50: {:.3g}, {:.3g}, {:.3g}", run.c_lstm[9], run.c_lstm[24],
                     run.c_lstm[49]));
    // c_t = c_{t−1} + i ⊙ g: with a steady i ⊙ g, c grows like t — twice as large at 50 as at 25
    CHECK_MESSAGE(run.c_no_forget[49] > 1.8 * run.c_no_forget[24],
                  "without a forget gate c_t = c_{t−1} + i ⊙ g should keep growing (c_50 ≈ 2·c_25)");
    CHECK_MESSAGE(run.c_no_forget[49] > 20, "without a forget gate |c_50| should be far above 1");
    // the real LSTM forgets a share 1 − f each step: |c| ≤ max|i ⊙ g| / (1 − f) stays small
    CHECK(run.c_lstm[49] < 3);
}

TEST_CASE("…and so tanh(c) saturates: after 50 steps the gradient through c' is ≈ 0") {
    // h' = o ⊙ tanh(c'):  ∂h'/∂c' = o ⊙ (1 − tanh²(c')), which is ≈ 0 once |c'| ≫ 1. Whatever
    // reached c can no longer move h: the cell stops learning (Gers et al. 2000 added f for this).
    auto lstm = random_lstm(9, 0.5);
    set_gate_bias(lstm->b_ih, gate_i, 1.0);
    set_gate_bias(lstm->b_ih, gate_g, 1.0);
    auto x = random_parameter("x", B, In, 10);
    const LongRun run = run_long_sequence(*lstm, *x);
    INFO(fmt::format("max |∂L/∂c_50|, L = Σ h_50: without forget gate {:.3g}, real LSTM {:.3g}", run.grad_c_no_forget,
                     run.grad_c_lstm));
    CHECK_MESSAGE(run.grad_c_no_forget < 1e-8, "without a forget gate tanh(c_50) should be saturated, so ∂h_50/∂c_50 ≈ 0");
    CHECK(run.grad_c_lstm > 0.05);
}

TEST_CASE("LSTM without forget gate: gradients through 4 steps match finite differences") {
    auto lstm = random_lstm(11);
    auto xs = random_parameter("x", 4 * B, In, 12);
    auto h0 = random_parameter("h_0", B, H, 13);
    auto c0 = random_parameter("c_0", B, H, 14);
    std::vector<Parameter*> parameters = lstm->parameters();
    for (Parameter* p : {xs.get(), h0.get(), c0.get()}) parameters.push_back(p);
    check_gradients(
        [&] {
            const Tensor x = xs->use();
            CellState state{h0->use(), c0->use()};
            for (int t = 0; t < 4; ++t) state = exercises::lstm_no_forget_step(*lstm, slice_rows(x, t * B, B), state);
            return add(weighted_sum(state.h, 5), weighted_sum(state.c, 6));
        },
        parameters, 1e-5);  // 4 steps: rounding in L leaves ~1e-10 of noise on gradients of ~1e-4
}
