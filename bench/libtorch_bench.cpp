// libtorch-bench — bench/torch_bench.py line for line in C++ libtorch, for the speed table
// (bench/speed_table.sh): the model of SPEC §4 with torch::nn's GRUCell/LSTMCell/RNNCell
// in a step loop and batched attention with bmm, the same training step (forward, backward,
// gradient-norm clipping to 1, Adam with lr 1e-3), float64, one thread. It measures what
// the eager PyTorch figures cost without the Python interpreter on top.
//
// --layers L stacks L cells in the encoder and in the decoder as SPEC §11 and torch_bench.py:
// layer ℓ > 1 reads layer ℓ−1's h at the same step, the decoder's layer ℓ starts from the
// encoder's layer ℓ, the keys are the encoder's top layer, the query the decoder's top layer,
// bahdanau's c_j goes into layer 1 and the output layer reads the top layer.
// Same flags as stepgrad-bench and torch_bench.py; the same vocabulary convention as both:
// --vocab V counts <pad> <bos> <eos> (ids 0, 1, 2), the random symbols are ids 3 … V−1,
// so all three programs have V-row embeddings and V logits for the same --vocab.
// Loss: mean NLL over the target tokens that are not <pad> (there are none here: every
// example has m symbols, so this is the mean over all B·(m + 1) tokens, as torch_bench.py).
// Last line, as stepgrad-bench's:  steps_per_s=… tokens_per_s=… peak_rss_mb=…
//
//   libtorch-bench --cell gru --decoder bahdanau --score concat --batch 32 --steps 60
//
// Optional: built only with -DSTEPGRAD_LIBTORCH_BENCH=ON when find_package(Torch) finds
// libtorch (Debian's libtorch-dev); nothing else in stepgrad uses it. It uses neither
// stepgrad nor fmt, so libtorch's ABI and C++ standard stay this one target's business.
#include <dlfcn.h>
#include <sys/resource.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

struct Options {
    std::string cell = "gru", decoder = "bahdanau", score = "concat";
    int64_t embed = 32, hidden = 64, attn = 64, vocab = 32, src_len = 12, batch = 32, steps = 100, warmup = 10;
    int64_t layers = 1;
    int64_t threads = 1;  // torch's intra-op threads and OpenBLAS's
    uint64_t seed = 1;
};

// A recurrent state: h, and c for the LSTM.
struct State {
    torch::Tensor h, c;
};

// One of nn.RNNCell / nn.GRUCell / nn.LSTMCell (SPEC §3), called on (x, state).
struct Cell {
    torch::nn::RNNCell rnn{nullptr};
    torch::nn::GRUCell gru{nullptr};
    torch::nn::LSTMCell lstm{nullptr};

    State operator()(const torch::Tensor& x, const State& state) {
        if (lstm) {
            auto [h, c] = lstm(x, std::make_tuple(state.h, state.c));
            return {h, c};
        }
        return {gru ? gru(x, state.h) : rnn(x, state.h), {}};
    }
};

