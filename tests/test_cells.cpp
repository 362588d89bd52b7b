// SimpleRNN, GRU and LSTM: gradient checks, closed forms with hand-set weights, batched
// against one row at a time, and the golden encoder traces.
#include "testing.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

#include "kernels/kernels.hpp"  // use(): every instruction set
#include "stepgrad/cells.hpp"
#include "stepgrad/support/trace.hpp"

using namespace stepgrad;
using namespace stepgrad::testing;

namespace {

const CellKind kinds[] = {CellKind::rnn, CellKind::gru, CellKind::lstm};

std::unique_ptr<Cell> random_cell(CellKind kind, int input, int hidden, std::uint64_t seed) {
    auto cell = make_cell(kind, "encoder", input, hidden);
    Rng rng(seed);
    for (Parameter* p : cell->parameters()) p->init_uniform(rng, 0.8);
    return cell;
}

// Runs `steps` steps over a (steps·B, In) input and returns a weighted sum of the last
// state (h and, for LSTM, c), so every entry of both gets its own upstream gradient.
Tensor unrolled_loss(Cell& cell, Parameter& inputs, int batch, int steps) {
    const Tensor x = inputs.use();
    CellState state = cell.initial_state(batch);
    for (int t = 0; t < steps; ++t) state = cell.step(slice_rows(x, t * batch, batch), state).state;
    Tensor loss = weighted_sum(state.h, 5);
    if (state.c.defined()) loss = add(loss, weighted_sum(state.c, 6));
    return loss;
}

void check_cell_gradients(CellKind kind, int steps) {
    INFO(std::string(cell_kind_name(kind)), " over ", steps, " steps");
    auto cell = random_cell(kind, 3, 4, 1);
    auto inputs = random_parameter("x", steps * 2, 3, 2);
    std::vector<Parameter*> parameters = cell->parameters();
    parameters.push_back(inputs.get());
    require_gradients([&] { return unrolled_loss(*cell, *inputs, 2, steps); }, parameters, 1e-6);
}

void zero_all(Cell& cell) {
    for (Parameter* p : cell.parameters()) std::fill(p->value.begin(), p->value.end(), 0.0);
}

}  // namespace

TEST_CASE("each cell's gradient, one step") {
    for (CellKind kind : kinds) check_cell_gradients(kind, 1);
}

TEST_CASE("each cell's gradient through 6 steps (backprop through time)") {
    for (CellKind kind : kinds) check_cell_gradients(kind, 6);
}

TEST_CASE("a batched step equals each row stepped alone, exactly") {
    for (CellKind kind : kinds) {
        INFO(std::string(cell_kind_name(kind)));
        auto cell = random_cell(kind, 3, 4, 3);
        auto x = random_parameter("x", 3, 3, 4);
        auto h = random_parameter("h", 3, 4, 5);
        tape().reset();
        CellState state{h->use(), kind == CellKind::lstm ? Tensor(h->use()) : Tensor{}};
        const CellStep batched = cell->step(x->use(), state);
        for (int r = 0; r < 3; ++r) {
            const Tensor hr = slice_rows(h->use(), r, 1);
            const CellStep alone = cell->step(slice_rows(x->use(), r, 1), {hr, kind == CellKind::lstm ? hr : Tensor{}});
            CHECK(alone.state.h.row(0) == batched.state.h.row(r));
            for (int g = 0; g < alone.gate_count; ++g)
                CHECK(alone.gates()[static_cast<std::size_t>(g)].value.row(0) == batched.gates()[static_cast<std::size_t>(g)].value.row(r));
        }
    }
}

