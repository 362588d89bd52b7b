// Lesson 10's printing: one example through the Transformer (see transformer_printing.hpp).
#include "common/transformer_printing.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include <fmt/ranges.h>

#include "common/parameters.hpp"  // defines: print_embedding_rows
#include "common/printing.hpp"    // defines: print_fitted_heatmap
#include "stepgrad/decode.hpp"    // defines: beam_search
#include "stepgrad/support/files.hpp"  // defines: write_file_atomically

namespace stepgrad {

namespace {

constexpr double pi = 3.14159265358979323846;
constexpr double minus_infinity = -std::numeric_limits<double>::infinity();

std::string quoted(const Vocab& vocab, int id) { return "'" + vocab.token(id) + "'"; }

// The positions of one side: "0 'a'" labels a matrix row (p from 0, as PE counts), the bare
// token a heatmap's row or a score's column.
struct Positions {
    std::vector<std::string> rows;
    std::vector<std::string> tokens;
};

Positions positions_of(std::span<const int> ids, const Vocab& vocab) {
    Positions positions;
    for (std::size_t p = 0; p < ids.size(); ++p) {
        positions.rows.push_back(fmt::format("{} {}", p, quoted(vocab, ids[p])));
        positions.tokens.push_back(vocab.token(ids[p]));
    }
    return positions;
}

// A row-major matrix the printer holds or computes itself (a residual sum, FFN's hidden layer).
struct Rows {
    int rows = 0;
    int cols = 0;
    std::vector<double> data;
    std::span<const double> row(int r) const {
        return std::span<const double>(data).subspan(static_cast<std::size_t>(r * cols), static_cast<std::size_t>(cols));
    }
};

Rows rows_of(Tensor t) { return {t.rows(), t.cols(), t.to_vector()}; }

Rows plus(const Rows& a, const Rows& b) {
    Rows sum = a;
    for (std::size_t k = 0; k < sum.data.size(); ++k) sum.data[k] += b.data[k];
    return sum;
}

// relu(in W_1ᵀ + b_1): the FFN's hidden layer, which the forward pass does not keep
Rows hidden_layer(const Rows& in, const FeedForward& ffn) {
    const int d_ff = ffn.W_1.rows();
    Rows hidden{in.rows, d_ff, std::vector<double>(static_cast<std::size_t>(in.rows * d_ff))};
    for (int r = 0; r < in.rows; ++r)
        for (int k = 0; k < d_ff; ++k) {
            double z = ffn.b_1.value[static_cast<std::size_t>(k)];
            for (int c = 0; c < in.cols; ++c)
                z += in.data[static_cast<std::size_t>(r * in.cols + c)] * ffn.W_1.value[static_cast<std::size_t>(k * in.cols + c)];
            hidden.data[static_cast<std::size_t>(r * d_ff + k)] = std::max(z, 0.0);
        }
    return hidden;
}

// Head i's block of a split (h·rows, c) tensor of a batch-1 run: rows i·rows … (i+1)·rows − 1.
Rows head_block(Tensor split, int heads, int i) {
    const int rows = split.rows() / heads, cols = split.cols();
    const auto values = split.values().subspan(static_cast<std::size_t>(i * rows * cols), static_cast<std::size_t>(rows * cols));
    return {rows, cols, {values.begin(), values.end()}};
}

// Head i's Q_i K_iᵀ / √d_k with −∞ where the mask put it, as the softmax saw them.
Rows masked_scores(const AttentionResult& attention, int i) {
    Rows scores = head_block(attention.scores, attention.heads, i);
    const auto mask = attention.mask.subspan(static_cast<std::size_t>(i) * scores.data.size(), scores.data.size());
    for (std::size_t k = 0; k < scores.data.size(); ++k)
        if (mask[k]) scores.data[k] = minus_infinity;
    return scores;
}

// A Printer like `out` that cuts nothing: print_rows has chosen the columns already.
Printer uncut(const Printer& out) {
    PrintOptions options;
    options.color = out.color() ? ColorMode::always : ColorMode::never;
    options.trace = out.trace();
    options.precision = out.precision();
    options.max_entries = 0;
    return Printer(options);
}

// A matrix, a row per position. With --trace full every entry (wide rows in blocks of
// columns); below it every row, and as many of the first columns as fit in 80.
void print_rows(Printer& out, std::string_view label, const Rows& m, const Positions& rows,
                const std::vector<std::string>& columns = {}) {
    const auto R = static_cast<std::size_t>(m.rows), C = static_cast<std::size_t>(m.cols);
    if (out.shows(TraceLevel::full)) return out.matrix(label, m.data, R, C, rows.rows, columns);
    std::size_t cell = 0, label_width = 0;
    for (double v : m.data) cell = std::max(cell, fmt::format("{: .{}f}", v, out.precision()).size());
    for (const std::string& c : columns) cell = std::max(cell, display_width(c));
    for (const std::string& r : rows.rows) label_width = std::max(label_width, display_width(r));
    // a row is "    " + label + " [" + cells joined by " " + "]"
    const std::size_t room = screen_columns - std::min(screen_columns - 1, 4 + label_width + 3);
    const std::size_t fit = std::clamp<std::size_t>((room + 1) / (cell + 1), 1, C);
    if (fit == C) return uncut(out).matrix(label, m.data, R, C, rows.rows, columns);
    std::vector<double> first;
    for (std::size_t r = 0; r < R; ++r) first.insert(first.end(), m.data.begin() + r * C, m.data.begin() + r * C + fit);
    const std::vector<std::string> first_columns(columns.begin(), columns.begin() + (columns.empty() ? 0 : fit));
    uncut(out).matrix(fmt::format("{}, columns 1–{} of {}", label, fit, C), first, R, fit, rows.rows, first_columns);
}

// α as a heatmap, or in one shade character per column when the tokens make it too wide.
void print_map(Printer& out, const Rows& alpha, const std::vector<std::string>& rows,
               const std::vector<std::string>& columns, const std::string& title) {
    const Heatmap map{title, alpha.data, static_cast<std::size_t>(alpha.rows), static_cast<std::size_t>(alpha.cols), rows, columns};
    print_fitted_heatmap(out, map, title, title.substr(0, title.find(':')) + ": rows down, positions across");
}

// The line that ends a walk below --trace full: which flag shows more.
void print_more_hint(Printer& out) {
    if (!out.shows(TraceLevel::steps))
        out.text("(more: --trace steps prints each sub-layer: μ and σ², every head's α and the residual stream)");
    else if (!out.shows(TraceLevel::gates))
        out.text("(more: --trace gates prints each head's Q, K, V and scores; --trace full every number)");
    else if (!out.shows(TraceLevel::full))
        out.text("(more: --trace full prints the parameters, LN(x), α's numbers, each head's output, the FFN and "
                 "the sums, every column)");
}

// ---- the sub-layers ----

// What a sub-layer's symbols are called where it sits: "x" or "y", "LN₁", "encoder.0.norm1".
struct SubLayer {
    std::string stream;  // x (encoder) or y (decoder)
    std::string norm;    // LN₁, LN₂, LN₃
    std::string norm_name;
    std::string f;       // MHA or FFN
};

// "LN₁(x)" before the sub-layer (pre) or "x" itself (post): what the sub-layer reads.
std::string sublayer_input(NormPosition position, const SubLayer& s) {
    return position == NormPosition::pre ? fmt::format("{}({})", s.norm, s.stream) : s.stream;
}

void print_statistics(Printer& out, const LayerNormOutput& norm, const Positions& positions, std::string_view of) {
    if (!out.shows(TraceLevel::steps)) return;
    out.line("  μ and σ² of {}, over the d features of each position:", of);
    Table table({"p", "token", "μ", "σ²"});
    table.precision(out.precision());
    for (int p = 0; p < norm.mean.rows(); ++p)
        table.add_row(p, "'" + positions.tokens[static_cast<std::size_t>(p)] + "'", norm.mean.value(static_cast<std::size_t>(p)),
                      norm.variance.value(static_cast<std::size_t>(p)));
    out.table(table);
}

// One sub-layer and its norm in the order they ran; `body` prints the sub-layer's inside
// and returns its output f. pre: μ, σ² of x; f(LN(x)); the stream x + f. post: f(x); the sum
// x + f; μ, σ² of it; the stream LN(x + f). Returns the stream after the sub-layer.
Rows print_sublayer(Printer& out, NormPosition position, const SubLayer& s, const LayerNormOutput& norm, const Rows& x,
                    const Positions& positions, const std::function<Rows()>& body) {
    if (position == NormPosition::pre) {
        print_statistics(out, norm, positions, fmt::format("{} ({})", s.stream, s.norm_name));
        if (out.shows(TraceLevel::full))
            print_rows(out, fmt::format("{}({}) = γ ⊙ ({} − μ)/√(σ² + 1e-5) + β", s.norm, s.stream, s.stream), rows_of(norm.out),
                       positions);
        const Rows stream = plus(x, body());
        if (out.shows(TraceLevel::steps))
            print_rows(out, fmt::format("{} + {}: the residual stream", s.stream, s.f), stream, positions);
        return stream;
    }
    const Rows sum = plus(x, body());
    if (out.shows(TraceLevel::full)) print_rows(out, fmt::format("{} + {}", s.stream, s.f), sum, positions);
    print_statistics(out, norm, positions, fmt::format("{} + {} ({})", s.stream, s.f, s.norm_name));
    const Rows stream = rows_of(norm.out);
    if (out.shows(TraceLevel::steps))
        print_rows(out, fmt::format("{} = {}({} + {}): the residual stream", s.stream, s.norm, s.stream, s.f), stream, positions);
    return stream;
}

// Every head: Q_i, K_i, V_i and the scores (--trace gates), α_i as a heatmap (steps), α_i's
// numbers and head_i = α_i V_i (full); then MHA = [head_1 … head_h] W_Oᵀ + b_O (full).
Rows print_attention(Printer& out, const AttentionResult& attention, const Positions& queries, const Positions& keys,
                     const std::string& query_input, const std::string& key_input, std::string_view mask_words) {
    const int h = attention.heads, d_k = attention.query.cols();
    if (out.shows(TraceLevel::steps)) out.text(std::string(mask_words));
    for (int i = 0; i < h && out.shows(TraceLevel::steps); ++i) {
        const int head = i + 1;
        out.line("  head {} (columns {}–{} of Q, K and V):", head, i * d_k + 1, head * d_k);
        if (out.shows(TraceLevel::gates)) {
            print_rows(out, fmt::format("Q_{} = {} W_Qᵀ + b_Q", head, query_input), head_block(attention.query, h, i), queries);
            print_rows(out, fmt::format("K_{} = {} W_Kᵀ + b_K", head, key_input), head_block(attention.key, h, i), keys);
            print_rows(out, fmt::format("V_{} = {} W_Vᵀ + b_V", head, key_input), head_block(attention.value, h, i), keys);
            print_rows(out, fmt::format("Q_{}K_{}ᵀ/√d_k", head, head), masked_scores(attention, i), queries, keys.tokens);
        }
        const Rows alpha = head_block(attention.alpha, h, i);
        print_map(out, alpha, queries.tokens, keys.tokens,
                  fmt::format("α_{} = softmax(Q_{}K_{}ᵀ/√d_k): queries down, keys across", head, head, head));
        if (out.shows(TraceLevel::full)) {
            print_rows(out, fmt::format("α_{}", head), alpha, queries, keys.tokens);
            print_rows(out, fmt::format("head_{} = α_{} V_{}", head, head, head), head_block(attention.context, h, i), queries);
        }
    }
    const Rows mha = rows_of(attention.out);
    if (out.shows(TraceLevel::full)) print_rows(out, "MHA = [head_1 … head_h] W_Oᵀ + b_O", mha, queries);
    return mha;
}

// FFN(in) = relu(in W_1ᵀ + b_1) W_2ᵀ + b_2: with --trace full its hidden layer and output.
Rows print_feed_forward(Printer& out, const FeedForward& ffn, Tensor output, const Rows& in, const std::string& input,
                        const Positions& positions) {
    if (out.shows(TraceLevel::full)) {
        print_rows(out, fmt::format("relu({} W_1ᵀ + b_1)", input), hidden_layer(in, ffn), positions);
        print_rows(out, "FFN = relu(…) W_2ᵀ + b_2", rows_of(output), positions);
    }
    return rows_of(output);
}

// "decoder.0 · sub-layer 1: masked self-attention", and under it the sub-layer's equation.
void print_heading(Printer& out, const std::string& text, const std::string& equation = "") {
    if (!out.shows(TraceLevel::steps)) return;
    out.blank();
    out.line("{}", out.bold(text));
    if (!equation.empty()) out.line("  {}", equation);
}

// The input rows: table[ids]·√d + PE. With --trace full the PE rows first, so that each X
// row is its embedding row (printed with the parameters) times √d plus its PE row.
void print_input(Printer& out, std::string_view symbol, std::string_view table, Tensor input, const Positions& positions) {
    if (!out.shows(TraceLevel::steps)) return;
    const int d = input.cols();
    if (out.shows(TraceLevel::full)) {
        const Tensor pe = positional_encoding(input.rows(), d);
        for (int p = 0; p < input.rows(); ++p) out.vector(fmt::format("PE[{}]", p), pe.row(p));
    }
    print_rows(out, fmt::format("{} = {}·√d + PE (√d = {:.4f})", symbol, table, std::sqrt(static_cast<double>(d))),
               rows_of(input), positions);
}

// The final norm of a pre-norm stack: its statistics and its output.
void print_final_norm(Printer& out, const LayerNormOutput& norm, const std::string& name, const std::string& stream,
                      std::string_view result, const Positions& positions, TraceLevel shown_from) {
    print_heading(out, fmt::format("{}: the final layer norm (pre-norm only)", name),
                  result == "memory" ? "memory = LN(x), what cross-attention reads"
                                     : "LN(y), what the output layer reads");
    print_statistics(out, norm, positions, fmt::format("{} ({})", stream, name));
    if (out.shows(shown_from))
        print_rows(out, fmt::format("{} = LN({}) = γ ⊙ ({} − μ)/√(σ² + 1e-5) + β", result, stream, stream), rows_of(norm.out),
                   positions);
}

// ---- the output ----

std::vector<double> softmax_of(std::span<const double> logits) {
    const double top = *std::max_element(logits.begin(), logits.end());  // exp(l − max): no overflow
    std::vector<double> p;
    double total = 0;
    for (double l : logits) total += p.emplace_back(std::exp(l - top));
    for (double& v : p) v /= total;
    return p;
}

// "'d' 0.998,  'c' 0.001,  'a' 0.000": the k most probable tokens
std::string top_tokens(const std::vector<double>& p, const Vocab& vocab, int k) {
    std::vector<int> order(p.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return p[static_cast<std::size_t>(a)] > p[static_cast<std::size_t>(b)]; });
    std::string text;
    for (int i = 0; i < k && i < static_cast<int>(order.size()); ++i) {
        const int id = order[static_cast<std::size_t>(i)];
        text += fmt::format("{}{} {:.3f}", i ? ",  " : "", quoted(vocab, id), p[static_cast<std::size_t>(id)]);
    }
    return text;
}

// Per position: what it reads and must predict, −log p of that, and the k most probable tokens
// (✗ when the most probable is not the target).
Table output_table(const TransformerTraceRun& run, const Rows& p, const Vocab& tgt_vocab, int k, int precision) {
    Table table({"p", "reads", "must predict", "−log p", "most probable"});
    table.precision(precision);
    for (int j = 0; j < p.rows; ++j) {
        const auto at = static_cast<std::size_t>(j);
        const int target = run.batch.tgt_out[at];
        const std::vector<double> row(p.row(j).begin(), p.row(j).end());
        const bool right = std::max_element(row.begin(), row.end()) - row.begin() == target;
        table.add_row(j, quoted(tgt_vocab, run.batch.tgt_in[at]), quoted(tgt_vocab, target),
                      run.forward.token_losses.value(at), top_tokens(row, tgt_vocab, k) + (right ? "" : "  ✗"));
    }
    table.align(4, Align::left);
    return table;
}

bool fits_screen(const Table& table) {
    const std::vector<std::string> lines = table.lines();
    return std::all_of(lines.begin(), lines.end(), [](const std::string& line) { return display_width(line) <= screen_columns; });
}

void print_output(Printer& out, Transformer& model, const TransformerTraceRun& run, const Positions& positions,
                  const Vocab& tgt_vocab) {
    const Rows logits = rows_of(run.forward.logits);
    const std::string features = model.config().norm == NormPosition::pre ? "LN(y)" : "y";
    std::vector<std::string> tokens;
    for (int id = 0; id < tgt_vocab.size(); ++id) tokens.push_back(tgt_vocab.token(id));
    Rows p{logits.rows, logits.cols, {}};
    for (int j = 0; j < logits.rows; ++j) {
        const std::vector<double> row = softmax_of(logits.row(j));
        p.data.insert(p.data.end(), row.begin(), row.end());
    }
    print_heading(out, "output: one row of logits per position",
                  fmt::format("logits = {} W_outᵀ + b_out,  p = softmax(logits)", features));
    if (out.shows(TraceLevel::full)) {
        print_rows(out, fmt::format("logits = {} W_outᵀ + b_out", features), logits, positions, tokens);
        print_rows(out, "p = softmax(logits)", p, positions, tokens);
    }
    // the three most probable tokens, or fewer when long words would not fit the screen
    for (int k = 3; k >= 1 && out.shows(TraceLevel::steps); --k) {
        const Table table = output_table(run, p, tgt_vocab, k, out.precision());
        if (k > 1 && !fits_screen(table)) continue;
        out.table(table);
        break;
    }
    out.line("loss on this example (the mean of the positions' −log p of their target): {:.{}f}",
             run.forward.loss.value(0), out.precision());
}

// ---- the parameters ----

// What the columns of a weight matrix multiply, by its SPEC §14 name.
std::string weight_input(const std::string& name, NormPosition norm) {
    const bool pre = norm == NormPosition::pre;
    if (name == "output.W") return pre ? "LN(y)" : "y";
    const bool encoder = name.starts_with("encoder.");
    const std::string stream = encoder ? "x" : "y";
    auto normed = [&](const char* ln) { return pre ? fmt::format("{}({})", ln, stream) : stream; };
    if (name.ends_with(".W_O")) return "[head_1 … head_h]";
    if (name.ends_with(".ffn.W_2")) return "relu(… W_1ᵀ + b_1)";
    if (name.ends_with(".ffn.W_1")) return normed(encoder ? "LN₂" : "LN₃");
    if (name.find(".cross_attn.W_Q") != std::string::npos) return normed("LN₂");
    if (name.find(".cross_attn.") != std::string::npos) return "memory";
    return normed("LN₁");  // self_attn.W_Q, W_K, W_V
}

// What row k of a weight gives, by its SPEC §14 name: Q[k] for …W_Q, hidden[k] (before relu) for W_1 …
std::string weight_output(const std::string& name) {
    if (name.ends_with(".W_Q")) return "Q[k]";
    if (name.ends_with(".W_K")) return "K[k]";
    if (name.ends_with(".W_V")) return "V[k]";
    if (name.ends_with(".W_O")) return "MHA[k]";
    if (name.ends_with(".W_1")) return "hidden[k] before relu";
    return "FFN[k]";  // W_2
}

std::span<const double> row_of(const Parameter& p, int r) {
    return std::span<const double>(p.value).subspan(static_cast<std::size_t>(r * p.cols()), static_cast<std::size_t>(p.cols()));
}

}  // namespace

