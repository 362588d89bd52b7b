// One source read forwards, backwards and both ways (see encoders.hpp).
#include "common/encoders.hpp"

#include <algorithm>
#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "common/training.hpp"  // defines: model_config
#include "stepgrad/ops.hpp"

namespace stepgrad {

namespace {

using Vector = std::vector<double>;

// One cell reading the source alone from a zero state: x_1 … x_m forwards, x_m … x_1
// backwards. states[t] is its state after reading position t, whichever way it went.
std::vector<Vector> read_one_way(Cell& cell, Parameter& src_embed, std::span<const int> src, bool backward) {
    const std::size_t m = src.size();
    std::vector<Vector> states(m);
    CellState state = cell.initial_state(1);
    for (std::size_t k = 0; k < m; ++k) {
        const std::size_t t = backward ? m - 1 - k : k;
        const Tensor x = gather_rows(src_embed.use(), src.subspan(t, 1));  // src_embed[x_t]
        // →h_t = cell(src_embed[x_t], →h_{t−1}) forwards, ←h_t = cell(src_embed[x_t], ←h_{t+1}) backwards
        state = cell.step(x, state).state;
        states[t] = state.h.to_vector();
    }
    return states;
}

// [a; b]
Vector concatenated(const Vector& a, const Vector& b) {
    Vector both = a;
    both.insert(both.end(), b.begin(), b.end());
    return both;
}

double largest_difference(std::span<const double> a, std::span<const double> b) {
    double largest = 0;
    for (std::size_t i = 0; i < a.size(); ++i) largest = std::max(largest, std::abs(a[i] - b[i]));
    return largest;
}

// "0", or "1.1e-16, rounding": the library's tanh is a vectorised kernel, not std::tanh.
std::string difference_text(double difference) {
    return difference == 0 ? "0" : fmt::format("{:.1e}{}", difference, difference < 1e-12 ? ", rounding" : "");
}

// "→h_2 ('b')": a state, its position (1-based) and the token read there.
std::string state_label(std::string_view name, std::size_t t, const Vocab& vocab, int id) {
    return fmt::format("{}_{} ('{}')", name, t + 1, vocab.token(id));
}

// bridge.W ←h_1 + bridge.b, in plain doubles: bridge.W is H × H, row-major.
Vector bridge_pre_activation(const Seq2Seq::Bridge& bridge, const Vector& back_h1) {
    const std::size_t H = back_h1.size();
    Vector pre(bridge.b.value);
    for (std::size_t r = 0; r < H; ++r)
        for (std::size_t c = 0; c < H; ++c) pre[r] += bridge.W.value[r * H + c] * back_h1[c];
    return pre;
}

}  // namespace


std::unique_ptr<Seq2Seq> demonstration_model(const LessonFlags& flags, const TaskGenerator& task) {
    LessonFlags small = flags;
    small.embed = small.hidden = small.attn = demonstration_size;
    small.bidirectional = true;
    small.layers = 1;
    auto model = std::make_unique<Seq2Seq>(model_config(small, task));
    model->init(flags.seed);
    return model;
}

void print_both_directions(Printer& out, Seq2Seq& model, const Example& example, const Vocab& src_vocab) {
    const std::span<const int> src = example.src;
    const std::size_t m = src.size();
    tape().reset();
    const std::vector<Vector> forward = read_one_way(*model.encoder.front(), model.src_embed, src, false);
    const std::vector<Vector> backward = read_one_way(*model.encoder_reverse.front(), model.src_embed, src, true);

    out.line("  forward: →h_t = cell(src_embed[x_t], →h_{{t−1}}), x_1 … x_{} from →h_0 = 0", m);
    for (std::size_t t = 0; t < m; ++t) out.vector(state_label("→h", t, src_vocab, src[t]), forward[t]);
    out.line("  backward: ←h_t = cell(src_embed[x_t], ←h_{{t+1}}), x_{} … x_1 from ←h_{} = 0", m, m + 1);
    for (std::size_t k = 0; k < m; ++k) {
        const std::size_t t = m - 1 - k;
        out.vector(state_label("←h", t, src_vocab, src[t]), backward[t]);
    }

    // The library's bidirectional encoder: both cells, and the annotations as blocks (1, m·2H)
    const Encoded encoded = model.encode(make_batch(std::span<const Example>(&example, 1)));
    const std::span<const double> annotations = encoded.attention.states.values();
    const std::size_t width = 2 * forward.front().size();  // H_k = 2H
    out.line("  bidirectional, both at once: h_t = [→h_t; ←h_t], what attention reads");
    double difference = 0;
    for (std::size_t t = 0; t < m; ++t) {
        const std::span<const double> h_t = annotations.subspan(t * width, width);
        out.vector(state_label("h", t, src_vocab, src[t]), h_t);
        difference = std::max(difference, largest_difference(h_t, concatenated(forward[t], backward[t])));
    }
    out.line("  (Seq2Seq::encode computes the same h_t: largest difference {})", difference_text(difference));

    // s_0 = tanh(bridge.W ←h_1 + bridge.b), by hand, beside the library's
    const Seq2Seq::Bridge& bridge = *model.bridge.front();
    const std::size_t H = forward.front().size();
    out.line("  where the decoder starts:");
    out.matrix("bridge.W", bridge.W.value, H, H);
    out.vector("bridge.b", bridge.b.value);
    const Vector pre = bridge_pre_activation(bridge, backward.front());
    Vector s0(H);
    std::transform(pre.begin(), pre.end(), s0.begin(), [](double v) { return std::tanh(v); });
    out.vector("bridge.W ←h_1 + bridge.b", pre);
    out.vector("s_0 = tanh(bridge.W ←h_1 + bridge.b)", s0);
    out.line("  (the library's s_0: largest difference {})",
             difference_text(largest_difference(encoded.initial.front().h.values(), s0)));
    out.vector(fmt::format("a forward-only model's s_0 = →h_{}", m), forward.back());
    tape().reset();
}

}  // namespace stepgrad
