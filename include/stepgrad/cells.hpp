#pragma once
// Recurrent cells: SimpleRNN, GRU and LSTM, with PyTorch's equations and parameter
// layout (SPEC §3). x is the input row, h the previous hidden state, σ the logistic
// sigmoid, ⊙ elementwise; a batch is B rows.
//
//   SimpleRNN  h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
//   GRU        r = σ(W_ir x + b_ir + W_hr h + b_hr)      z = σ(W_iz x + b_iz + W_hz h + b_hz)
//              n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
//              h' = (1 − z) ⊙ n + z ⊙ h
//   LSTM       i, f, o = σ(W_i* x + b_i* + W_h* h + b_h*)   g = tanh(W_ig x + b_ig + W_hg h + b_hg)
//              c' = f ⊙ c + i ⊙ g      h' = o ⊙ tanh(c')
//
// W_ih (G·H × In), W_hh (G·H × H), b_ih and b_hh (G·H): the G gates' rows stacked in the
// order r, z, n (GRU) or i, f, g, o (LSTM); G = 1, 3, 4.
#include <array>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stepgrad/tensor.hpp"

namespace stepgrad {

enum class CellKind { rnn, gru, lstm };

CellKind parse_cell_kind(std::string_view name);  // "rnn" | "gru" | "lstm"
const char* cell_kind_name(CellKind kind);
int gate_count(CellKind kind);  // G: 1, 3, 4

// h, and for the LSTM its cell state c (undefined for the others).
struct CellState {
    Tensor h;
    Tensor c;
};

// One gate of one step: its pre-activation and its value after σ or tanh.
struct Gate {
    const char* name;
    Tensor pre_activation;
    Tensor value;
};

struct CellStep {
    CellState state;
    // The gates in SPEC order (GRU r, z, n; LSTM i, f, g, o); none for SimpleRNN,
    // whose one pre-activation is in `pre_activation`.
    std::array<Gate, 4> gate_storage{};
    int gate_count = 0;
    Tensor pre_activation;

    std::span<const Gate> gates() const { return {gate_storage.data(), static_cast<std::size_t>(gate_count)}; }
};

// The one cell interface. The three cells differ only in `step`.
class Cell {
public:
    Cell(CellKind kind, const std::string& prefix, int input_size, int hidden_size);
    virtual ~Cell() = default;
    Cell(const Cell&) = delete;
    Cell& operator=(const Cell&) = delete;

    CellKind kind() const { return kind_; }
    int input_size() const { return input_size_; }
    int hidden_size() const { return hidden_size_; }

    // (x: B × In, state: B × H) → the new state and the gates that made it.
    CellStep step(Tensor x, const CellState& state);
    // W_ih x + b_ih (B × G·H). It does not depend on the recurrence: an encoder computes it for
    // every position in one product and steps with step_projected.
    Tensor input_projection(Tensor x);
    // The step, given from_x = W_ih x + b_ih.
    virtual CellStep step_projected(Tensor from_x, const CellState& state) = 0;
    // h_0 = 0 (and c_0 = 0) for B examples.
    CellState initial_state(int batch) const;

    // uniform(−1/√H, 1/√H), as PyTorch's RNN cells.
    void init(Rng& rng);
    std::vector<Parameter*> parameters();

    Parameter W_ih;
    Parameter W_hh;
    Parameter b_ih;
    Parameter b_hh;

private:
    CellKind kind_;
    int input_size_;
    int hidden_size_;
};

// prefix names the parameters: "encoder" gives encoder.W_ih, encoder.W_hh, …
std::unique_ptr<Cell> make_cell(CellKind kind, const std::string& prefix, int input_size,
                                int hidden_size);

}  // namespace stepgrad