// ---- public ----

void print_positional_encoding(Printer& out, int d, int positions) {
    std::vector<int> columns{0, 1};
    if (d >= 4) columns.insert(columns.end(), {2, 3});
    if (d >= 6) columns.insert(columns.end(), {d - 2, d - 1});
    std::vector<std::string> headers{"p"};
    for (int c : columns) headers.push_back(fmt::format("{} {}", c % 2 == 0 ? "sin" : "cos", c));
    Table table(headers);
    table.precision(out.precision());
    const Tensor pe = positional_encoding(positions, d);
    for (int p = 0; p < positions; ++p) {
        std::vector<std::string> cells{std::to_string(p)};
        for (int c : columns) cells.push_back(fixed(pe.at(p, c), out.precision()));
        table.add_row(cells);
    }
    out.table(table);
    std::vector<std::string> wavelengths;
    for (std::size_t k = 0; k < columns.size(); k += 2)
        // column pair (2k, 2k+1) turns by 1/10000^{2k/d} per position: wavelength 2π·10000^{2k/d}
        wavelengths.push_back(fmt::format("{:.1f} (columns {}, {})",
                                          2 * pi * std::pow(10000.0, static_cast<double>(columns[k]) / d), columns[k],
                                          columns[k + 1]));
    out.text(fmt::format("Wavelengths 2π·10000^(2k/d), in positions: {}.", fmt::join(wavelengths, ", ")));
}

