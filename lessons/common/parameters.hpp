#pragma once
// Every parameter a traced example uses, printed once and labelled (--trace full), so
// that each score, gate and logit the steps print can be recomputed by hand:
//   a cell's W_ih, W_hh  one row per line, named by gate and row: encoder.W_ih[r3]
//   a cell's b_ih, b_hh  one vector per gate: encoder.b_ih[r]
//   the embeddings       only the rows the example reads, named by token: src_embed['c']
//   output.W             one row per target token: output.W['g'] (logits_j['g'] = that row · features + output.b['g'])
//   the rest             one row per line, numbered: attention.W[3]
// A heading above each says its shape and what its columns multiply: decoder.W_ih's
// columns are [tgt_embed[y_{j−1}] | c_j] with attention, attention.W's [h_i | s].
#include <span>
#include <string>
#include <vector>

#include "stepgrad/cells.hpp"
#include "stepgrad/data.hpp"
#include "stepgrad/seq2seq.hpp"
#include "stepgrad/support/print.hpp"
#include "stepgrad/support/trace.hpp"

namespace stepgrad {

// The letters of a cell's stacked gate blocks: {"r", "z", "n"}, {"i", "f", "g", "o"}, or
// {""} for SimpleRNN's one block.
std::vector<std::string> gate_letters(CellKind kind);
// Row labels of a stacked W_ih or W_hh (G·H rows): r1 … r_H, z1 …, n1 … (SimpleRNN 1 … H).
std::vector<std::string> gate_row_labels(CellKind kind, int hidden_size);

// The rows of an embedding table that `ids` read, each once, named by token: src_embed['c'].
void print_embedding_rows(Printer& out, const Parameter& table, std::span<const int> ids, const Vocab& vocab);

// With --trace full: every parameter of `model` that the run uses, each once, as the
// header describes. Below full, one line saying that --trace full prints them.
void print_parameters(Printer& out, Seq2Seq& model, const TraceRun& run, const Vocab& src_vocab,
                      const Vocab& tgt_vocab);

}  // namespace stepgrad
