#pragma once
// Transformer traces (SPEC §14, format "stepgrad-trace/1", model.kind "transformer"), in
// the layout of the golden transformer-{pre,post}.json: the params and ids; per layer, in
// the order they are computed, every norm's "mean", "var" and "out", and every attention
// sub-layer's "heads" (each head's "q", "k", "v", "scores" — null where masked — and
// "alpha") and "out"; each layer's "out"; "memory", "logits" (n × V), "loss", "grads".
// Beyond the golden layout, so that every sub-layer's output and every norm's statistics are
// there: each layer's "ffn" (the FFN's output before the residual sum) and, with pre norm,
// "encoder_norm" and "decoder_norm" (the final LNs' mean, var and out).
// Matrices are {"shape": [r, c], "data": [row-major …]}; example 0 of the batch.
#include <string>
#include <string_view>

#include "stepgrad/support/trace.hpp"  // defines: trace_format, EvalSummary, write_parameter
#include "stepgrad/transformer.hpp"

namespace stepgrad {

struct TransformerTraceRun {
    Batch batch;
    TransformerForward forward;
};

// One example, batch 1, teacher forced: forward, then backward into the params' grads
// (zeroed first). Resets the tape; the tensors stay valid until it is reset again.
TransformerTraceRun run_traced_example(Transformer& model, const Example& example);

std::string transformer_trace(std::string_view lesson, Transformer& model, const Vocab& src_vocab,
                              const Vocab& tgt_vocab, const TransformerTraceRun& run,
                              const EvalSummary* eval = nullptr);

}  // namespace stepgrad