void print_transformer_parameters(Printer& out, Transformer& model, const TransformerTraceRun& run,
                                  const Vocab& src_vocab, const Vocab& tgt_vocab) {
    if (!out.shows(TraceLevel::full)) {
        out.line("  (--trace full prints every parameter this example uses, each once, labelled)");
        return;
    }
    const NormPosition norm = model.config().norm;
    out.text("The parameters this example uses, each printed once, under SPEC §14's names. A weight matrix is "
             "printed a row per line: row k, dotted with a row of what its columns multiply, gives column k of its "
             "output (Q = LN₁(x) W_Qᵀ + b_Q: Q[p][k] = LN₁(x)[p] · W_Q[k] + b_Q[k]).");
    for (Parameter* p : model.parameters()) {
        const std::string& name = p->name();
        if (p == &model.src_embed) {
            print_embedding_rows(out, *p, run.batch.src, src_vocab);
        } else if (p == &model.tgt_embed) {
            print_embedding_rows(out, *p, run.batch.tgt_in, tgt_vocab);
        } else if (p == &model.output_W) {
            out.line("  output.W ({} × {}): row 'a' · {} gives logits['a']", p->rows(), p->cols(), weight_input(name, norm));
            for (int id = 0; id < p->rows(); ++id) out.vector(fmt::format("output.W['{}']", tgt_vocab.token(id)), row_of(*p, id));
        } else if (p->is_vector()) {
            out.vector(name, row_of(*p, 0));  // b_Q, γ, β, output.b (in target-id order)
        } else {
            out.line("  {} ({} × {}): row k · {} gives {}", name, p->rows(), p->cols(), weight_input(name, norm),
                     weight_output(name));
            for (int r = 0; r < p->rows(); ++r) out.vector(fmt::format("{}[{}]", name, r + 1), row_of(*p, r));
        }
    }
}

