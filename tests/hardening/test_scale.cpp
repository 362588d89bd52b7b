// Scale (issue 8): a source of 1,000 tokens runs through every decoder with every cell,
// forward and backward, without overflowing the stack (backward walks the tape in a
// loop, not by recursion), and the memory the tape holds grows linearly with the
// length for the plain model. Attention keeps an m-long row of scores (and, for concat,
// an m × A block) per target step: O(m·n) memory, measured here and reported in the
// README rather than hidden.
#include "../testing.hpp"

#include <cmath>
#include <string>
#include <thread>

#include "stepgrad/seq2seq.hpp"

using namespace stepgrad;

namespace {

struct ModelKind {
    const char* decoder;
    const char* score;
};
constexpr ModelKind model_kinds[] = {{"plain", "none"}, {"bahdanau", "concat"}, {"luong", "qk-scaled"}};

ModelConfig small_config(const char* cell, const ModelKind& kind) {
    ModelConfig c;
    c.cell = parse_cell_kind(cell);
    c.decoder = parse_decoder_kind(kind.decoder);
    c.score = parse_score_kind(kind.score);
    c.src_vocab = c.tgt_vocab = 13;  // `reverse` with 10 symbols
    c.embed = c.hidden = c.attn = 4;
    return c;
}

// One example: m random symbols, its reversal (n = target_length) as the target.
Example long_example(int m, int target_length, std::uint64_t seed) {
    Rng rng(seed);
    Example e;
    for (int i = 0; i < m; ++i) e.src.push_back(3 + static_cast<int>(rng.below(10)));
    for (int j = 0; j < target_length; ++j) e.tgt.push_back(e.src[static_cast<std::size_t>(m - 1 - j)]);
    e.src.push_back(Vocab::eos);
    e.tgt.push_back(Vocab::eos);
    return e;
}

struct Footprint {
    std::size_t entries = 0;       // tape entries
    double tensor_mb = 0;          // values and gradients the tape's entries hold
    double arena_mb = 0;           // what the tape's arenas reserved (blocks double in size)
};

// Forward and backward of one example on a fresh thread, so the tape (one per thread)
// starts empty and its arena shows what this length alone needs.
Footprint footprint(const ModelConfig& config, int m, int n) {
    Footprint result;
    std::thread([&] {
        Seq2Seq model(config);
        model.init(1);
        const Example example = long_example(m, n, 7);
        const Forward forward = model.forward(make_batch(std::span<const Example>(&example, 1)));
        tape().backward(forward.loss);
        result.entries = tape().size();
        double numbers = 0;
        for (std::size_t i = 0; i < tape().size(); ++i) {
            const TapeEntry& e = tape().entry_at(i);
            const double size = static_cast<double>(e.rows) * e.cols;
            numbers += size * (e.owns_grad ? 2 : 1);
        }
        result.tensor_mb = numbers * sizeof(double) / 1e6;
        result.arena_mb = static_cast<double>(tape().arena_bytes()) / 1e6;
        tape().reset();
    }).join();
    return result;
}

}  // namespace

TEST_CASE("a 1,000-token source runs through every decoder and cell, forward and backward") {
    for (const char* cell : {"rnn", "gru", "lstm"})
        for (const ModelKind& kind : model_kinds) {
            CAPTURE(cell);
            CAPTURE(kind.decoder);
            Seq2Seq model(small_config(cell, kind));
            model.init(3);
            // a long source, a short target: the encoder's 1,000 steps and every decoder
            // step's attention over all of them; the long target is measured below
            const Example example = long_example(1000, 20, 11);
            tape().reset();
            const Forward forward = model.forward(make_batch(std::span<const Example>(&example, 1)));
            REQUIRE(forward.encoder.steps.size() == 1001);
            REQUIRE(std::isfinite(forward.loss.value(0)));
            for (Parameter* p : model.parameters()) p->zero_grad();
            tape().backward(forward.loss);
            double squares = 0;
            for (const Parameter* p : model.parameters())
                for (const double g : p->grad) squares += g * g;
            CHECK(std::isfinite(squares));
            CHECK(squares > 0);
            // the first encoder step is 1,000 steps from the loss: its gradient arrived
            double embed_grad = 0;
            for (const double g : model.src_embed.grad) embed_grad += std::abs(g);
            CHECK(embed_grad > 0);
            tape().reset();
        }
}

TEST_CASE("tape memory grows linearly with the length for plain seq2seq, as m·n with attention") {
    // n = m (reverse): the plain model's tape is O(m + n); attention adds O(m·n).
    for (const ModelKind& kind : model_kinds) {
        const ModelConfig config = small_config("gru", kind);
        const Footprint at250 = footprint(config, 250, 250), at500 = footprint(config, 500, 500),
                        at1000 = footprint(config, 1000, 1000);
        const double ratio = at1000.tensor_mb / at500.tensor_mb;
        MESSAGE(std::string(kind.decoder), "/", std::string(kind.score), " (GRU, E = H = A = 4, n = m): tape tensors ", at250.tensor_mb, " / ",
                at500.tensor_mb, " / ", at1000.tensor_mb, " MB at m = 250 / 500 / 1000 (ratio 1000:500 = ", ratio,
                "); arena ", at250.arena_mb, " / ", at500.arena_mb, " / ", at1000.arena_mb, " MB; entries ",
                at250.entries, " / ", at500.entries, " / ", at1000.entries);
        CHECK(at1000.entries < 2.1 * at500.entries);  // ops per step do not depend on the length
        if (std::string_view(kind.decoder) == "plain")
            CHECK(ratio < 2.5);
        else
            CHECK(ratio < 4.5);  // quadratic: ≈ 4 when both lengths double
    }
    // With the target's length fixed, attention too is linear in the source's.
    for (const ModelKind& kind : model_kinds) {
        const ModelConfig config = small_config("gru", kind);
        const Footprint at500 = footprint(config, 500, 20), at1000 = footprint(config, 1000, 20);
        const double ratio = at1000.tensor_mb / at500.tensor_mb;
        MESSAGE(std::string(kind.decoder), "/", std::string(kind.score), " (n = 20): tape tensors ", at500.tensor_mb, " / ", at1000.tensor_mb,
                " MB at m = 500 / 1000 (ratio ", ratio, ")");
        CHECK(ratio < 2.5);
    }
}
