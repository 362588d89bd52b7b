#pragma once
// One source read three ways, side by side (lesson 08, section 1): by a forward encoder,
// by a backward one, and by both at once — the bidirectional encoder of Bahdanau, Cho &
// Bengio (2014), §3.2 — and where each hands the decoder its first state (SPEC §11):
//
//   forward        →h_t = cell(src_embed[x_t], →h_{t−1}),  t = 1..m,  →h_0 = 0
//   backward       ←h_t = cell(src_embed[x_t], ←h_{t+1}),  t = m..1,  ←h_{m+1} = 0
//   bidirectional  h_t = [→h_t; ←h_t]
//   decoder start  s_0 = h_m (forward only)  ·  s_0 = tanh(bridge.W ←h_1 + bridge.b) (bidirectional)
//
// This is a demonstration, not the per-step trace of lessons 04–06 (printing.hpp).
#include <cstdint>
#include <memory>
#include <string_view>

#include "common/flags.hpp"
#include "stepgrad/data.hpp"
#include "stepgrad/seq2seq.hpp"
#include "stepgrad/support/print.hpp"
#include "stepgrad/tasks.hpp"

namespace stepgrad {

// E = H = 3: small enough that an annotation [→h_t; ←h_t] fits on one line.
inline constexpr int demonstration_size = 3;

// An untrained one-layer bidirectional model of flags.cell on the task's vocabularies,
// E = H = A = demonstration_size, initialised from flags.seed.
std::unique_ptr<Seq2Seq> demonstration_model(const LessonFlags& flags, const TaskGenerator& task);

// Reads `example`'s source with the model's layer-1 forward cell alone, then with its
// backward cell alone, and prints every →h_t and ←h_t in reading order; then the
// annotations h_t = [→h_t; ←h_t] as the library's bidirectional encoder computes them, with
// the largest difference from the two readings; then s_0 from the bridge, computed by
// hand beside the library's, and the forward model's s_0 = →h_m for contrast. The model
// must be bidirectional. Resets the tape.
void print_both_directions(Printer& out, Seq2Seq& model, const Example& example, const Vocab& src_vocab);

}  // namespace stepgrad