void print_transformer_encoder(Printer& out, Transformer& model, const TransformerTraceRun& run, const Vocab& src_vocab) {
    const TransformerConfig& config = model.config();
    const NormPosition norm = config.norm;
    const TransformerEncoded& encoded = run.forward.encoder;
    const Positions source = positions_of(run.batch.src, src_vocab);
    print_input(out, "X", "src_embed[x]", encoded.input, source);
    Rows x = rows_of(encoded.input);
    for (std::size_t l = 0; l < encoded.layers.size(); ++l) {
        const EncoderLayerForward& f = encoded.layers[l];
        TransformerEncoderLayer& layer = model.encoder[l];
        const SubLayer attention{"x", "LN₁", fmt::format("encoder.{}.norm1", l), "MHA"};
        print_heading(out, fmt::format("encoder.{} · sub-layer 1: self-attention", l),
                      norm == NormPosition::pre ? "x += MHA(LN₁(x), LN₁(x))" : "x = LN₁(x + MHA(x, x))");
        x = print_sublayer(out, norm, attention, f.norm1, x, source, [&] {
            const std::string in = sublayer_input(norm, attention);
            return print_attention(out, f.self_attn, source, source, in, in,
                                   "Every position asks every position, itself included: queries and keys are the same "
                                   "rows. One example, nothing padded: no score is masked.");
        });
        const SubLayer ffn{"x", "LN₂", fmt::format("encoder.{}.norm2", l), "FFN"};
        print_heading(out, fmt::format("encoder.{} · sub-layer 2: feed-forward", l),
                      norm == NormPosition::pre ? "x += FFN(LN₂(x))" : "x = LN₂(x + FFN(x))");
        x = print_sublayer(out, norm, ffn, f.norm2, x, source, [&] {
            const Rows in = norm == NormPosition::pre ? rows_of(f.norm2.out) : x;
            return print_feed_forward(out, layer.ffn, f.ffn, in, sublayer_input(norm, ffn), source);
        });
    }
    if (norm == NormPosition::pre)
        print_final_norm(out, encoded.final_norm, "encoder.norm", "x", "memory", source, TraceLevel::steps);
    else if (out.shows(TraceLevel::steps))
        out.text("memory = x: post-norm ends each sub-layer with its own LN, and has no final one.");
    print_more_hint(out);
}

