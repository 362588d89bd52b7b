// SimpleRNN, GRU and LSTM: gradient checks, closed forms with hand-set weights, batched
// against one row at a time, and the golden encoder traces.
#include "testing.hpp"

#include <cmath>

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
    CHECK_THROWS_WITH(parse_cell_kind("transformer"), doctest::Contains("unknown cell 'transformer' (allowed: rnn, gru, lstm)"));
}
