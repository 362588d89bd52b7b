#include "stepgrad/transformer.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>

#include "stepgrad/random.hpp"

namespace stepgrad {

NormPosition parse_norm_position(std::string_view name) {
    if (name == "pre") return NormPosition::pre;
    if (name == "post") return NormPosition::post;
    throw std::invalid_argument(fmt::format("unknown norm position '{}' (allowed: pre, post)", name));
}

const char* norm_position_name(NormPosition position) { return position == NormPosition::pre ? "pre" : "post"; }

void validate(const TransformerConfig& config) {
    auto positive = [](const char* what, int value) {
        if (value <= 0) throw std::invalid_argument(fmt::format("transformer: {} must be positive, got {}", what, value));
    };
    positive("d_model", config.d_model);
    positive("heads", config.heads);
    positive("d_ff", config.d_ff);
    if (config.layers < 1 || config.layers > 8)
        throw std::invalid_argument(fmt::format("transformer: layers must be from 1 to 8, got {}", config.layers));
    if (config.d_model % config.heads != 0)
        throw std::invalid_argument(fmt::format("transformer: d_model {} is not a multiple of heads {} (each head "
                                                "takes d_k = d_model / heads columns)",
                                                config.d_model, config.heads));
    if (config.d_model % 2 != 0)
        throw std::invalid_argument(fmt::format("transformer: d_model must be even (the positional encoding pairs a "
                                                "sin and a cos column), got {}",
                                                config.d_model));
    if (config.src_vocab < 4 || config.tgt_vocab < 4)
        throw std::invalid_argument("transformer: a vocabulary needs <pad>, <bos>, <eos> and at least one token");
}

// ---- parameters ----

LayerNorm::LayerNorm(const std::string& prefix, int d) : gamma(prefix + ".gamma", 1, d, true), beta(prefix + ".beta", 1, d, true) {}

LayerNormOutput LayerNorm::operator()(Tensor x) {
    const Tensor g = gamma.use();  // γ then β on the tape, whatever the compiler's argument order
    const Tensor b = beta.use();
    return layer_norm(x, g, b);
}

MultiHeadAttention::MultiHeadAttention(const std::string& prefix, int d)
    : W_Q(prefix + ".W_Q", d, d), b_Q(prefix + ".b_Q", 1, d, true),
      W_K(prefix + ".W_K", d, d), b_K(prefix + ".b_K", 1, d, true),
      W_V(prefix + ".W_V", d, d), b_V(prefix + ".b_V", 1, d, true),
      W_O(prefix + ".W_O", d, d), b_O(prefix + ".b_O", 1, d, true) {}

FeedForward::FeedForward(const std::string& prefix, int d, int d_ff)
    : W_1(prefix + ".W_1", d_ff, d), b_1(prefix + ".b_1", 1, d_ff, true),
      W_2(prefix + ".W_2", d, d_ff), b_2(prefix + ".b_2", 1, d, true) {}

TransformerEncoderLayer::TransformerEncoderLayer(const std::string& prefix, int d, int d_ff)
    : self_attn(prefix + ".self_attn", d), norm1(prefix + ".norm1", d), ffn(prefix + ".ffn", d, d_ff),
      norm2(prefix + ".norm2", d) {}

TransformerDecoderLayer::TransformerDecoderLayer(const std::string& prefix, int d, int d_ff)
    : self_attn(prefix + ".self_attn", d), norm1(prefix + ".norm1", d), cross_attn(prefix + ".cross_attn", d),
      norm2(prefix + ".norm2", d), ffn(prefix + ".ffn", d, d_ff), norm3(prefix + ".norm3", d) {}

namespace {

const TransformerConfig& validated(const TransformerConfig& config) {
    validate(config);
    return config;
}

std::vector<Parameter*> parameters_of(LayerNorm& norm) { return {&norm.gamma, &norm.beta}; }
std::vector<Parameter*> parameters_of(MultiHeadAttention& a) {
    return {&a.W_Q, &a.b_Q, &a.W_K, &a.b_K, &a.W_V, &a.b_V, &a.W_O, &a.b_O};
}
std::vector<Parameter*> parameters_of(FeedForward& f) { return {&f.W_1, &f.b_1, &f.W_2, &f.b_2}; }

void append(std::vector<Parameter*>& all, const std::vector<Parameter*>& more) { all.insert(all.end(), more.begin(), more.end()); }

void init_norm(LayerNorm& norm) {
    std::fill(norm.gamma.value.begin(), norm.gamma.value.end(), 1.0);
    std::fill(norm.beta.value.begin(), norm.beta.value.end(), 0.0);
}

void init_attention(MultiHeadAttention& a, Rng& rng) {
    for (Parameter* W : {&a.W_Q, &a.W_K, &a.W_V, &a.W_O})  // Xavier: ±√(6 / (fan_in + fan_out))
        W->init_uniform(rng, std::sqrt(6.0 / (W->rows() + W->cols())));
    for (Parameter* b : {&a.b_Q, &a.b_K, &a.b_V, &a.b_O}) std::fill(b->value.begin(), b->value.end(), 0.0);
}

void init_feed_forward(FeedForward& f, Rng& rng) {  // nn.Linear: ±1/√fan_in for W and b
    for (Parameter* p : {&f.W_1, &f.b_1}) p->init_uniform(rng, 1.0 / std::sqrt(static_cast<double>(f.W_1.cols())));
    for (Parameter* p : {&f.W_2, &f.b_2}) p->init_uniform(rng, 1.0 / std::sqrt(static_cast<double>(f.W_2.cols())));
}

// The one place pre and post differ: where the norm sits around a sub-layer f.
//   pre   x + f(LN(x))        post  LN(x + f(x))
template <class Sublayer>
Tensor residual(NormPosition position, LayerNorm& norm, Tensor x, LayerNormOutput& statistics, Sublayer f) {
    if (position == NormPosition::pre) {
        statistics = norm(x);
        return add(x, f(statistics.out));
    }
    statistics = norm(add(x, f(x)));
    return statistics.out;
}

// The lengths when some example is shorter than the padded length, else none (nothing masked).
std::vector<int> padded_lengths(const std::vector<int>& lengths, int length) {
    const bool padded = std::any_of(lengths.begin(), lengths.end(), [length](int l) { return l != length; });
    return padded ? lengths : std::vector<int>{};
}

}  // namespace

Tensor AttentionResult::head(Tensor split, int example, int head_index) const {
    const int rows = split.rows() / (batch * heads);
    return slice_rows(split, (example * heads + head_index) * rows, rows);
}

// ---- the model ----

Transformer::Transformer(const TransformerConfig& config)
    : src_embed("src_embed", validated(config).src_vocab, config.d_model),
      tgt_embed("tgt_embed", config.tgt_vocab, config.d_model),
      output_W("output.W", config.tgt_vocab, config.d_model),
      output_b("output.b", 1, config.tgt_vocab, true),
      config_(config) {
    const int d = config.d_model;
    encoder.reserve(static_cast<std::size_t>(config.layers));
    decoder.reserve(static_cast<std::size_t>(config.layers));
    for (int l = 0; l < config.layers; ++l) encoder.emplace_back(fmt::format("encoder.{}", l), d, config.d_ff);
    for (int l = 0; l < config.layers; ++l) decoder.emplace_back(fmt::format("decoder.{}", l), d, config.d_ff);
    if (config.norm == NormPosition::pre) {
        encoder_norm = std::make_unique<LayerNorm>("encoder.norm", d);
        decoder_norm = std::make_unique<LayerNorm>("decoder.norm", d);
    }
}

std::vector<Parameter*> Transformer::parameters() {
    std::vector<Parameter*> all = {&src_embed, &tgt_embed};
    for (TransformerEncoderLayer& layer : encoder)
        for (const auto& part : {parameters_of(layer.self_attn), parameters_of(layer.norm1), parameters_of(layer.ffn),
                                 parameters_of(layer.norm2)})
            append(all, part);
    if (encoder_norm) append(all, parameters_of(*encoder_norm));
    for (TransformerDecoderLayer& layer : decoder)
        for (const auto& part : {parameters_of(layer.self_attn), parameters_of(layer.norm1),
                                 parameters_of(layer.cross_attn), parameters_of(layer.norm2),
                                 parameters_of(layer.ffn), parameters_of(layer.norm3)})
            append(all, part);
    if (decoder_norm) append(all, parameters_of(*decoder_norm));
    all.push_back(&output_W);
    all.push_back(&output_b);
    return all;
}

Parameter& Transformer::parameter(std::string_view name) {
    for (Parameter* p : parameters())
        if (p->name() == name) return *p;
    throw std::invalid_argument(fmt::format("this {}-norm transformer has no parameter '{}'", norm_position_name(config_.norm), name));
}

void Transformer::init(std::uint64_t seed) {
    Rng rng(seed);
    const double d = config_.d_model;
    src_embed.init_uniform(rng, std::sqrt(3.0 / d));
    tgt_embed.init_uniform(rng, std::sqrt(3.0 / d));
    for (TransformerEncoderLayer& layer : encoder) {
        init_attention(layer.self_attn, rng);
        init_feed_forward(layer.ffn, rng);
        init_norm(layer.norm1), init_norm(layer.norm2);
    }
    for (TransformerDecoderLayer& layer : decoder) {
        init_attention(layer.self_attn, rng);
        init_attention(layer.cross_attn, rng);
        init_feed_forward(layer.ffn, rng);
        init_norm(layer.norm1), init_norm(layer.norm2), init_norm(layer.norm3);
    }
    for (LayerNorm* norm : {encoder_norm.get(), decoder_norm.get()})
        if (norm) init_norm(*norm);
    output_W.init_uniform(rng, 1.0 / std::sqrt(d));
    output_b.init_uniform(rng, 1.0 / std::sqrt(d));
}

// Q = Q_in W_Qᵀ + b_Q, K = KV_in W_Kᵀ + b_K, V = KV_in W_Vᵀ + b_V, split into h heads;
// α_i = softmax(Q_i K_iᵀ / √d_k, −∞ where masked), head_i = α_i V_i, out = [head_1 … head_h] W_Oᵀ + b_O
AttentionResult Transformer::attention(MultiHeadAttention& attn, Tensor query_input, Tensor key_value_input,
                                       int batch, std::vector<int> mask) {
    const int h = config_.heads;
    // (W before b on the tape, as linear(x, W, b) with parameters: an argument list's order is the compiler's)
    auto heads_of = [&](Tensor input, Parameter& weight, Parameter& bias) {
        const Tensor w = weight.use();
        const Tensor b = bias.use();
        return linear_split_heads(input, w, b, batch, h);
    };
    const Tensor query = heads_of(query_input, attn.W_Q, attn.b_Q);
    const Tensor key = heads_of(key_value_input, attn.W_K, attn.b_K);
    const Tensor value = heads_of(key_value_input, attn.W_V, attn.b_V);
    return attend(attn, query, key, value, batch, std::move(mask));
}

// From the heads' Q_i, K_i, V_i on: the part a decoder step with cached keys and values shares.
AttentionResult Transformer::attend(MultiHeadAttention& attn, Tensor query, Tensor key, Tensor value, int batch,
                                    std::vector<int> mask) {
    const int h = config_.heads, d_k = config_.d_model / h;
    AttentionResult r;
    r.batch = batch;
    r.heads = h;
    r.query = query;
    r.key = key;
    r.value = value;
    r.scores = scaled_batched_matmul_nt(r.query, r.key, batch * h, 1.0 / std::sqrt(static_cast<double>(d_k)));
    r.mask = tape().save(mask);
    // without padding the encoder's and the cross-attention's masks hide nothing: no copy then
    const bool any_masked = std::find(mask.begin(), mask.end(), 1) != mask.end();
    r.alpha = softmax(any_masked ? masked_fill(r.scores, r.mask, -std::numeric_limits<double>::infinity()) : r.scores);
    r.context = batched_matmul(r.alpha, r.value, batch * h);
    const Tensor w_out = attn.W_O.use();
    const Tensor b_out = attn.b_O.use();
    r.out = merge_heads_linear(r.context, batch, h, w_out, b_out);
    return r;
}

// FFN(x) = relu(x W_1ᵀ + b_1) W_2ᵀ + b_2
Tensor Transformer::feed_forward(FeedForward& ffn, Tensor x) {
    const Tensor w_1 = ffn.W_1.use();  // W before b on the tape, as linear(x, W, b) with parameters
    const Tensor b_1 = ffn.b_1.use();
    return linear(linear_relu(x, w_1, b_1), ffn.W_2, ffn.b_2);
}

// table[ids] · √d + PE, for B sequences of `length` ids laid out b·length + t
Tensor Transformer::embed(Parameter& table, std::span<const int> ids, int batch, int length) {
    const Tensor embedded = gather_rows(table.use(), ids);
    const double d = config_.d_model;
    return add(scale(embedded, std::sqrt(d)), positional_encoding(length, config_.d_model, batch));
}

// pre:  x += MHA(LN₁x, LN₁x, pad);  x += FFN(LN₂x)      post:  x = LN₁(x + MHA(x, x, pad));  x = LN₂(x + FFN(x))
EncoderLayerForward Transformer::encoder_layer(TransformerEncoderLayer& layer, Tensor x, const TransformerEncoded& encoded) {
    const int B = encoded.batch, m = encoded.length;
    EncoderLayerForward f;
    x = residual(config_.norm, layer.norm1, x, f.norm1, [&](Tensor in) {
        f.self_attn = attention(layer.self_attn, in, in, B, attention_mask(B, config_.heads, m, m, encoded.src_lengths, false));
        return f.self_attn.out;
    });
    f.out = residual(config_.norm, layer.norm2, x, f.norm2, [&](Tensor in) { return f.ffn = feed_forward(layer.ffn, in); });
    return f;
}

// pre:  y += MHA(LN₁y, LN₁y, causal ∧ pad);  y += MHA(LN₂y, memory, src pad);  y += FFN(LN₃y)
// post: the same three sub-layers, each followed by its norm of the residual sum
DecoderLayerForward Transformer::decoder_layer(TransformerDecoderLayer& layer, Tensor y, const TransformerEncoded& encoded,
                                               int length, std::span<const int> target_lengths) {
    const int B = encoded.batch, h = config_.heads, n = length, m = encoded.length;
    return decoder_sublayers(
        layer, y,
        [&](Tensor in) { return attention(layer.self_attn, in, in, B, attention_mask(B, h, n, n, target_lengths, true)); },
        [&](Tensor in) {
            return attention(layer.cross_attn, in, encoded.memory, B, attention_mask(B, h, n, m, encoded.src_lengths, false));
        });
}

// The decoder layer's three sub-layers and their norms, whichever way attention gets its keys
// and values (all positions at once, or one position against a cache).
DecoderLayerForward Transformer::decoder_sublayers(TransformerDecoderLayer& layer, Tensor y,
                                                   const std::function<AttentionResult(Tensor)>& self_attention,
                                                   const std::function<AttentionResult(Tensor)>& cross_attention) {
    DecoderLayerForward f;
    y = residual(config_.norm, layer.norm1, y, f.norm1, [&](Tensor in) { return (f.self_attn = self_attention(in)).out; });
    y = residual(config_.norm, layer.norm2, y, f.norm2, [&](Tensor in) { return (f.cross_attn = cross_attention(in)).out; });
    f.out = residual(config_.norm, layer.norm3, y, f.norm3, [&](Tensor in) { return f.ffn = feed_forward(layer.ffn, in); });
    return f;
}

TransformerEncoded Transformer::encode(const Batch& batch) {
    TransformerEncoded encoded;
    encoded.batch = batch.size;
    encoded.length = batch.src_len;
    encoded.src_lengths = padded_lengths(batch.src_lengths, batch.src_len);
    encoded.input = embed(src_embed, batch.src, batch.size, batch.src_len);
    Tensor x = encoded.input;
    for (TransformerEncoderLayer& layer : encoder) {
        encoded.layers.push_back(encoder_layer(layer, x, encoded));
        x = encoded.layers.back().out;
    }
    if (encoder_norm) encoded.final_norm = (*encoder_norm)(x);
    encoded.memory = encoder_norm ? encoded.final_norm.out : x;
    return encoded;
}

TransformerDecoded Transformer::decode(const TransformerEncoded& encoded, std::span<const int> inputs, int length,
                                       std::span<const int> target_lengths) {
    if (inputs.size() != static_cast<std::size_t>(encoded.batch) * static_cast<std::size_t>(length))
        throw std::invalid_argument(fmt::format("decode: {} input ids for {} examples of length {}", inputs.size(),
                                                encoded.batch, length));
    TransformerDecoded decoded;
    decoded.input = embed(tgt_embed, inputs, encoded.batch, length);
    Tensor y = decoded.input;
    for (TransformerDecoderLayer& layer : decoder) {
        decoded.layers.push_back(decoder_layer(layer, y, encoded, length, target_lengths));
        y = decoded.layers.back().out;
    }
    if (decoder_norm) {
        decoded.final_norm = (*decoder_norm)(y);
        y = decoded.final_norm.out;
    }
    decoded.logits = linear(y, output_W, output_b);  // logits = y W_outᵀ + b_out
    return decoded;
}

TransformerForward Transformer::forward(const Batch& batch) {
    TransformerForward out;
    out.encoder = encode(batch);
    const std::vector<int> target_lengths = padded_lengths(batch.tgt_lengths, batch.tgt_len);
    out.decoder = decode(out.encoder, batch.tgt_in, batch.tgt_len, target_lengths);
    out.logits = out.decoder.logits;
    out.token_losses = nll_loss(log_softmax(out.logits), batch.tgt_out, Vocab::pad);
    out.loss = scale(sum(out.token_losses), 1.0 / static_cast<double>(loss_token_count(batch)));
    return out;
}

std::vector<std::vector<int>> Transformer::greedy_decode(const Batch& batch, int max_length) {
    const int B = batch.size;
    const TransformerEncoded encoded = encode(batch);
    std::vector<std::vector<int>> fed(static_cast<std::size_t>(B), std::vector<int>{Vocab::bos});  // <bos> ŷ_1 …
    std::vector<std::vector<int>> outputs(static_cast<std::size_t>(B));
    std::vector<bool> done(static_cast<std::size_t>(B), false);
    const auto V = static_cast<std::size_t>(config_.tgt_vocab);
    for (int n = 1; n <= max_length; ++n) {
        std::vector<int> inputs;  // B × n, row-major as batch.tgt_in
        for (const auto& prefix : fed) inputs.insert(inputs.end(), prefix.begin(), prefix.end());
        const Tensor logits = decode(encoded, inputs, n, {}).logits;
        for (int b = 0; b < B; ++b) {
            const auto bi = static_cast<std::size_t>(b);
            // the last position's logits: ties go to the lower id, as Seq2Seq::greedy_decode
            const auto row = logits.values().subspan((bi * static_cast<std::size_t>(n) + static_cast<std::size_t>(n) - 1) * V, V);
            const int best = static_cast<int>(std::max_element(row.begin(), row.end()) - row.begin());
            fed[bi].push_back(best);
            if (!done[bi]) outputs[bi].push_back(best);
            done[bi] = done[bi] || best == Vocab::eos;
        }
        if (std::all_of(done.begin(), done.end(), [](bool d) { return d; })) break;
    }
    return outputs;
}

Tensor Transformer::loss(const Batch& batch, std::span<const std::uint8_t> feed_gold) {
    if (std::find(feed_gold.begin(), feed_gold.end(), std::uint8_t{0}) != feed_gold.end())
        throw std::invalid_argument("the Transformer trains teacher forced only (--teacher-forcing 1): its decoder "
                                    "reads the whole gold prefix at once, so it cannot feed back its own argmax");
    return forward(batch).loss;
}

namespace {

// One decoder layer's keys and values so far, one row per prefix: the rows of K (and V) of
// every position side by side, (rows, positions·d), so that a step appends a column block
// and beam search picks rows with one gather.
struct KeyValueCache {
    Tensor self_keys, self_values;    // positions 0 … p−1 of the prefix; undefined before the first step
    Tensor cross_keys, cross_values;  // the memory's, computed once: (rows, m·d)
};

struct TransformerDecoderState final : DecoderState {
    TransformerEncoded encoded;  // memory and source lengths, one row block of m per prefix
    std::vector<KeyValueCache> layers;
    int position = 0;  // p: the decoder inputs read so far
};

// (rows·t, d) → (rows, t·d): row r's t positions side by side
Tensor as_blocks(Tensor rows_by_position, int rows) {
    return reshape(rows_by_position, rows, rows_by_position.rows() / rows * rows_by_position.cols());
}

}  // namespace

std::unique_ptr<DecoderState> Transformer::start_decoding(const Batch& batch) {
    auto state = std::make_unique<TransformerDecoderState>();
    state->encoded = encode(batch);
    const Tensor memory = state->encoded.memory;
    for (TransformerDecoderLayer& layer : decoder) {
        KeyValueCache cache;
        // K = memory W_Kᵀ + b_K,  V = memory W_Vᵀ + b_V: the same at every step
        cache.cross_keys = as_blocks(linear(memory, layer.cross_attn.W_K, layer.cross_attn.b_K), batch.size);
        cache.cross_values = as_blocks(linear(memory, layer.cross_attn.W_V, layer.cross_attn.b_V), batch.size);
        state->layers.push_back(cache);
    }
    return state;
}

// Position p of every row: its query against the cached keys of positions 0 … p (its own
// appended first), so no mask is needed — the cache holds no later position — and then
// against the memory. The same numbers as the whole-prefix pass, up to rounding.
Tensor Transformer::next_log_probs(DecoderState& state, std::span<const int> inputs) {
    auto& decoding = dynamic_cast<TransformerDecoderState&>(state);
    const int rows = static_cast<int>(inputs.size()), h = config_.heads, d = config_.d_model;
    if (rows != decoding.encoded.batch)
        throw std::invalid_argument(fmt::format("next_log_probs: {} inputs for {} rows", rows, decoding.encoded.batch));
    const int p = decoding.position;
    // Y = tgt_embed[y_{p}] · √d + PE[p]
    const std::vector<int> at_p(static_cast<std::size_t>(rows), p);
    Tensor y = add(scale(gather_rows(tgt_embed.use(), inputs), std::sqrt(static_cast<double>(d))),
                   gather_rows(positional_encoding(p + 1, d), at_p));
    const std::vector<int> memory_mask = attention_mask(rows, h, 1, decoding.encoded.length, decoding.encoded.src_lengths, false);
    for (std::size_t l = 0; l < decoder.size(); ++l) {
        TransformerDecoderLayer& layer = decoder[l];
        KeyValueCache& cache = decoding.layers[l];
        const auto self_attention = [&](Tensor in) {
            const Tensor query = split_heads(linear(in, layer.self_attn.W_Q, layer.self_attn.b_Q), rows, h);
            const Tensor key = linear(in, layer.self_attn.W_K, layer.self_attn.b_K);
            const Tensor value = linear(in, layer.self_attn.W_V, layer.self_attn.b_V);
            cache.self_keys = p == 0 ? key : concat_cols({cache.self_keys, key});
            cache.self_values = p == 0 ? value : concat_cols({cache.self_values, value});
            return attend(layer.self_attn, query, split_heads(reshape(cache.self_keys, rows * (p + 1), d), rows, h),
                          split_heads(reshape(cache.self_values, rows * (p + 1), d), rows, h), rows,
                          std::vector<int>(static_cast<std::size_t>(rows * h * (p + 1)), 0));
        };
        const auto cross_attention = [&](Tensor in) {
            const int m = decoding.encoded.length;
            const Tensor query = split_heads(linear(in, layer.cross_attn.W_Q, layer.cross_attn.b_Q), rows, h);
            return attend(layer.cross_attn, query, split_heads(reshape(cache.cross_keys, rows * m, d), rows, h),
                          split_heads(reshape(cache.cross_values, rows * m, d), rows, h), rows, memory_mask);
        };
        y = decoder_sublayers(layer, y, self_attention, cross_attention).out;
    }
    if (decoder_norm) y = (*decoder_norm)(y).out;
    ++decoding.position;
    // logits = y W_outᵀ + b_out
    return log_softmax(linear(y, output_W, output_b));
}

void Transformer::select_rows(DecoderState& state, std::span<const int> rows) {
    auto& decoding = dynamic_cast<TransformerDecoderState&>(state);
    TransformerEncoded& encoded = decoding.encoded;
    const int m = encoded.length;
    std::vector<int> memory_rows;  // row r·m + t of the new memory is row rows[r]·m + t of the old
    std::vector<int> src_lengths;
    for (const int r : rows) {
        for (int t = 0; t < m; ++t) memory_rows.push_back(r * m + t);
        if (!encoded.src_lengths.empty()) src_lengths.push_back(encoded.src_lengths[static_cast<std::size_t>(r)]);
    }
    encoded.memory = gather_rows(encoded.memory, memory_rows);
    encoded.batch = static_cast<int>(rows.size());
    encoded.src_lengths = std::move(src_lengths);
    for (KeyValueCache& cache : decoding.layers)
        for (Tensor* blocks : {&cache.self_keys, &cache.self_values, &cache.cross_keys, &cache.cross_values})
            if (blocks->defined()) *blocks = gather_rows(*blocks, rows);
}

}  // namespace stepgrad