void print_transformer_decoder(Printer& out, Transformer& model, const TransformerTraceRun& run, const Vocab& src_vocab,
                               const Vocab& tgt_vocab) {
    const NormPosition norm = model.config().norm;
    const TransformerDecoded& decoded = run.forward.decoder;
    const Positions source = positions_of(run.batch.src, src_vocab);
    const Positions inputs = positions_of(run.batch.tgt_in, tgt_vocab);
    const bool pre = norm == NormPosition::pre;
    print_input(out, "Y", "tgt_embed[y]", decoded.input, inputs);
    Rows y = rows_of(decoded.input);
    for (std::size_t l = 0; l < decoded.layers.size(); ++l) {
        const DecoderLayerForward& f = decoded.layers[l];
        TransformerDecoderLayer& layer = model.decoder[l];
        const SubLayer self{"y", "LN₁", fmt::format("decoder.{}.norm1", l), "MHA"};
        print_heading(out, fmt::format("decoder.{} · sub-layer 1: masked self-attention", l),
                      pre ? "y += MHA(LN₁(y), LN₁(y), causal mask)" : "y = LN₁(y + MHA(y, y, causal mask))");
        y = print_sublayer(out, norm, self, f.norm1, y, inputs, [&] {
            const std::string in = sublayer_input(norm, self);
            return print_attention(out, f.self_attn, inputs, inputs, in, in,
                                   "The causal mask: position p may look at positions 0 … p only, the tokens already "
                                   "written. Above the diagonal the score is −∞ and α exactly 0, so training all "
                                   "positions at once cannot peek at the answer.");
        });
        const SubLayer cross{"y", "LN₂", fmt::format("decoder.{}.norm2", l), "MHA"};
        print_heading(out, fmt::format("decoder.{} · sub-layer 2: cross-attention", l),
                      pre ? "y += MHA(LN₂(y), memory, memory)" : "y = LN₂(y + MHA(y, memory, memory))");
        y = print_sublayer(out, norm, cross, f.norm2, y, inputs, [&] {
            return print_attention(out, f.cross_attn, inputs, source, sublayer_input(norm, cross), "memory",
                                   "Queries from the decoder, keys and values from the encoder's memory: lesson 05's "
                                   "attention, with a query per target position and h heads. Nothing is masked.");
        });
        const SubLayer ffn{"y", "LN₃", fmt::format("decoder.{}.norm3", l), "FFN"};
        print_heading(out, fmt::format("decoder.{} · sub-layer 3: feed-forward", l),
                      pre ? "y += FFN(LN₃(y))" : "y = LN₃(y + FFN(y))");
        y = print_sublayer(out, norm, ffn, f.norm3, y, inputs, [&] {
            const Rows in = pre ? rows_of(f.norm3.out) : y;
            return print_feed_forward(out, layer.ffn, f.ffn, in, sublayer_input(norm, ffn), inputs);
        });
    }
    if (pre) print_final_norm(out, decoded.final_norm, "decoder.norm", "y", "LN(y)", inputs, TraceLevel::full);
    print_output(out, model, run, inputs, tgt_vocab);
    print_more_hint(out);
}