namespace {

// ---- the composites of the fused GRU and LSTM updates (src/cells.cpp): their oracle ----
// SPEC §3's equations one op each, as the cells computed them before the fused ops.
Tensor gate_part(Tensor stacked, int k, int H) { return slice_cols(stacked, k * H, H); }

CellStep gru_composite(Cell& cell, Tensor x, const CellState& state) {
    const int H = cell.hidden_size();
    const Tensor from_x = linear(x, cell.W_ih, cell.b_ih), from_h = linear(state.h, cell.W_hh, cell.b_hh);
    const Tensor r_pre = add(gate_part(from_x, 0, H), gate_part(from_h, 0, H)), r = sigmoid(r_pre);
    const Tensor z_pre = add(gate_part(from_x, 1, H), gate_part(from_h, 1, H)), z = sigmoid(z_pre);
    const Tensor n_pre = add(gate_part(from_x, 2, H), mul(r, gate_part(from_h, 2, H))), n = stepgrad::tanh(n_pre);
    CellStep out;
    out.state.h = add(n, mul(z, sub(state.h, n)));
    out.gate_storage = {Gate{"r", r_pre, r}, Gate{"z", z_pre, z}, Gate{"n", n_pre, n}, Gate{}};
    out.gate_count = 3;
    return out;
}

CellStep lstm_composite(Cell& cell, Tensor x, const CellState& state) {
    const int H = cell.hidden_size();
    const Tensor pre = add(linear(x, cell.W_ih, cell.b_ih), linear(state.h, cell.W_hh, cell.b_hh));
    const Tensor i_pre = gate_part(pre, 0, H), f_pre = gate_part(pre, 1, H);
    const Tensor g_pre = gate_part(pre, 2, H), o_pre = gate_part(pre, 3, H);
    const Tensor i = sigmoid(i_pre), f = sigmoid(f_pre), g = stepgrad::tanh(g_pre), o = sigmoid(o_pre);
    CellStep out;
    out.state.c = add(mul(f, state.c), mul(i, g));
    out.state.h = mul(o, stepgrad::tanh(out.state.c));
    out.gate_storage = {Gate{"i", i_pre, i}, Gate{"f", f_pre, f}, Gate{"g", g_pre, g}, Gate{"o", o_pre, o}};
    out.gate_count = 4;
    return out;
}

// Every number of `steps` steps (states, gates and their pre-activations), then every gradient
// (weights, inputs, and the initial state when it is a parameter) of a loss that reads each
// step's h and c, so a state's gradient arrives from the next step and from the loss both.
template <class Step>
std::vector<double> unrolled_numbers(Cell& cell, Step step, bool learned_start, int batch, int steps) {
    auto inputs = random_parameter("x", steps * batch, cell.input_size(), 21);
    auto h0 = random_parameter("h0", batch, cell.hidden_size(), 22), c0 = random_parameter("c0", batch, cell.hidden_size(), 23);
    std::vector<Parameter*> parameters = cell.parameters();
    for (Parameter* p : {inputs.get(), h0.get(), c0.get()}) parameters.push_back(p);
    for (Parameter* p : parameters) p->zero_grad();
    tape().reset();
    CellState state = learned_start ? CellState{h0->use(), cell.kind() == CellKind::lstm ? h0->use() : Tensor{}}
                                    : cell.initial_state(batch);
    if (learned_start && cell.kind() == CellKind::lstm) state.c = c0->use();
    std::vector<double> numbers;
    const auto keep = [&numbers](Tensor t) { numbers.insert(numbers.end(), t.values().begin(), t.values().end()); };
    Tensor loss = constant(1, 1, std::vector<double>{0.0});
    for (int t = 0; t < steps; ++t) {
        const CellStep out = step(slice_rows(inputs->use(), t * batch, batch), state);
        for (const Gate& gate : out.gates()) keep(gate.pre_activation), keep(gate.value);
        keep(out.state.h);
        loss = add(loss, weighted_sum(out.state.h, 30 + static_cast<std::uint64_t>(t)));
        if (out.state.c.defined()) keep(out.state.c), loss = add(loss, weighted_sum(out.state.c, 40 + static_cast<std::uint64_t>(t)));
        state = out.state;
    }
    tape().backward(loss);
    for (const Parameter* p : parameters) numbers.insert(numbers.end(), p->grad.begin(), p->grad.end());
    return numbers;
}

}  // namespace

