// Exercise 07: Luong's attentional hidden state h̃ = tanh(W_c [s; c]). <07_luong_output.hpp> is the
// learner's file or the reference solution, as STEPGRAD_EXERCISES chooses (tests/exercises/CMakeLists.txt).
#include <07_luong_output.hpp>

#include <cmath>

#include "stepgrad/seq2seq.hpp"
#include "exercise_testing.hpp"

using namespace stepgrad;
using namespace stepgrad::exercises::testing;

namespace {

constexpr int B = 2, H = 3;

// W_c = [left right], each (H, H): left multiplies s, right multiplies c.
std::vector<double> blocks_W_c(double left, double right) {
    std::vector<double> W(static_cast<std::size_t>(H * 2 * H), 0.0);
    for (int k = 0; k < H; ++k) {
        W[static_cast<std::size_t>(k * 2 * H + k)] = left;
        W[static_cast<std::size_t>(k * 2 * H + H + k)] = right;
    }
    return W;
}

}  // namespace

TEST_CASE("Luong output with W_c = [I 0] gives tanh(s), with W_c = [0 I] tanh(c)") {
    auto s = random_parameter("s", B, H, 1, -2.0, 2.0);
    auto c = random_parameter("c", B, H, 2, -2.0, 2.0);
    std::vector<double> tanh_s, tanh_c;
    for (double v : s->value) tanh_s.push_back(std::tanh(v));
    for (double v : c->value) tanh_c.push_back(std::tanh(v));
    tape().reset();
    check_tensor(exercises::luong_attentional(s->use(), c->use(), constant(H, 2 * H, blocks_W_c(1, 0))), tanh_s, B, H,
                 "h̃ with W_c = [I 0] (expected tanh(s): is [s; c] in that order?)");
    check_tensor(exercises::luong_attentional(s->use(), c->use(), constant(H, 2 * H, blocks_W_c(0, 1))), tanh_c, B, H,
                 "h̃ with W_c = [0 I] (expected tanh(c))");
}

TEST_CASE("Luong output equals the h̃ of stepgrad's Luong decoder step") {
    ModelConfig config;
    config.decoder = DecoderKind::luong;
    config.score = ScoreKind::dot;
    config.src_vocab = config.tgt_vocab = 6;
    config.embed = 4;
    config.hidden = H;
    Seq2Seq model(config);
    model.init(3);
    const Batch batch = make_batch(std::vector<Example>{{{3, 4, 5, 2}, {5, 4, 3, 2}}, {{4, 4, 2}, {4, 4, 2}}});
    tape().reset();
    const Encoded encoded = model.encode(batch);
    const std::vector<int> bos(static_cast<std::size_t>(batch.size), Vocab::bos);
    const DecoderStep step = model.decoder_step(encoded, encoded.final, bos);
    const Tensor yours = exercises::luong_attentional(step.cell.state.h, step.attention.context, model.output_W_c->use());
    check_tensor(yours, step.attentional, "h̃ compared with Seq2Seq::decoder_step (W_c is stored (out, in): [s; c] W_cᵀ)");
}

TEST_CASE("Luong output: gradients of W_c, s and c match finite differences") {
    auto s = random_parameter("s", B, H, 3);
    auto c = random_parameter("c", B, H, 4);
    auto W_c = random_parameter("W_c", H, 2 * H, 5);
    check_gradients([&] { return weighted_sum(exercises::luong_attentional(s->use(), c->use(), W_c->use())); },
                    {W_c.get(), s.get(), c.get()});
}