void print_cross_attention_maps(Printer& out, const TransformerTraceRun& run, const Vocab& src_vocab,
                                const Vocab& tgt_vocab) {
    const Positions source = positions_of(run.batch.src, src_vocab);
    const Positions targets = positions_of(run.batch.tgt_out, tgt_vocab);  // what each position must predict
    const auto& layers = run.forward.decoder.layers;
    for (std::size_t l = 0; l < layers.size(); ++l) {
        const AttentionResult& cross = layers[l].cross_attn;
        for (int i = 0; i < cross.heads; ++i) {
            print_map(out, head_block(cross.alpha, cross.heads, i), targets.tokens, source.tokens,
                      fmt::format("decoder.{} cross-attention, head {}: target tokens down, source tokens across", l, i + 1));
        }
    }
}

CrossAlignment cross_attention_alignment(Transformer& model, std::span<const Example> examples) {
    const TransformerConfig& c = model.config();
    const int columns = c.heads + 1;  // each head, then their mean α
    std::vector<long> on_gold(static_cast<std::size_t>(c.layers * columns), 0), one_late(on_gold.size(), 0);
    CrossAlignment result;
    for (const Example& example : examples) {
        if (example.alignment.empty()) continue;
        ++result.examples;
        tape().reset();
        const Batch batch = make_batch(std::span<const Example>(&example, 1));
        const TransformerForward forward = model.forward(batch);
        for (int l = 0; l < c.layers; ++l) {
            const AttentionResult& cross = forward.decoder.layers[static_cast<std::size_t>(l)].cross_attn;
            std::vector<Rows> alpha;
            for (int i = 0; i < c.heads; ++i) alpha.push_back(head_block(cross.alpha, c.heads, i));
            Rows mean = alpha.front();  // (α_1 + … + α_h) / h
            for (std::size_t k = 0; k < mean.data.size(); ++k) {
                mean.data[k] = 0;
                for (const Rows& a : alpha) mean.data[k] += a.data[k] / c.heads;
            }
            alpha.push_back(mean);
            for (std::size_t j = 0; j < example.alignment.size(); ++j) {
                const std::vector<int>& gold = example.alignment[j];
                if (gold.empty()) continue;
                if (l == 0) ++result.aligned_tokens;
                for (int i = 0; i < columns; ++i) {
                    const auto row = alpha[static_cast<std::size_t>(i)].row(static_cast<int>(j));
                    // î_j = argmax_i α_{j,i} (equal maxima: the first)
                    const int peak = static_cast<int>(std::max_element(row.begin(), row.end()) - row.begin());
                    const auto k = static_cast<std::size_t>(l * columns + i);
                    on_gold[k] += std::find(gold.begin(), gold.end(), peak) != gold.end();
                    one_late[k] += std::find(gold.begin(), gold.end(), peak - 1) != gold.end();
                }
            }
        }
    }
    tape().reset();
    const double tokens = std::max(1.0, static_cast<double>(result.aligned_tokens));
    for (int l = 0; l < c.layers; ++l)
        for (int i = 0; i < columns; ++i) {
            const auto k = static_cast<std::size_t>(l * columns + i);
            result.heads.push_back({l, i < c.heads ? i + 1 : 0, on_gold[k] / tokens, one_late[k] / tokens});
        }
    return result;
}