TEST_CASE("the fused GRU and LSTM updates give their composites' values and gradients, bit for bit") {
    // every kernel set: the GRU's update is a kernel of its own in each (src/kernels/), its σ
    // and tanh the set's; H = 5 and 19 leave part of a register unused, 19 after whole ones
    for (std::string_view kernel_set : kernels::supported_variants())
    for (CellKind kind : {CellKind::gru, CellKind::lstm})
        for (bool learned_start : {false, true})
            for (int batch : {1, 3})
            for (int hidden : {5, 19}) {
                INFO(cell_kind_name(kind), learned_start ? ", learned h0" : ", h0 = 0", ", B = ", batch, ", H = ", hidden,
                     ", kernels: ", std::string(kernel_set));
                kernels::use(kernel_set);
                auto cell = random_cell(kind, 4, hidden, 20);
                const auto composite = [&](Tensor x, const CellState& state) {
                    return kind == CellKind::gru ? gru_composite(*cell, x, state) : lstm_composite(*cell, x, state);
                };
                const auto fused = [&](Tensor x, const CellState& state) { return cell->step(x, state); };
                const std::vector<double> expected = unrolled_numbers(*cell, composite, learned_start, batch, 4);
                const std::vector<double> actual = unrolled_numbers(*cell, fused, learned_start, batch, 4);
                REQUIRE(actual.size() == expected.size());
                std::size_t differing = 0;
                for (std::size_t i = 0; i < actual.size(); ++i)
                    differing += std::bit_cast<std::uint64_t>(actual[i]) != std::bit_cast<std::uint64_t>(expected[i]);
                CHECK(differing == 0);
            }
    kernels::use(kernels::supported_variants().back());
}

TEST_CASE("SimpleRNN equals seed 000's tanh(A[x, h] + b) with A = [W_ih W_hh] and b = b_ih + b_hh") {
    auto cell = random_cell(CellKind::rnn, 3, 4, 6);
    auto x = random_parameter("x", 1, 3, 7);
    auto h = random_parameter("h", 1, 4, 8);
    tape().reset();
    const Tensor ours = cell->step(x->use(), {h->use(), {}}).state.h;
    const Tensor A = concat_cols({cell->W_ih.use(), cell->W_hh.use()});
    const Tensor b = add(cell->b_ih.use(), cell->b_hh.use());
    const Tensor seed_000 = stepgrad::tanh(add(matmul_nt(concat_cols({x->use(), h->use()}), A), b));
    check_close(ours.row(0), seed_000.row(0), "SimpleRNN vs tanh(A[x; h] + b)", 1e-15);
}

TEST_CASE("GRU with every weight 0: h' = 0.5·tanh(b_in + 0.5·b_hn) + 0.5·h") {
    auto cell = make_cell(CellKind::gru, "encoder", 2, 3);
    zero_all(*cell);
    // r and z see only their zero biases: σ(0) = 0.5. Set the n biases only.
    const double b_in[] = {0.3, -0.7, 1.1}, b_hn[] = {0.5, 0.2, -0.4};
    for (int k = 0; k < 3; ++k) {
        cell->b_ih.value[static_cast<std::size_t>(6 + k)] = b_in[k];
        cell->b_hh.value[static_cast<std::size_t>(6 + k)] = b_hn[k];
    }
    tape().reset();
    const std::vector<double> h = {0.9, -0.1, 0.4};
    const CellStep step = cell->step(constant(1, 2, std::vector<double>{5.0, -2.0}), {constant(1, 3, h), {}});
    for (int k = 0; k < 3; ++k) {
        CAPTURE(k);
        CHECK(step.gates()[0].value.at(0, k) == 0.5);  // r
        CHECK(step.gates()[1].value.at(0, k) == 0.5);  // z
        CHECK(step.state.h.at(0, k) == doctest::Approx(0.5 * std::tanh(b_in[k] + 0.5 * b_hn[k]) + 0.5 * h[static_cast<std::size_t>(k)]).epsilon(1e-15));
    }
}

