// Exercise 03: one GRU step from its equations. <03_gru_step.hpp> is the learner's file or the
// reference solution, as STEPGRAD_EXERCISES chooses (tests/exercises/CMakeLists.txt).
#include <03_gru_step.hpp>

#include <algorithm>
#include <cmath>

#include "exercise_testing.hpp"

using namespace stepgrad;
using namespace stepgrad::exercises::testing;

namespace {

constexpr int In = 3, H = 4, B = 2;

std::unique_ptr<Cell> random_gru(std::uint64_t seed) {
    auto gru = make_cell(CellKind::gru, "gru", In, H);
    Rng rng(seed);
    for (Parameter* p : gru->parameters()) p->init_uniform(rng, 0.8);
    return gru;
}

// Gate k's H entries of a stacked bias (order r, z, n).
void set_gate_bias(Parameter& bias, int gate, double value) {
    std::fill_n(bias.value.begin() + gate * H, H, value);
}

}  // namespace

TEST_CASE("GRU step with every weight and bias 0: r = z = ½ and n = 0, so h' = ½ h") {
    tape().reset();
    auto gru = random_gru(1);
    for (Parameter* p : gru->parameters()) std::fill(p->value.begin(), p->value.end(), 0.0);
    auto x = random_parameter("x", B, In, 2);
    auto h = random_parameter("h", B, H, 3);
    const Tensor h_next = exercises::gru_step(*gru, x->use(), h->use());
    std::vector<double> expected = h->value;
    for (double& v : expected) v *= 0.5;
    check_tensor(h_next, expected, B, H, "h' (expected ½ h: h' = (1 − z) ⊙ n + z ⊙ h with z = ½, n = 0)");
}

TEST_CASE("GRU step: the update gate z ≈ 1 keeps the old state, z ≈ 0 replaces it by n") {
    auto x = random_parameter("x", B, In, 4);
    auto h = random_parameter("h", B, H, 5);
    SUBCASE("z ≈ 1: h' = h") {
        tape().reset();
        auto gru = random_gru(6);
        set_gate_bias(gru->b_hh, 1, 40.0);  // z = σ(≈ 40) = 1 to double precision
        const Tensor h_next = exercises::gru_step(*gru, x->use(), h->use());
        check_tensor(h_next, h->value, B, H, "h' with z ≈ 1 (expected h: did you swap z and 1 − z?)", 1e-12);
    }
    SUBCASE("z ≈ 0 and W_hh = 0: h' = n = tanh(W_in x + b_in + r ⊙ b_hn)") {
        tape().reset();
        auto gru = random_gru(7);
        std::fill(gru->W_hh.value.begin(), gru->W_hh.value.end(), 0.0);
        set_gate_bias(gru->b_hh, 1, -40.0);  // z = σ(≈ −40) = 0
        const Tensor h_next = exercises::gru_step(*gru, x->use(), h->use());
        // the same by hand: with W_hh = 0 the state enters nowhere
        std::vector<double> expected(static_cast<std::size_t>(B * H));
        auto at = [](const Parameter& p, int r, int c) { return p.value[static_cast<std::size_t>(r * p.cols() + c)]; };
        for (int b = 0; b < B; ++b)
            for (int k = 0; k < H; ++k) {
                double pre_r = at(gru->b_ih, 0, k) + at(gru->b_hh, 0, k), pre_n = at(gru->b_ih, 0, 2 * H + k);
                for (int c = 0; c < In; ++c) {
                    pre_r += at(gru->W_ih, k, c) * at(*x, b, c);
                    pre_n += at(gru->W_ih, 2 * H + k, c) * at(*x, b, c);
                }
                const double r = 1 / (1 + std::exp(-pre_r));
                expected[static_cast<std::size_t>(b * H + k)] = std::tanh(pre_n + r * at(gru->b_hh, 0, 2 * H + k));
            }
        check_tensor(h_next, expected, B, H, "h' with z ≈ 0 and W_hh = 0 (expected n = tanh(W_in x + b_in + r ⊙ b_hn))");
    }
}

TEST_CASE("GRU step equals stepgrad's GRU cell on a random batch") {
    tape().reset();
    auto gru = random_gru(8);
    auto x = random_parameter("x", B, In, 9);
    auto h = random_parameter("h", B, H, 10);
    const Tensor yours = exercises::gru_step(*gru, x->use(), h->use());
    const Tensor cells = gru->step(x->use(), {h->use(), {}}).state.h;
    check_tensor(yours, cells, "h' compared with GruCell (stepgrad follows PyTorch: r multiplies (W_hn h + b_hn), not h)");
}

TEST_CASE("GRU step: gradients through 3 steps match finite differences") {
    auto gru = random_gru(11);
    auto xs = random_parameter("x", 3 * B, In, 12);
    auto h0 = random_parameter("h_0", B, H, 13);
    std::vector<Parameter*> parameters = gru->parameters();
    parameters.push_back(xs.get());
    parameters.push_back(h0.get());
    check_gradients(
        [&] {
            const Tensor x = xs->use();
            Tensor h = h0->use();
            for (int t = 0; t < 3; ++t) h = exercises::gru_step(*gru, slice_rows(x, t * B, B), h);
            return weighted_sum(h);
        },
        parameters);
}
