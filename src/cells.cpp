#include "stepgrad/cells.hpp"

#include <cmath>
#include <stdexcept>

#include "gradient_target.hpp"  // GradientTarget, put
#include "kernels/kernels.hpp"
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

void check_step_shapes(const Cell& cell, Tensor from_x, const CellState& state) {
    const int H = cell.hidden_size(), G = gate_count(cell.kind());
    if (from_x.cols() != G * H || state.h.cols() != H || state.h.rows() != from_x.rows())
        throw ShapeError(fmt::format("{} cell step: input projection ({}, {}) and state ({}, {}) do not fit a cell "
                                     "with {} gates of hidden size {}",
                                     cell_kind_name(cell.kind()), from_x.rows(), from_x.cols(), state.h.rows(),
                                     state.h.cols(), G, H));
    // the fused update reads c entry by entry: a c of another shape would be read past its end
    if (cell.kind() == CellKind::lstm && (!state.c.defined() || state.c.rows() != state.h.rows() || state.c.cols() != H))
        throw ShapeError(fmt::format("lstm cell step: the cell state c must have h's shape ({}, {}), got {}", state.h.rows(),
                                     H, state.c.defined() ? fmt::format("({}, {})", state.c.rows(), state.c.cols()) : "none"));
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

// ---- the gated cells' updates, one op each ----
// GRU's and LSTM's elementwise equations are one op per step here, forward and backward side by
// side (issue 19's profile: as 15–17 small ops, with a (B, H) value and gradient each and the
// copies of the gate slices, they were a fifth of a GRU+concat training step). Their composites
// from add, mul, sigmoid, tanh and slice_cols stay in tests/test_cells.cpp as the oracle: the
// arithmetic below (the GRU's in src/kernels/, where it runs a SIMD register at a time) is
// theirs, operation for operation, so the values and gradients are the same bits. That is also
// why the backward adds 0.0 where the composite's first gradient was written as 0 + value (it
// turns a −0 into 0).

// The gates of one step: pre-activation and value of gate k in (B, H) blocks 2k and 2k + 1 of
// one tensor with no gradient of its own (traces print them; the op's backward reads them).
class GateBlocks {
public:
    GateBlocks(const char* op, int gates, int batch, int hidden)
        : table_(tape().record(op, 2 * gates * batch, hidden, {})), block_(static_cast<std::size_t>(batch) * hidden),
          batch_(batch), hidden_(hidden) {}
    GateBlocks(Tensor table, int batch, int hidden)
        : table_(table), block_(static_cast<std::size_t>(batch) * hidden), batch_(batch), hidden_(hidden) {}

    double* pre_activation(int k) const { return table_.values().data() + 2 * k * block_; }
    double* value(int k) const { return pre_activation(k) + block_; }
    Tensor table() const { return table_; }
    Gate gate(const char* name, int k) const {
        return {name, tape().alias(name, table_, 2 * k * block_, batch_, hidden_),
                tape().alias(name, table_, (2 * k + 1) * block_, batch_, hidden_)};
    }

private:
    Tensor table_;
    std::size_t block_;
    int batch_, hidden_;
};

std::size_t at(int b, int width, int column) { return static_cast<std::size_t>(b) * width + column; }

kernels::GruRows gru_rows(Tensor from_x, Tensor from_h, Tensor h, const GateBlocks& gates) {
    return {from_x.values().data(), from_h.values().data(), h.values().data(), gates.pre_activation(0), h.rows(), h.cols()};
}

// GRU: from_x = W_i* x + b_i* and from_h = W_h* h + b_h*, (B, 3H) each, gates stacked r, z, n.
// The loops, forward and backward: src/kernels/reference.cpp (gru_update, gru_update_backward).
CellStep gru_update(Tensor from_x, Tensor from_h, Tensor h) {
    const int B = h.rows(), H = h.cols();
    const GateBlocks gates("gru gates", 3, B, H);
    Tensor h_new = tape().record("gru_update", B, H, {from_x, from_h, h});
    // r = σ(W_ir x + b_ir + W_hr h + b_hr),  z = σ(W_iz x + b_iz + W_hz h + b_hz)
    // n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)): r gates the old state's contribution
    // h' = (1 − z) ⊙ n + z ⊙ h, computed as n + z ⊙ (h − n)
    kernels::gru_update(gru_rows(from_x, from_h, h, gates), h_new.values().data());

    // ∂h'/∂z = h − n,  ∂h'/∂h = z,  ∂h'/∂n = 1 − z;  tanh' = 1 − n²;  σ' = σ (1 − σ);
    // ∂n_pre/∂r = W_hn h + b_hn,  ∂n_pre/∂(W_hn h + b_hn) = r
    tape().on_backward(h_new, [from_x, from_h, h, table = gates.table()](Tensor out) {
        const GateBlocks gates(table, out.rows(), out.cols());
        kernels::gru_update_backward(gru_rows(from_x, from_h, h, gates), out.grads().data(),
                                     gradient_target_if_needed(from_x), gradient_target_if_needed(from_h),
                                     gradient_target_if_needed(h));
    });
    CellStep step;
    step.state.h = h_new;
    step.gate_storage = {gates.gate("r", 0), gates.gate("z", 1), gates.gate("n", 2), Gate{}};
    step.gate_count = 3;
    return step;
}

// LSTM: pre = from_x + from_h (B, 4H), gates stacked i, f, g, o. Two ops, c' and then h', so
// each new state is a tensor of its own; h' keeps tanh(c') in a block after the gates.
CellStep lstm_update(Tensor from_x, Tensor from_h, Tensor c) {
    const int B = c.rows(), H = c.cols();
    const std::size_t n = static_cast<std::size_t>(B) * H;
    const GateBlocks gates("lstm gates", 4, B, H);
    const Tensor tanh_c = tape().record("lstm tanh(c')", B, H, {});
    const double *x_part = from_x.values().data(), *h_part = from_h.values().data(), *c_old = c.values().data();
    // every gate's W_i* x + b_i* + W_h* h + b_h*
    for (int k = 0; k < 4; ++k) {
        double* pre = gates.pre_activation(k);
        for (int b = 0; b < B; ++b)
            for (int j = 0; j < H; ++j) pre[at(b, H, j)] = x_part[at(b, 4 * H, k * H + j)] + h_part[at(b, 4 * H, k * H + j)];
    }
    // i, f, o = σ(…)   g = tanh(…)
    for (int k : {0, 1, 3}) kernels::sigmoid(gates.pre_activation(k), gates.value(k), n);
    kernels::tanh(gates.pre_activation(2), gates.value(2), n);
    const double *i_gate = gates.value(0), *f_gate = gates.value(1), *g_gate = gates.value(2), *o_gate = gates.value(3);
    Tensor c_new = tape().record("lstm_cell_state", B, H, {from_x, from_h, c});
    double* c_values = c_new.values().data();
    // c' = f ⊙ c + i ⊙ g
    for (std::size_t i = 0; i < n; ++i) c_values[i] = f_gate[i] * c_old[i] + i_gate[i] * g_gate[i];
    double* tanh_c_values = tanh_c.values().data();
    kernels::tanh(c_values, tanh_c_values, n);
    Tensor h_new = tape().record("lstm_hidden", B, H, {c_new, from_x, from_h});
    double* h_values = h_new.values().data();
    // h' = o ⊙ tanh(c')
    for (std::size_t i = 0; i < n; ++i) h_values[i] = o_gate[i] * tanh_c_values[i];

    // h' = o ⊙ tanh(c'):  ∂h'/∂c' = o (1 − tanh²(c')),  ∂h'/∂o_pre = tanh(c') σ'(o_pre)
    tape().on_backward(h_new, [c_new, from_x, from_h, table = gates.table(), tanh_c](Tensor out) {
        const int B = out.rows(), H = out.cols();
        const GateBlocks gates(table, B, H);
        const double *o_gate = gates.value(3), *t = tanh_c.values().data(), *dh_new = out.grads().data();
        const GradientTarget dc_new = gradient_target_if_needed(c_new), dx_part = partial_gradient_target(from_x),
                           dh_part = partial_gradient_target(from_h);
        for (int b = 0; b < B; ++b)
            for (int j = 0; j < H; ++j) {
                const std::size_t i = at(b, H, j);
                const double d_o = 0.0 + t[i] * dh_new[i], d_tanh = 0.0 + o_gate[i] * dh_new[i];
                put(dc_new, i, (1 - t[i] * t[i]) * d_tanh);
                const double do_pre = 0.0 + o_gate[i] * (1 - o_gate[i]) * d_o;
                put(dx_part, at(b, 4 * H, 3 * H + j), do_pre);
                put(dh_part, at(b, 4 * H, 3 * H + j), do_pre);
            }
    });
    // c' = f ⊙ c + i ⊙ g:  ∂c'/∂c = f,  ∂c'/∂f = c,  ∂c'/∂i = g,  ∂c'/∂g = i;  σ' = σ (1 − σ), tanh' = 1 − g²
    tape().on_backward(c_new, [c, from_x, from_h, table = gates.table()](Tensor out) {
        const int B = out.rows(), H = out.cols();
        const GateBlocks gates(table, B, H);
        const double *i_gate = gates.value(0), *f_gate = gates.value(1), *g_gate = gates.value(2);
        const double *c_old = c.values().data(), *dc_new = out.grads().data();
        const GradientTarget dc_old = gradient_target_if_needed(c), dx_part = partial_gradient_target(from_x),
                           dh_part = partial_gradient_target(from_h);
        for (int b = 0; b < B; ++b)
            for (int j = 0; j < H; ++j) {
                const std::size_t i = at(b, H, j);
                const double d_sum = 0.0 + dc_new[i];
                const double df = 0.0 + c_old[i] * d_sum;
                put(dc_old, i, f_gate[i] * d_sum);
                const double di = 0.0 + g_gate[i] * d_sum, dg = 0.0 + i_gate[i] * d_sum;
                const double d_pre[3] = {0.0 + i_gate[i] * (1 - i_gate[i]) * di, 0.0 + f_gate[i] * (1 - f_gate[i]) * df,
                                         0.0 + (1 - g_gate[i] * g_gate[i]) * dg};
                for (int k = 0; k < 3; ++k) {
                    put(dx_part, at(b, 4 * H, k * H + j), d_pre[k]);
                    put(dh_part, at(b, 4 * H, k * H + j), d_pre[k]);
                }
            }
    });
    CellStep step;
    step.state = {h_new, c_new};
    step.gate_storage = {gates.gate("i", 0), gates.gate("f", 1), gates.gate("g", 2), gates.gate("o", 3)};
    step.gate_count = 4;
    return step;
}

class GruCell final : public Cell {
public:
    using Cell::Cell;
    CellStep step_projected(Tensor from_x, const CellState& state) override {  // from_x = W_i* x + b_i*  (B, 3H)
        check_step_shapes(*this, from_x, state);
        // W_h* h + b_h*  (B, 3H)
        return gru_update(from_x, linear(state.h, W_hh, b_hh), state.h);
    }
};

class LstmCell final : public Cell {
public:
    using Cell::Cell;
    CellStep step_projected(Tensor from_x, const CellState& state) override {
        check_step_shapes(*this, from_x, state);
        return lstm_update(from_x, linear(state.h, W_hh, b_hh), state.c);
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
