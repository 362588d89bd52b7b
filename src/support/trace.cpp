#include "stepgrad/support/trace.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <unistd.h>

#include "stepgrad/ops.hpp"

namespace stepgrad {

TraceRun run_traced_example(Seq2Seq& model, const Example& example) {
    tape().reset();
    for (Parameter* p : model.parameters()) p->zero_grad();
    TraceRun run{make_batch(std::span<const Example>(&example, 1)), {}, example.alignment};
    run.forward = model.forward(run.batch);
    tape().backward(run.forward.loss);
    return run;
}

void write_parameter(JsonWriter& w, const Parameter& p, std::span<const double> data) {
    std::vector<std::size_t> shape;
    if (!p.is_vector()) shape.push_back(static_cast<std::size_t>(p.rows()));
    shape.push_back(static_cast<std::size_t>(p.cols()));
    w.key(p.name());
    write_tensor(w, shape, data);
}

void write_parameters(JsonWriter& w, const char* key, std::span<Parameter* const> parameters, bool gradients) {
    w.key(key).begin_object();
    for (const Parameter* p : parameters) write_parameter(w, *p, gradients ? p->grad : p->value);
    w.end_object();
}

void write_eval(JsonWriter& w, const EvalSummary& eval) {
    w.key("eval").begin_object(JsonWriter::Layout::line);
    w.key("task").value(eval.task);
    w.key("examples").value(eval.examples);
    w.key("token_accuracy").value(eval.token_accuracy);
    w.key("sequence_accuracy").value(eval.sequence_accuracy);
    if (eval.alignment_accuracy) w.key("alignment_accuracy").value(*eval.alignment_accuracy);
    if (eval.alignment_accuracy_shifted) w.key("alignment_accuracy_shifted").value(*eval.alignment_accuracy_shifted);
    w.end_object();
}

void write_vocabularies_and_ids(JsonWriter& w, const Vocab& src_vocab, const Vocab& tgt_vocab, const Batch& batch) {
    w.key("src_vocab").value(src_vocab.tokens);
    w.key("tgt_vocab").value(tgt_vocab.tokens);
    w.key("src").value(batch.src);
    w.key("tgt").value(batch.tgt_out);
    w.key("bos").value(Vocab::bos);
}

namespace {

// "h", "c" (LSTM) and "gates" of one cell step, example 0. SPEC §11's layout writes a
// SimpleRNN's "gates" as {}; §7's leaves them out.
void write_cell_step(JsonWriter& w, const char* state_name, const CellStep& step, bool empty_gates = false) {
    w.key(state_name).value(step.state.h.row(0));
    if (step.state.c.defined()) w.key("c").value(step.state.c.row(0));
    if (step.gate_count == 0 && !empty_gates) return;
    w.key("gates").begin_object(JsonWriter::Layout::line);
    for (const Gate& gate : step.gates()) w.key(gate.name).value(gate.value.row(0));
    w.end_object();
}

// `section11`: a bidirectional or stacked model, whose trace adds model.bidirectional and model.layers.
void write_header(JsonWriter& w, std::string_view lesson, CellKind cell, const char* decoder, const char* score,
                  int embed, int hidden, const int* attn, const ModelConfig* section11 = nullptr) {
    w.begin_object();
    w.key("format").value(trace_format);
    w.key("lesson").value(lesson);
    w.key("model").begin_object(JsonWriter::Layout::line);
    w.key("cell").value(cell_kind_name(cell));
    w.key("decoder").value(decoder);
    w.key("score").value(score);
    w.key("embed_dim").value(embed);
    w.key("hidden_dim").value(hidden);
    if (attn) w.key("attn_dim").value(*attn);
    if (section11) w.key("bidirectional").value(section11->bidirectional).key("layers").value(section11->layers);
    w.end_object();
}

// SPEC §11: "h" is the annotation h_t ([→h_t; ←h_t] of the top layer), then every layer's
// states, bottom first, the backward direction's under "reverse".
void write_encoder_layers(JsonWriter& w, const Encoded& encoded, std::size_t t) {
    std::vector<double> annotation = encoded.layers.back().forward[t].state.h.row(0);
    if (!encoded.layers.back().backward.empty()) {
        const std::vector<double> back = encoded.layers.back().backward[t].state.h.row(0);
        annotation.insert(annotation.end(), back.begin(), back.end());
    }
    w.key("h").value(annotation);
    w.key("layers").begin_array();
    for (const EncoderLayer& layer : encoded.layers) {
        w.begin_object();
        write_cell_step(w, "h", layer.forward[t], true);
        if (!layer.backward.empty()) {
            w.key("reverse").begin_object();
            write_cell_step(w, "h", layer.backward[t], true);
            w.end_object();
        }
        w.end_object();
    }
    w.end_array();
}

}  // namespace

std::string seq2seq_trace(std::string_view lesson, Seq2Seq& model, const Vocab& src_vocab, const Vocab& tgt_vocab,
                          const TraceRun& run, const EvalSummary* eval) {
    if (run.batch.size != 1) throw std::invalid_argument("seq2seq_trace: a trace holds one example (batch 1)");
    const ModelConfig& config = model.config();
    const bool section11 = config.bidirectional || config.layers > 1;
    JsonWriter w;
    write_header(w, lesson, config.cell, decoder_kind_name(config.decoder), score_kind_name(config.score),
                 config.embed, config.hidden, &config.attn, section11 ? &config : nullptr);
    write_vocabularies_and_ids(w, src_vocab, tgt_vocab, run.batch);
    const std::vector<Parameter*> parameters = model.parameters();
    write_parameters(w, "params", parameters, false);

    w.key("encoder").begin_array();
    for (std::size_t t = 0; t < run.forward.encoder.steps.size(); ++t) {
        w.begin_object(JsonWriter::Layout::line);
        w.key("t").value(t + 1);
        w.key("token").value(run.batch.src[t]);
        if (section11)
            write_encoder_layers(w, run.forward.encoder, t);
        else
            write_cell_step(w, "h", run.forward.encoder.steps[t]);
        w.end_object();
    }
    w.end_array();

    if (section11) {  // s_0 (and c_0) of every decoder layer, bottom first
        w.key("decoder_init").begin_array();
        for (const CellState& s0 : run.forward.encoder.initial) {
            w.begin_object(JsonWriter::Layout::line);
            w.key("s").value(s0.h.row(0));
            if (s0.c.defined()) w.key("c").value(s0.c.row(0));
            w.end_object();
        }
        w.end_array();
    }

    w.key("decoder").begin_array();
    for (std::size_t j = 0; j < run.forward.decoder.size(); ++j) {
        const DecoderStep& step = run.forward.decoder[j];
        w.begin_object(JsonWriter::Layout::line);
        w.key("t").value(j + 1);
        w.key("input").value(run.batch.tgt_in[j]);
        if (step.attention.alpha.defined()) {
            w.key("scores").value(step.attention.scores.row(0));
            w.key("alpha").value(step.attention.alpha.row(0));
            w.key("context").value(step.attention.context.row(0));
        }
        write_cell_step(w, "s", step.cell, section11);
        if (section11) {
            w.key("layers").begin_array();
            for (const CellStep& layer : step.layers) {
                w.begin_object();
                write_cell_step(w, "s", layer, true);
                w.end_object();
            }
            w.end_array();
        }
        if (step.attentional.defined()) w.key("h_tilde").value(step.attentional.row(0));
        w.key("logits").value(run.forward.logits.row(static_cast<int>(j)));
        w.key("target").value(run.batch.tgt_out[j]);
        if (j < run.gold.size()) {
            // the source positions i (1-based, as the encoder's "t") that produced y_j
            std::vector<int> positions;
            for (int i : run.gold[j]) positions.push_back(i + 1);
            w.key("gold").value(positions);
        }
        w.end_object();
    }
    w.end_array();

    w.key("loss").value(run.forward.loss.value(0));
    write_parameters(w, "grads", parameters, true);
    if (eval) write_eval(w, *eval);
    w.end_object();
    w.finish();
    return w.str();
}

EncoderRun run_encoder(Cell& cell, Parameter& src_embed, std::span<const int> src) {
    tape().reset();
    src_embed.zero_grad();
    for (Parameter* p : cell.parameters()) p->zero_grad();
    EncoderRun run{{src.begin(), src.end()}, {}, {}};
    const Tensor embedded = gather_rows(src_embed.use(), src);  // (m, E): x_1 … x_m
    CellState state = cell.initial_state(1);
    for (int t = 0; t < static_cast<int>(src.size()); ++t) {
        run.steps.push_back(cell.step(slice_rows(embedded, t, 1), state));
        state = run.steps.back().state;
    }
    run.loss = sum(state.h);  // "sum_last_h"
    tape().backward(run.loss);
    return run;
}

std::string encoder_trace(std::string_view lesson, Cell& cell, Parameter& src_embed, const Vocab& vocab,
                          const EncoderRun& run) {
    JsonWriter w;
    write_header(w, lesson, cell.kind(), "none", "none", src_embed.cols(), cell.hidden_size(), nullptr);
    w.key("src_vocab").value(vocab.tokens);
    w.key("src").value(run.src);
    std::vector<Parameter*> parameters = {&src_embed};
    for (Parameter* p : cell.parameters()) parameters.push_back(p);
    write_parameters(w, "params", parameters, false);
    w.key("encoder").begin_array();
    for (std::size_t t = 0; t < run.steps.size(); ++t) {
        w.begin_object(JsonWriter::Layout::line);
        w.key("t").value(t + 1);
        w.key("token").value(run.src[t]);
        write_cell_step(w, "h", run.steps[t]);
        w.end_object();
    }
    w.end_array();
    w.key("loss_definition").value("sum_last_h");
    w.key("loss").value(run.loss.value(0));
    write_parameters(w, "grads", parameters, true);
    w.end_object();
    w.finish();
    return w.str();
}

void load_parameters(const Json& params, std::span<Parameter* const> parameters) {
    for (const auto& [name, value] : params.as_object()) {
        const auto it = std::find_if(parameters.begin(), parameters.end(), [&, &name = name](const Parameter* p) { return p->name() == name; });
        if (it == parameters.end()) throw std::invalid_argument(fmt::format("parameter '{}' does not belong to this model", name));
    }
    // Every parameter is read and checked before any is set: a bad file changes nothing.
    std::vector<std::vector<double>> values;
    for (const Parameter* p : parameters) {
        if (!params.contains(p->name()))
            throw std::invalid_argument(fmt::format("parameter '{}' is missing", p->name()));
        JsonTensor t = read_tensor(params.at(p->name()), p->name());
        const bool shape_ok = p->is_vector() ? t.shape.size() == 1 && t.shape[0] == static_cast<std::size_t>(p->cols())
                                             : t.shape.size() == 2 && t.shape[0] == static_cast<std::size_t>(p->rows()) &&
                                                   t.shape[1] == static_cast<std::size_t>(p->cols());
        const std::string needed = p->is_vector() ? fmt::format("[{}]", p->cols()) : fmt::format("[{}, {}]", p->rows(), p->cols());
        if (!shape_ok)
            throw std::invalid_argument(fmt::format("parameter '{}' has shape [{}], the model needs {}", p->name(),
                                                    fmt::join(t.shape, ", "), needed));
        values.push_back(std::move(t.data));
    }
    for (std::size_t k = 0; k < parameters.size(); ++k) parameters[k]->value = std::move(values[k]);
}

}  // namespace stepgrad
