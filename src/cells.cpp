#include "stepgrad/cells.hpp"

#include <cmath>
#include <stdexcept>

#include "stepgrad/ops.hpp"

namespace stepgrad {

CellKind parse_cell_kind(std::string_view name) {
    if (name == "rnn") return CellKind::rnn;
    if (name == "gru") return CellKind::gru;
    if (name == "lstm") return CellKind::lstm;
    throw std::invalid_argument(fmt::format("unknown cell '{}' (allowed: rnn, gru, lstm)", name));
}

const char* cell_kind_name(CellKind kind) {
    switch (kind) {
        case CellKind::rnn: return "rnn";
        case CellKind::gru: return "gru";
        case CellKind::lstm: return "lstm";
    }
    return "?";
}

int gate_count(CellKind kind) {
    switch (kind) {
        case CellKind::rnn: return 1;
        case CellKind::gru: return 3;
        case CellKind::lstm: return 4;
    }
    return 0;
}

Cell::Cell(CellKind kind, const std::string& prefix, int input_size, int hidden_size)
    : W_ih(prefix + ".W_ih", gate_count(kind) * hidden_size, input_size),
      W_hh(prefix + ".W_hh", gate_count(kind) * hidden_size, hidden_size),
      b_ih(prefix + ".b_ih", 1, gate_count(kind) * hidden_size, true),
      b_hh(prefix + ".b_hh", 1, gate_count(kind) * hidden_size, true),
      kind_(kind),
      input_size_(input_size),
      hidden_size_(hidden_size) {}

CellState Cell::initial_state(int batch) const {
    CellState state{zeros(batch, hidden_size_), {}};
    if (kind_ == CellKind::lstm) state.c = zeros(batch, hidden_size_);
    return state;
}

void Cell::init(Rng& rng) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(hidden_size_));
    for (Parameter* p : parameters()) p->init_uniform(rng, bound);
}

std::vector<Parameter*> Cell::parameters() { return {&W_ih, &W_hh, &b_ih, &b_hh}; }

Tensor Cell::input_projection(Tensor x) {
    if (x.cols() != input_size_)
        throw ShapeError(fmt::format("{} cell step: input ({}, {}) does not fit a cell with input size {} and hidden size {}",
                                     cell_kind_name(kind_), x.rows(), x.cols(), input_size_, hidden_size_));
    return linear(x, W_ih, b_ih);
}

CellStep Cell::step(Tensor x, const CellState& state) {
    if (x.cols() != input_size_ || state.h.cols() != hidden_size_ || state.h.rows() != x.rows())
        throw ShapeError(fmt::format("{} cell step: input ({}, {}) and state ({}, {}) do not fit a cell with input size {} "
                                     "and hidden size {}",
                                     cell_kind_name(kind_), x.rows(), x.cols(), state.h.rows(), state.h.cols(),
                                     input_size_, hidden_size_));
    return step_projected(input_projection(x), state);
}