// B: batch, m: source length, n: target length, E: embed, H: hidden, A: attn, V: vocab.
struct Seq2SeqImpl : torch::nn::Module {
    explicit Seq2SeqImpl(const Options& a) : a(a) {
        const int64_t E = a.embed, H = a.hidden, A = a.attn, V = a.vocab;
        src_embed = register_module("src_embed", torch::nn::Embedding(V, E));
        tgt_embed = register_module("tgt_embed", torch::nn::Embedding(V, E));
        encoder.push_back(make_cell("encoder", E));
        decoder.push_back(make_cell("decoder", a.decoder == "bahdanau" ? E + H : E));
        auto linear = [&](const char* name, int64_t in, int64_t out) {
            return register_module(name, torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(false)));
        };
        if (a.decoder != "plain") {
            if (a.score == "concat") {  // W = [W_h W_s] applied to [h_i; s]
                W_h = linear("W_h", H, A);
                W_s = linear("W_s", H, A);
                v = linear("v", A, 1);
            } else if (a.score == "general") {
                W = linear("W", H, H);
            } else if (a.score == "qk" || a.score == "qk-scaled") {
                W_K = linear("W_K", H, A);
                W_Q = linear("W_Q", H, A);
            }
        }
        if (a.decoder == "luong") W_c = linear("W_c", 2 * H, H);
        out = register_module("out", torch::nn::Linear(a.decoder == "bahdanau" ? 2 * H : H, V));
        // layers ℓ > 1 read layer ℓ−1's h (H wide); made last, so --layers 1 draws the same parameters
        for (int64_t l = 2; l <= a.layers; ++l) encoder.push_back(make_cell(("encoder_l" + std::to_string(l)).c_str(), H));
        for (int64_t l = 2; l <= a.layers; ++l) decoder.push_back(make_cell(("decoder_l" + std::to_string(l)).c_str(), H));
    }

    // One time step through a stack: layer 1 reads x, layer ℓ > 1 layer ℓ−1's h; updates
    // state (one per layer) and returns the top layer's h.
    static torch::Tensor step(std::vector<Cell>& cells, torch::Tensor x, std::vector<State>& state) {
        for (std::size_t l = 0; l < cells.size(); ++l) {
            state[l] = cells[l](x, state[l]);
            x = state[l].h;
        }
        return x;
    }

    Cell make_cell(const char* name, int64_t in) {
        Cell cell;
        if (a.cell == "lstm") cell.lstm = register_module(name, torch::nn::LSTMCell(in, a.hidden));
        else if (a.cell == "gru") cell.gru = register_module(name, torch::nn::GRUCell(in, a.hidden));
        else cell.rnn = register_module(name, torch::nn::RNNCell(in, a.hidden));
        return cell;
    }

    // states: (B, m, H); keys: (B, m, A) for concat/qk, the states otherwise; s: (B, H).
    torch::Tensor attend(const torch::Tensor& states, const torch::Tensor& keys, const torch::Tensor& s) {
        torch::Tensor e;  // (B, m)
        if (a.score == "concat") {  // e_i = vᵀ tanh(W_h h_i + W_s s)
            e = v(torch::tanh(keys + W_s(s).unsqueeze(1))).squeeze(-1);
        } else if (a.score == "general") {  // e_i = sᵀ W h_i
            e = torch::bmm(keys, torch::matmul(s, W->weight).unsqueeze(-1)).squeeze(-1);
        } else if (a.score == "dot") {
            e = torch::bmm(keys, s.unsqueeze(-1)).squeeze(-1);
        } else {  // e_i = k_iᵀ q (/ √A)
            e = torch::bmm(keys, W_Q(s).unsqueeze(-1)).squeeze(-1);
            if (a.score == "qk-scaled") e = e / std::sqrt(static_cast<double>(a.attn));
        }
        const torch::Tensor alpha = torch::softmax(e, -1);
        return torch::bmm(alpha.unsqueeze(1), states).squeeze(1);  // c: (B, H)
    }

    torch::Tensor forward(const torch::Tensor& src, const torch::Tensor& tgt_in, const torch::Tensor& tgt_out) {
        const int64_t B = src.size(0), m = src.size(1), n = tgt_in.size(1);
        const torch::Tensor zeros = torch::zeros({B, a.hidden}, torch::kFloat64);
        // per layer, bottom first; the decoder's layer ℓ starts from the encoder's layer ℓ
        std::vector<State> state(encoder.size(), State{zeros, a.cell == "lstm" ? zeros : torch::Tensor()});
        const torch::Tensor x = src_embed(src);
        std::vector<torch::Tensor> hs;
        for (int64_t t = 0; t < m; ++t) hs.push_back(step(encoder, x.select(1, t), state));
        const torch::Tensor states = torch::stack(hs, 1);  // (B, m, H): the top layer's h_i
        torch::Tensor keys = states;
        if (a.decoder != "plain" && a.score == "concat") keys = W_h(states);
        if (a.decoder != "plain" && (a.score == "qk" || a.score == "qk-scaled")) keys = W_K(states);
        const torch::Tensor y = tgt_embed(tgt_in);
        std::vector<torch::Tensor> features;
        torch::Tensor s = hs.back();  // the top layer's state
        for (int64_t j = 0; j < n; ++j) {
            if (a.decoder == "bahdanau") {  // the query is s_{j-1}; c_j goes into layer 1
                const torch::Tensor c = attend(states, keys, s);
                s = step(decoder, torch::cat({y.select(1, j), c}, -1), state);
                features.push_back(torch::cat({s, c}, -1));
            } else {
                s = step(decoder, y.select(1, j), state);
                if (a.decoder == "luong") {  // the query is s_j;  h̃_j = tanh(W_c [s_j; c_j])
                    const torch::Tensor c = attend(states, keys, s);
                    features.push_back(torch::tanh(W_c(torch::cat({s, c}, -1))));
                } else {
                    features.push_back(s);
                }
            }
        }
        const torch::Tensor logits = out(torch::stack(features, 1));  // (B, n, V)
        namespace F = torch::nn::functional;
        return F::cross_entropy(logits.reshape({-1, a.vocab}), tgt_out.reshape(-1),
                                F::CrossEntropyFuncOptions().ignore_index(0));  // 0 = <pad>
    }

    Options a;
    torch::nn::Embedding src_embed{nullptr}, tgt_embed{nullptr};
    std::vector<Cell> encoder, decoder;  // one cell per layer, bottom first
    torch::nn::Linear W_h{nullptr}, W_s{nullptr}, v{nullptr}, W{nullptr}, W_K{nullptr}, W_Q{nullptr}, W_c{nullptr};
    torch::nn::Linear out{nullptr};
};
TORCH_MODULE(Seq2Seq);

