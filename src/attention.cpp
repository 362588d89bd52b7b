#include "stepgrad/attention.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "stepgrad/ops.hpp"

namespace stepgrad {

ScoreKind parse_score_kind(std::string_view name) {
    if (name == "concat") return ScoreKind::concat;
    if (name == "dot") return ScoreKind::dot;
    if (name == "general") return ScoreKind::general;
    if (name == "qk") return ScoreKind::qk;
    if (name == "qk-scaled") return ScoreKind::qk_scaled;
    if (name == "none") return ScoreKind::none;
    throw std::invalid_argument(
        fmt::format("unknown score '{}' (allowed: concat, dot, general, qk, qk-scaled)", name));
}

const char* score_kind_name(ScoreKind kind) {
    switch (kind) {
        case ScoreKind::none: return "none";
        case ScoreKind::concat: return "concat";
        case ScoreKind::dot: return "dot";
        case ScoreKind::general: return "general";
        case ScoreKind::qk: return "qk";
        case ScoreKind::qk_scaled: return "qk-scaled";
    }
    return "?";
}

namespace {
// α = softmax(e), with −∞ at the masked positions so that α is exactly 0 there
Tensor masked_softmax(Tensor scores, std::span<const int> mask) {
    return softmax(mask.empty() ? scores : masked_fill(scores, mask, -std::numeric_limits<double>::infinity()));
}
}  // namespace

Tensor Score::weights(Tensor keys, Tensor query, std::span<const int> mask) {
    return masked_softmax(scores(keys, query), mask);
}

// PyTorch's nn.Linear range, uniform(−1/√fan_in, 1/√fan_in), for W, W_K, W_Q and v.
void Score::init(Rng& rng) {
    for (Parameter* p : parameters()) p->init_uniform(rng, 1.0 / std::sqrt(static_cast<double>(p->cols())));
}

namespace {

// (B, m·K) blocks → (B·m, K) rows, so one matmul projects every h_i at once.
Tensor project_blocks(Tensor blocks, int length, Tensor weight) {
    const int B = blocks.rows(), K = blocks.cols() / length;
    const Tensor projected = matmul_nt(reshape(blocks, B * length, K), weight);  // (B·m, A)
    return reshape(projected, B, length * weight.rows());
}

class ConcatScore final : public Score {
public:
    ConcatScore(int H_k, int H, int A) : W("attention.W", A, H_k + H), v("attention.v", 1, A, true), H_k_(H_k), H_(H) {}
    ScoreKind kind() const override { return ScoreKind::concat; }
    // W [h_i; s] = W_h h_i + W_s s with W = [W_h W_s]: the h half is computed once per sentence.
    Tensor keys(Tensor states, int length) override {
        return project_blocks(states, length, slice_cols(W.use(), 0, H_k_));
    }
    Tensor query(Tensor s) override { return matmul_nt(s, slice_cols(W.use(), H_k_, H_)); }
    // e_i = vᵀ tanh(W_h h_i + W_s s)
    Tensor scores(Tensor keys, Tensor query) override { return additive_scores(keys, query, v.use()); }
    // α = softmax(e) with e made in α's place
    Tensor weights(Tensor keys, Tensor query, std::span<const int> mask) override {
        return additive_attention_weights(keys, query, v.use(), mask);
    }
    std::vector<Parameter*> parameters() override { return {&W, &v}; }

private:
    Parameter W, v;
    int H_k_, H_;
};

class DotScore final : public Score {
public:
    ScoreKind kind() const override { return ScoreKind::dot; }
    Tensor keys(Tensor states, int) override { return states; }
    Tensor query(Tensor s) override { return s; }
    // e_i = sᵀ h_i
    Tensor scores(Tensor keys, Tensor query) override { return blocks_dot(keys, query); }
    std::vector<Parameter*> parameters() override { return {}; }
};

class GeneralScore final : public Score {
public:
    GeneralScore(int H_k, int H) : W("attention.W", H, H_k) {}
    ScoreKind kind() const override { return ScoreKind::general; }
    Tensor keys(Tensor states, int) override { return states; }
    // sᵀ W h_i = (sᵀ W) h_i: one (B, H)·(H, H_k) product per step instead of one per h_i.
    Tensor query(Tensor s) override { return matmul(s, W.use()); }
    // e_i = sᵀ W h_i
    Tensor scores(Tensor keys, Tensor query) override { return blocks_dot(keys, query); }
    std::vector<Parameter*> parameters() override { return {&W}; }

private:
    Parameter W;
};

class QkScore final : public Score {
public:
    QkScore(int H_k, int H, int A, bool scaled)
        : W_K("attention.W_K", A, H_k), W_Q("attention.W_Q", A, H), scaled_(scaled),
          scale_(1.0 / std::sqrt(static_cast<double>(A))) {}
    ScoreKind kind() const override { return scaled_ ? ScoreKind::qk_scaled : ScoreKind::qk; }
    // k_i = W_K h_i
    Tensor keys(Tensor states, int length) override { return project_blocks(states, length, W_K.use()); }
    // q = W_Q s
    Tensor query(Tensor s) override { return matmul_nt(s, W_Q.use()); }
    // e_i = k_iᵀ q, or k_iᵀ q / √A: without the scale, scores grow like √A and the
    // softmax saturates (Vaswani et al. 2017, §3.2.1).
    Tensor scores(Tensor keys, Tensor query) override {
        const Tensor e = blocks_dot(keys, query);
        return scaled_ ? scale(e, scale_) : e;
    }
    std::vector<Parameter*> parameters() override { return {&W_K, &W_Q}; }

private:
    Parameter W_K, W_Q;
    bool scaled_;
    double scale_;
};

}  // namespace

std::unique_ptr<Score> make_score(ScoreKind kind, int key_size, int query_size, int attn_size) {
    switch (kind) {
        case ScoreKind::concat: return std::make_unique<ConcatScore>(key_size, query_size, attn_size);
        case ScoreKind::dot:
            if (key_size != query_size)
                throw std::invalid_argument(fmt::format("make_score: dot needs keys as wide as queries, got {} and {} "
                                                        "(use general or qk)", key_size, query_size));
            return std::make_unique<DotScore>();
        case ScoreKind::general: return std::make_unique<GeneralScore>(key_size, query_size);
        case ScoreKind::qk: return std::make_unique<QkScore>(key_size, query_size, attn_size, false);
        case ScoreKind::qk_scaled: return std::make_unique<QkScore>(key_size, query_size, attn_size, true);
        case ScoreKind::none: break;
    }
    throw std::invalid_argument("make_score: the plain decoder has no score");
}

AttentionKeys prepare_attention(Score& score, Tensor states, int length) {
    return {states, score.keys(states, length), length};
}

AttentionStep attend(Score& score, const AttentionKeys& keys, Tensor s, std::span<const int> source_mask, Keep keep) {
    AttentionStep step;
    step.query = score.query(s);
    if (keep == Keep::for_backward) {
        // α_j = softmax(e_j), e_j not kept
        step.alpha = score.weights(keys.keys, step.query, source_mask);
    } else {
        // e_{j,i} = score(h_i, s)
        step.scores = score.scores(keys.keys, step.query);
        // α_j = softmax(e_j); padded positions get −∞, so softmax gives them α = 0 exactly
        step.alpha = masked_softmax(step.scores, source_mask);
    }
    // c_j = Σ_i α_{j,i} h_i
    step.context = blocks_weighted_sum(step.alpha, keys.states);
    return step;
}

}  // namespace stepgrad