namespace {

// The k-th gate's H columns of a stacked (B, G·H) pre-activation.
Tensor gate_part(Tensor stacked, int k, int H) { return slice_cols(stacked, k * H, H); }

void check_step_shapes(const Cell& cell, Tensor from_x, const CellState& state) {
    const int H = cell.hidden_size(), G = gate_count(cell.kind());
    if (from_x.cols() != G * H || state.h.cols() != H || state.h.rows() != from_x.rows())
        throw ShapeError(fmt::format("{} cell step: input projection ({}, {}) and state ({}, {}) do not fit a cell "
                                     "with {} gates of hidden size {}",
                                     cell_kind_name(cell.kind()), from_x.rows(), from_x.cols(), state.h.rows(),
                                     state.h.cols(), G, H));
}

class SimpleRnnCell final : public Cell {
public:
    using Cell::Cell;
    CellStep step_projected(Tensor from_x, const CellState& state) override {
        check_step_shapes(*this, from_x, state);
        CellStep out;
        // h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
        const Tensor from_h = linear(state.h, W_hh, b_hh);
        out.pre_activation = add(from_x, from_h);
        out.state.h = stepgrad::tanh(out.pre_activation);
        return out;
    }
};

class GruCell final : public Cell {
public:
    using Cell::Cell;
    CellStep step_projected(Tensor from_x, const CellState& state) override {  // from_x = W_i* x + b_i*  (B, 3H)
        check_step_shapes(*this, from_x, state);
        const int H = hidden_size();
        const Tensor from_h = linear(state.h, W_hh, b_hh);  // W_h* h + b_h*  (B, 3H)
        // r = σ(W_ir x + b_ir + W_hr h + b_hr)
        const Tensor r_pre = add(gate_part(from_x, 0, H), gate_part(from_h, 0, H));
        const Tensor r = sigmoid(r_pre);
        // z = σ(W_iz x + b_iz + W_hz h + b_hz)
        const Tensor z_pre = add(gate_part(from_x, 1, H), gate_part(from_h, 1, H));
        const Tensor z = sigmoid(z_pre);
        // n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)): r gates the old state's contribution
        const Tensor n_pre = add(gate_part(from_x, 2, H), mul(r, gate_part(from_h, 2, H)));
        const Tensor n = stepgrad::tanh(n_pre);
        // h' = (1 − z) ⊙ n + z ⊙ h, computed as n + z ⊙ (h − n)
        CellStep out;
        out.state.h = add(n, mul(z, sub(state.h, n)));
        out.gate_storage = {Gate{"r", r_pre, r}, Gate{"z", z_pre, z}, Gate{"n", n_pre, n}, Gate{}};
        out.gate_count = 3;
        return out;
    }
};

class LstmCell final : public Cell {
public:
    using Cell::Cell;
    CellStep step_projected(Tensor from_x, const CellState& state) override {
        check_step_shapes(*this, from_x, state);
        const int H = hidden_size();
        // every gate's W_i* x + b_i* + W_h* h + b_h*, stacked i, f, g, o  (B, 4H)
        const Tensor from_h = linear(state.h, W_hh, b_hh);
        const Tensor pre = add(from_x, from_h);
        const Tensor i_pre = gate_part(pre, 0, H), f_pre = gate_part(pre, 1, H);
        const Tensor g_pre = gate_part(pre, 2, H), o_pre = gate_part(pre, 3, H);
        // i, f, o = σ(…)   g = tanh(…)
        const Tensor i = sigmoid(i_pre), f = sigmoid(f_pre), g = stepgrad::tanh(g_pre), o = sigmoid(o_pre);
        CellStep out;
        // c' = f ⊙ c + i ⊙ g
        out.state.c = add(mul(f, state.c), mul(i, g));
        // h' = o ⊙ tanh(c')
        out.state.h = mul(o, stepgrad::tanh(out.state.c));
        out.gate_storage = {Gate{"i", i_pre, i}, Gate{"f", f_pre, f}, Gate{"g", g_pre, g}, Gate{"o", o_pre, o}};
        out.gate_count = 4;
        return out;
    }
};

}  // namespace

std::unique_ptr<Cell> make_cell(CellKind kind, const std::string& prefix, int input_size, int hidden_size) {
    if (input_size <= 0 || hidden_size <= 0)
        throw std::invalid_argument(fmt::format("{} cell: sizes must be positive, got input {} hidden {}",
                                                cell_kind_name(kind), input_size, hidden_size));
    switch (kind) {
        case CellKind::rnn: return std::make_unique<SimpleRnnCell>(kind, prefix, input_size, hidden_size);
        case CellKind::gru: return std::make_unique<GruCell>(kind, prefix, input_size, hidden_size);
        case CellKind::lstm: return std::make_unique<LstmCell>(kind, prefix, input_size, hidden_size);
    }
    throw std::invalid_argument("unknown cell kind");
}

}  // namespace stepgrad