struct Batch {
    torch::Tensor src, tgt_in, tgt_out;
};

// B examples of m random symbols (ids 3 … V−1), then <eos> (2); the target is the
// reversal, then <eos>; the decoder reads <bos> (1) and the target without its last token.
Batch reverse_batch(at::Generator& generator, const Options& a) {
    const torch::Tensor src = torch::randint(3, a.vocab, {a.batch, a.src_len}, generator, torch::kLong);
    const torch::Tensor eos = torch::full({a.batch, 1}, 2, torch::kLong);
    const torch::Tensor tgt = torch::cat({src.flip(1), eos}, 1);
    const torch::Tensor tgt_in = torch::cat({torch::full({a.batch, 1}, 1, torch::kLong), tgt.slice(1, 0, -1)}, 1);
    return {torch::cat({src, eos}, 1), tgt_in, tgt};
}

double peak_rss_mb() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

// OpenBLAS (Debian's libtorch calls it through libblas.so.3) starts one thread per core
// unless OPENBLAS_NUM_THREADS=1; torch::set_num_threads does not reach it. Ask it directly.
void blas_threads(int count) {
    using SetThreads = void (*)(int);
    if (auto set = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) set(count);
}

[[noreturn]] void usage(const std::string& problem) {
    std::fprintf(stderr,
                 "libtorch-bench: %s\n"
                 "usage: libtorch-bench [--cell rnn|gru|lstm] [--decoder plain|bahdanau|luong]\n"
                 "       [--score concat|dot|general|qk|qk-scaled] [--embed E] [--hidden H] [--attn A]\n"
                 "       [--vocab V (with <pad> <bos> <eos>)] [--src-len m] [--batch B] [--steps N]\n"
                 "       [--layers L (1 to 4)] [--warmup N] [--seed S] [--threads N (default 1)]\n",
                 problem.c_str());
    std::exit(2);
}

