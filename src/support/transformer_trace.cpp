#include "stepgrad/support/transformer_trace.hpp"

#include <stdexcept>

namespace stepgrad {

TransformerTraceRun run_traced_example(Transformer& model, const Example& example) {
    tape().reset();
    for (Parameter* p : model.parameters()) p->zero_grad();
    TransformerTraceRun run{make_batch(std::span<const Example>(&example, 1)), {}};
    run.forward = model.forward(run.batch);
    tape().backward(run.forward.loss);
    return run;
}

namespace {

void write_matrix(JsonWriter& w, const char* key, Tensor t) {
    const std::size_t shape[] = {static_cast<std::size_t>(t.rows()), static_cast<std::size_t>(t.cols())};
    w.key(key);
    write_tensor(w, shape, t.values());
}

// The scores before the mask, null where the mask made them −∞ (JSON has no infinity).
void write_scores(JsonWriter& w, Tensor scores, std::span<const int> mask) {
    w.key("scores").begin_object(JsonWriter::Layout::line);
    w.key("shape").value(std::vector<int>{scores.rows(), scores.cols()});
    w.key("data").begin_array(JsonWriter::Layout::line);
    for (std::size_t i = 0; i < scores.size(); ++i) {
        if (mask[i]) w.value(nullptr);
        else w.value(scores.value(i));
    }
    w.end_array();
    w.end_object();
}

void write_norm(JsonWriter& w, const char* key, const LayerNormOutput& norm) {
    w.key(key).begin_object();
    w.key("mean").value(norm.mean.to_vector());
    w.key("var").value(norm.variance.to_vector());
    write_matrix(w, "out", norm.out);
    w.end_object();
}

void write_attention(JsonWriter& w, const char* key, const AttentionResult& attention) {
    w.key(key).begin_object();
    w.key("heads").begin_array();
    const std::size_t per_head = attention.scores.size() / static_cast<std::size_t>(attention.batch * attention.heads);
    for (int i = 0; i < attention.heads; ++i) {
        w.begin_object();
        write_matrix(w, "q", attention.head(attention.query, 0, i));
        write_matrix(w, "k", attention.head(attention.key, 0, i));
        write_matrix(w, "v", attention.head(attention.value, 0, i));
        write_scores(w, attention.head(attention.scores, 0, i), attention.mask.subspan(static_cast<std::size_t>(i) * per_head, per_head));
        write_matrix(w, "alpha", attention.head(attention.alpha, 0, i));
        w.end_object();
    }
    w.end_array();
    write_matrix(w, "out", attention.out);
    w.end_object();
}

// A sub-layer and its norm in the order they were computed: pre LN then f, post f then LN.
template <class Body>
void write_sublayer(JsonWriter& w, NormPosition position, const char* norm_key, const LayerNormOutput& norm, Body body) {
    if (position == NormPosition::pre) write_norm(w, norm_key, norm);
    body();
    if (position == NormPosition::post) write_norm(w, norm_key, norm);
}

}  // namespace

std::string transformer_trace(std::string_view lesson, Transformer& model, const Vocab& src_vocab,
                              const Vocab& tgt_vocab, const TransformerTraceRun& run, const EvalSummary* eval) {
    if (run.batch.size != 1) throw std::invalid_argument("transformer_trace: a trace holds one example (batch 1)");
    const TransformerConfig& config = model.config();
    const NormPosition norm = config.norm;
    JsonWriter w;
    w.begin_object();
    w.key("format").value(trace_format);
    w.key("lesson").value(lesson);
    w.key("model").begin_object(JsonWriter::Layout::line);
    w.key("kind").value("transformer");
    w.key("norm").value(norm_position_name(norm));
    w.key("d_model").value(config.d_model).key("heads").value(config.heads);
    w.key("layers").value(config.layers).key("d_ff").value(config.d_ff);
    w.end_object();
    write_vocabularies_and_ids(w, src_vocab, tgt_vocab, run.batch);
    const std::vector<Parameter*> parameters = model.parameters();
    write_parameters(w, "params", parameters, false);

    w.key("encoder_layers").begin_array();
    for (const EncoderLayerForward& layer : run.forward.encoder.layers) {
        w.begin_object();
        write_sublayer(w, norm, "norm1", layer.norm1, [&] { write_attention(w, "self_attn", layer.self_attn); });
        write_sublayer(w, norm, "norm2", layer.norm2, [&] { write_matrix(w, "ffn", layer.ffn); });
        write_matrix(w, "out", layer.out);
        w.end_object();
    }
    w.end_array();
    w.key("decoder_layers").begin_array();
    for (const DecoderLayerForward& layer : run.forward.decoder.layers) {
        w.begin_object();
        write_sublayer(w, norm, "norm1", layer.norm1, [&] { write_attention(w, "self_attn", layer.self_attn); });
        write_sublayer(w, norm, "norm2", layer.norm2, [&] { write_attention(w, "cross_attn", layer.cross_attn); });
        write_sublayer(w, norm, "norm3", layer.norm3, [&] { write_matrix(w, "ffn", layer.ffn); });
        write_matrix(w, "out", layer.out);
        w.end_object();
    }
    w.end_array();
    // pre only: the final LN of each stack (memory is the encoder's)
    if (norm == NormPosition::pre) write_norm(w, "encoder_norm", run.forward.encoder.final_norm);
    write_matrix(w, "memory", run.forward.encoder.memory);
    if (norm == NormPosition::pre) write_norm(w, "decoder_norm", run.forward.decoder.final_norm);
    write_matrix(w, "logits", run.forward.logits);
    w.key("loss").value(run.forward.loss.value(0));
    write_parameters(w, "grads", parameters, true);
    if (eval) write_eval(w, *eval);
    w.end_object();
    w.finish();
    return w.str();
}

}  // namespace stepgrad
