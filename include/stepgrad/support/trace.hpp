#pragma once
// Traces (SPEC §7, format "stepgrad-trace/1"): one example run through a model with
// every number an independent implementation needs to recompute it — the params, the
// ids, every encoder and decoder step, the loss and d loss / d params.
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stepgrad/support/json.hpp"
#include "stepgrad/seq2seq.hpp"

namespace stepgrad {

inline constexpr std::string_view trace_format = "stepgrad-trace/1";

// Held-out accuracy with greedy decoding (lessons that train add it to the trace).
struct EvalSummary {
    std::string task;
    int examples = 0;
    double token_accuracy = 0;
    double sequence_accuracy = 0;
    // SPEC §11's alignment accuracy and its shifted twin (gold + 1), for a model with
    // attention on a task that knows its alignments; written as "alignment_accuracy" and
    // "alignment_accuracy_shifted" when set.
    std::optional<double> alignment_accuracy;
    std::optional<double> alignment_accuracy_shifted;
};

// One example, batch 1, teacher forced: forward, then backward into the params' grads
// (zeroed first). The tensors in `forward` stay valid until the tape is reset.
struct TraceRun {
    Batch batch;
    Forward forward;
    Alignment gold;  // the example's gold alignment (0-based); a trace writes it 1-based, as "gold" per step
};
TraceRun run_traced_example(Seq2Seq& model, const Example& example);  // resets the tape

// The trace of a run, as JSON text in the golden traces' layout.
std::string seq2seq_trace(std::string_view lesson, Seq2Seq& model, const Vocab& src_vocab,
                          const Vocab& tgt_vocab, const TraceRun& run, const EvalSummary* eval = nullptr);

// Encoder only (lesson 03): one cell stepped over `src`, loss = Σ h_m ("sum_last_h").
// Like run_traced_example, it starts a fresh tape: earlier tensors are gone.
struct EncoderRun {
    std::vector<int> src;
    std::vector<CellStep> steps;
    Tensor loss;
};
EncoderRun run_encoder(Cell& cell, Parameter& src_embed, std::span<const int> src);
std::string encoder_trace(std::string_view lesson, Cell& cell, Parameter& src_embed, const Vocab& vocab,
                          const EncoderRun& run);

// Every parameter under `key` as {"name": {"shape", "data"}, …}: values, or gradients.
void write_parameters(JsonWriter& w, const char* key, std::span<Parameter* const> parameters, bool gradients);
// "eval": the held-out evaluation a lesson adds (SPEC §7), the alignment accuracies when set.
void write_eval(JsonWriter& w, const EvalSummary& eval);
// "src_vocab", "tgt_vocab", "src" (ids as fed), "tgt" (y_1 … y_n) and "bos" of a batch-1 run.
void write_vocabularies_and_ids(JsonWriter& w, const Vocab& src_vocab, const Vocab& tgt_vocab, const Batch& batch);
// One parameter as {"shape": …, "data": …}: a bias or vector is 1-D.
void write_parameter(JsonWriter& w, const Parameter& p, std::span<const double> data);

// Sets every parameter from a trace's "params" (or a checkpoint's): each must be there
// with the same shape; an unknown or missing name is an error naming it.
void load_parameters(const Json& params, std::span<Parameter* const> parameters);

}  // namespace stepgrad