void print_cross_alignment(Printer& out, const CrossAlignment& alignment, const std::string& task) {
    if (alignment.aligned_tokens == 0) {
        out.text("No held-out target token has a gold alignment here, so there is nothing to compare α with.");
        return;
    }
    Table table({"cross-attention", "α on gold", "one late"});
    table.precision(3);
    for (const HeadAlignment& h : alignment.heads)
        table.add_row(h.head > 0 ? fmt::format("decoder.{} head {}", h.layer, h.head)
                                 : fmt::format("decoder.{} mean of the heads", h.layer),
                      h.on_gold, h.one_late);
    out.text(fmt::format("Over the {} held-out examples ({} target tokens with a gold source position), teacher forced: "
                         "the share of target tokens whose largest α falls on the gold source position, and one "
                         "position late (SPEC §11, as lessons 05 and 08 measure it); the mean of the heads is "
                         "(α_1 + … + α_h) / h, one α per layer as lesson 05 has.",
                         alignment.examples, alignment.aligned_tokens));
    out.table(table);
    const auto best = std::max_element(alignment.heads.begin(), alignment.heads.end(),
                                       [](const HeadAlignment& a, const HeadAlignment& b) { return a.on_gold < b.on_gold; });
    const std::string who = best->head > 0 ? fmt::format("decoder.{} head {}", best->layer, best->head)
                                           : fmt::format("the mean of decoder.{}'s heads", best->layer);
    std::string verdict = fmt::format("The best aligned, {}, puts its largest α on the gold position for {:.1f}% of the "
                                      "tokens",
                                      who, 100 * best->on_gold);
    if (best->on_gold >= 0.9)
        verdict += task == "reverse" ? ": the anti-diagonal of lesson 05's concat attention — here without the "
                                       "one-place lag a left-to-right GRU encoder can give it (lesson 08), since "
                                       "self-attention reads the source both ways at once."
                                     : ": it looks where lesson 05's attention looks, at the word it translates.";
    else if (best->on_gold >= 0.6)
        verdict += ": mostly the alignment lesson 05 draws, with the rest of the weight often on a neighbour. Nothing "
                   "in the loss asks an α to align: the heads share the work, and only their output together is "
                   "trained to predict the token.";
    else
        verdict += ". No head here is an alignment: the heads may split the work (one finds the position, another "
                   "carries the token), and nothing in the loss asks any α to align.";
    out.text(verdict);
}