TEST_CASE("LSTM with the forget gate saturated at 1 and the input gate at 0 keeps c unchanged") {
    auto cell = random_cell(CellKind::lstm, 2, 3, 9);
    for (int k = 0; k < 3; ++k) {
        // rows i: 0..H−1, f: H..2H−1 — only the biases decide them
        for (int col = 0; col < 2; ++col) {
            cell->W_ih.value[static_cast<std::size_t>(k * 2 + col)] = 0.0;
            cell->W_ih.value[static_cast<std::size_t>((3 + k) * 2 + col)] = 0.0;
        }
        for (int col = 0; col < 3; ++col) {
            cell->W_hh.value[static_cast<std::size_t>(k * 3 + col)] = 0.0;
            cell->W_hh.value[static_cast<std::size_t>((3 + k) * 3 + col)] = 0.0;
        }
        cell->b_ih.value[static_cast<std::size_t>(k)] = -60.0;     // i = σ(−60) ≈ 1e−26
        cell->b_ih.value[static_cast<std::size_t>(3 + k)] = 60.0;  // f = σ(60) = 1 in double
        cell->b_hh.value[static_cast<std::size_t>(k)] = 0.0;
        cell->b_hh.value[static_cast<std::size_t>(3 + k)] = 0.0;
    }
    tape().reset();
    const std::vector<double> c = {0.7, -1.3, 0.2};
    CellState state{constant(1, 3, std::vector<double>{0.1, 0.2, 0.3}), constant(1, 3, c)};
    for (int t = 0; t < 10; ++t) state = cell->step(constant(1, 2, std::vector<double>{1.0 * t, -0.5}), state).state;
    check_close(state.c.row(0), c, "c after 10 steps with f = 1, i = 0", 1e-15);
}

TEST_CASE("golden: encoder-only traces for every cell") {
    for (const char* name : {"rnn", "gru", "lstm"}) {
        INFO(name);
        const Json trace = read_json_file(golden_path(fmt::format("{}-encoder", name)));
        const int E = trace.at("model").at("embed_dim").as_int(), H = trace.at("model").at("hidden_dim").as_int();
        auto cell = make_cell(parse_cell_kind(name), "encoder", E, H);
        Parameter src_embed("src_embed", static_cast<int>(trace.at("src_vocab").size()), E);
        std::vector<Parameter*> parameters = {&src_embed};
        for (Parameter* p : cell->parameters()) parameters.push_back(p);
        load_parameters(trace.at("params"), parameters);
        const EncoderRun run = run_encoder(*cell, src_embed, ids(trace.at("src")));
        const Json::Array& steps = trace.at("encoder").as_array();
        REQUIRE(steps.size() == run.steps.size());
        for (std::size_t t = 0; t < steps.size(); ++t) {
            check_close(run.steps[t].state.h.row(0), numbers(steps[t].at("h")), fmt::format("h_{}", t + 1));
            if (steps[t].contains("c")) check_close(run.steps[t].state.c.row(0), numbers(steps[t].at("c")), fmt::format("c_{}", t + 1));
            for (const Gate& gate : run.steps[t].gates())
                check_close(gate.value.row(0), numbers(steps[t].at("gates").at(gate.name)), fmt::format("gate {} at t={}", gate.name, t + 1));
        }
        CHECK(trace.at("loss_definition").as_string() == "sum_last_h");
        check_close({run.loss.value(0)}, {trace.at("loss").as_number()}, "loss");
        for (const Parameter* p : parameters)
            check_close(p->grad, read_tensor(trace.at("grads").at(p->name())).data, "grad of " + p->name());
    }
}

TEST_CASE("a step with the wrong input size names the cell and the sizes") {
    auto cell = make_cell(CellKind::gru, "encoder", 3, 4);
    tape().reset();
    CHECK_THROWS_WITH_AS(cell->step(zeros(1, 5), cell->initial_state(1)),
                         doctest::Contains("gru cell step: input (1, 5) and state (1, 4) do not fit a cell with input size 3 and hidden size 4"),
                         ShapeError);
    auto lstm = make_cell(CellKind::lstm, "encoder", 3, 4);
    CHECK_THROWS_WITH_AS(lstm->step(zeros(2, 3), {zeros(2, 4), zeros(1, 4)}),
                         doctest::Contains("lstm cell step: the cell state c must have h's shape (2, 4), got (1, 4)"), ShapeError);
    CHECK_THROWS_WITH_AS(lstm->step(zeros(2, 3), {zeros(2, 4), {}}), doctest::Contains("got none"), ShapeError);
    CHECK_THROWS_WITH(parse_cell_kind("transformer"), doctest::Contains("unknown cell 'transformer' (allowed: rnn, gru, lstm)"));
}