Options parse(int argc, char** argv) {
    Options a;
    auto choice = [](std::string& to, const std::string& value, std::set<std::string> allowed, const char* flag) {
        if (!allowed.count(value)) usage(std::string("bad value for ") + flag + ": " + value);
        to = value;
    };
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (flag == "--help" || flag == "-h") usage("times libtorch's training step of the SPEC §4 model");
        if (i + 1 >= argc) usage(flag + " needs a value");
        const std::string value = argv[++i];
        int64_t number = 0;
        if (flag != "--cell" && flag != "--decoder" && flag != "--score") {
            try {
                std::size_t used = 0;
                number = std::stoll(value, &used);
                if (used != value.size() || number < (flag == "--warmup" ? 0 : 1)) throw std::invalid_argument(value);
            } catch (const std::exception&) {
                usage(flag + " needs a positive whole number, not " + value);
            }
        }
        if (flag == "--cell") choice(a.cell, value, {"rnn", "gru", "lstm"}, "--cell");
        else if (flag == "--decoder") choice(a.decoder, value, {"plain", "bahdanau", "luong"}, "--decoder");
        else if (flag == "--score") choice(a.score, value, {"concat", "dot", "general", "qk", "qk-scaled"}, "--score");
        else if (flag == "--embed") a.embed = number;
        else if (flag == "--hidden") a.hidden = number;
        else if (flag == "--attn") a.attn = number;
        else if (flag == "--vocab") a.vocab = number;
        else if (flag == "--src-len") a.src_len = number;
        else if (flag == "--batch") a.batch = number;
        else if (flag == "--steps") a.steps = number;
        else if (flag == "--warmup") a.warmup = number;
        else if (flag == "--layers") a.layers = number;
        else if (flag == "--threads") a.threads = number;
        else if (flag == "--seed") a.seed = static_cast<uint64_t>(number);
        else usage("unknown flag " + flag);
    }
    if (a.vocab < 4) usage("--vocab counts <pad> <bos> <eos>: it must be at least 4");
    if (a.layers > 4) usage("--layers: the RNN models stack 1 to 4 layers");
    return a;
}

}  // namespace

int main(int argc, char** argv) {
    const Options a = parse(argc, argv);
    torch::set_num_threads(static_cast<int>(a.threads));
    blas_threads(static_cast<int>(a.threads));
    torch::set_default_dtype(caffe2::TypeMeta::Make<double>());
    torch::manual_seed(a.seed);
    Seq2Seq model(a);
    torch::optim::Adam adam(model->parameters(), torch::optim::AdamOptions(1e-3));
    at::Generator generator = at::detail::createCPUGenerator(a.seed);
    std::vector<Batch> batches;
    for (int64_t i = 0; i < std::min<int64_t>(a.steps + a.warmup, 64); ++i) batches.push_back(reverse_batch(generator, a));

    torch::Tensor loss;  // printed once, after the timing (torch_bench.py does not read it)
    auto run = [&](int64_t count, int64_t offset) {
        for (int64_t i = 0; i < count; ++i) {
            const Batch& batch = batches[static_cast<std::size_t>(offset + i) % batches.size()];
            adam.zero_grad();
            loss = model->forward(batch.src, batch.tgt_in, batch.tgt_out);
            loss.backward();
            torch::nn::utils::clip_grad_norm_(model->parameters(), 1.0);
            adam.step();
        }
    };
    run(a.warmup, 0);
    const auto start = std::chrono::steady_clock::now();
    run(a.steps, a.warmup);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double steps_per_s = static_cast<double>(a.steps) / seconds;
    const std::string attention = a.decoder == "plain" ? "" : "/" + a.score;
    const std::string layers = a.layers > 1 ? " L=" + std::to_string(a.layers) : "";
    std::printf("libtorch %s %s %s%s%s E=%lld H=%lld A=%lld V=%lld m=%lld B=%lld: %.1f ms/step, last loss %.6f\n",
                TORCH_VERSION, a.cell.c_str(), a.decoder.c_str(), attention.c_str(), layers.c_str(), static_cast<long long>(a.embed),
                static_cast<long long>(a.hidden), static_cast<long long>(a.attn), static_cast<long long>(a.vocab),
                static_cast<long long>(a.src_len), static_cast<long long>(a.batch), 1e3 / steps_per_s, loss.item<double>());
    std::printf("steps_per_s=%.2f tokens_per_s=%.0f peak_rss_mb=%.1f\n", steps_per_s,
                steps_per_s * static_cast<double>(a.batch * (a.src_len + 1)), peak_rss_mb());
    return 0;
}