void print_model_score_spread(Printer& out, const Transformer& model, const TransformerTraceRun& run) {
    const double root = std::sqrt(static_cast<double>(model.config().d_model / model.config().heads));
    Table table({"attention", "sd(q·k)", "sd(q·k/√d_k)"});
    table.precision(3);
    std::vector<std::pair<double, std::string>> spreads;  // (sd of the scaled scores, attention)
    auto add = [&](const std::string& name, const AttentionResult& a) {
        double sum = 0, squares = 0;
        long count = 0;
        for (std::size_t k = 0; k < a.scores.size(); ++k) {
            if (a.mask[k]) continue;
            const double scaled = a.scores.value(k);
            sum += scaled;
            squares += scaled * scaled;
            ++count;
        }
        // sd = √(mean e² − (mean e)²) over the unmasked scores; q·k itself is √d_k times the scaled score
        const double mean = sum / static_cast<double>(count);
        const double sd = std::sqrt(std::max(0.0, squares / static_cast<double>(count) - mean * mean));
        table.add_row(name, sd * root, sd);
        spreads.emplace_back(sd, name);
    };
    for (std::size_t l = 0; l < run.forward.encoder.layers.size(); ++l)
        add(fmt::format("encoder.{}.self_attn", l), run.forward.encoder.layers[l].self_attn);
    for (std::size_t l = 0; l < run.forward.decoder.layers.size(); ++l) {
        add(fmt::format("decoder.{}.self_attn", l), run.forward.decoder.layers[l].self_attn);
        add(fmt::format("decoder.{}.cross_attn", l), run.forward.decoder.layers[l].cross_attn);
    }
    out.text(fmt::format("First in this trained model, d_k = {}: the spread of the traced example's scores, over "
                         "every head and every unmasked query–key pair, before and after dividing by √d_k = {:.3f}.",
                         model.config().d_model / model.config().heads, root));
    out.table(table);
    const auto widest = std::max_element(spreads.begin(), spreads.end());
    if (widest->first > 2)
        out.text(fmt::format("Training is free to make q and k larger than unit variance, and a head that must point "
                             "at one position does: {}'s scaled scores spread with sd {:.3f}. The division matters "
                             "most at the start, when q and k are random — what the footnote is about:",
                             widest->second, widest->first));
    else
        out.text("The footnote is about the start of training, when q and k are random:");
}

void print_decodings(Printer& out, Transformer& model, const Example& example, int beam_width, double length_penalty,
                     const Vocab& tgt_vocab) {
    const int max_length = static_cast<int>(example.tgt.size()) + 1;  // as evaluate() allows
    tape().reset();
    const BeamResult greedy = beam_search(model, example.src, 1, max_length);  // K = 1 is greedy decoding
    tape().reset();
    const BeamResult beam = beam_search(model, example.src, beam_width, max_length, length_penalty);
    tape().reset();
    const std::vector<int> answer = example.tgt;
    auto verdict = [&](const std::vector<int>& ids) { return ids == answer ? "the answer" : "wrong"; };
    out.line("  greedy       \"{}\"  log p = {:.4f}  ({})", tgt_vocab.decode(greedy.ids), greedy.log_prob, verdict(greedy.ids));
    out.line("  beam, K = {}  \"{}\"  log p = {:.4f}  ({})", beam_width, tgt_vocab.decode(beam.ids), beam.log_prob,
             verdict(beam.ids));
    Table table({"rank", "finished hypothesis", "log p", "score"});
    table.precision(4);
    for (std::size_t r = 0; r < beam.ranked.size(); ++r)
        table.add_row(static_cast<int>(r + 1), fmt::format("\"{}\"", tgt_vocab.decode(beam.ranked[r].ids)), beam.ranked[r].log_prob,
                      beam.ranked[r].score);
    out.text(fmt::format("The beam's finished hypotheses, best first (score = log p / lp(n), a = {}):", length_penalty));
    out.table(table);
}

void write_transformer_lesson_trace(const TransformerFlags& flags, TrainedTransformer& trained,
                                    const TransformerTraceRun& run) {
    if (flags.shared.json.empty()) return;
    const Accuracy& a = trained.accuracy;
    const EvalSummary eval{trained.task->config().name, a.examples, a.token_accuracy, a.sequence_accuracy, {}, {}};
    write_file_atomically(flags.shared.json, transformer_trace("10", *trained.model, trained.task->src_vocab(),
                                                               trained.task->tgt_vocab(), run, &eval));
}

}  // namespace stepgrad
