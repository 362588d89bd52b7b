// The parameters of a traced example, labelled (see parameters.hpp).
#include "common/parameters.hpp"

#include <algorithm>
#include <span>

namespace stepgrad {

namespace {

std::span<const double> row_of(const Parameter& p, int row) {
    return std::span<const double>(p.value).subspan(static_cast<std::size_t>(row * p.cols()),
                                                    static_cast<std::size_t>(p.cols()));
}

// "1–16 · h_i" for the columns [first, first + width) that multiply `what`.
std::string columns(int first, int width, std::string_view what) {
    return fmt::format("{}–{} · {}", first + 1, first + width, what);
}

// Where a cell sits in the model, to say what its W_ih and W_hh multiply.
struct CellRole {
    const Cell* cell = nullptr;
    bool decoder = false;
    bool first_layer = false;
    bool reverse = false;  // a bidirectional encoder's backward cell
};

CellRole find_cell(Seq2Seq& model, const Parameter* p) {
    const auto search = [&](const std::vector<std::unique_ptr<Cell>>& cells, bool decoder, bool reverse) -> CellRole {
        for (std::size_t l = 0; l < cells.size(); ++l) {
            const Cell& cell = *cells[l];
            if (p == &cell.W_ih || p == &cell.W_hh || p == &cell.b_ih || p == &cell.b_hh)
                return {&cell, decoder, l == 0, reverse};
        }
        return {};
    };
    for (const CellRole& role : {search(model.encoder, false, false), search(model.encoder_reverse, false, true),
                                 search(model.decoder, true, false)})
        if (role.cell) return role;
    return {};
}

// What the columns of a cell's W_ih multiply.
std::string input_columns(const Seq2Seq& model, const CellRole& role) {
    const ModelConfig& config = model.config();
    if (!role.first_layer) return columns(0, role.cell->input_size(), "the layer below's state");
    if (!role.decoder) return columns(0, config.embed, "src_embed[x_t]");
    if (config.decoder != DecoderKind::bahdanau) return columns(0, config.embed, "tgt_embed[y_{j−1}]");
    return columns(0, config.embed, "tgt_embed[y_{j−1}]") + " | " + columns(config.embed, key_size(config), "c_j");
}

// A cell's W_ih or W_hh, a row per line named by gate; its biases a vector per gate.
void print_cell_parameter(Printer& out, const Seq2Seq& model, const Parameter& p, const CellRole& role) {
    const CellKind kind = role.cell->kind();
    const int H = role.cell->hidden_size();
    const bool is_bias = &p == &role.cell->b_ih || &p == &role.cell->b_hh;
    const std::vector<std::string> letters = gate_letters(kind);
    const std::string stacking = letters.size() == 1 ? "" : fmt::format(", gate rows stacked {}", fmt::join(letters, " "));
    if (is_bias) {
        out.line("  {} ({}){}", p.name(), p.cols(), stacking);
        for (std::size_t g = 0; g < letters.size(); ++g)
            out.vector(letters.size() == 1 ? p.name() : fmt::format("{}[{}]", p.name(), letters[g]),
                       row_of(p, 0).subspan(g * static_cast<std::size_t>(H), static_cast<std::size_t>(H)));
        return;
    }
    const std::string previous = role.decoder ? "s_{j−1}" : role.reverse ? "←h_{t+1}" : "h_{t−1}";
    const std::string multiplies = &p == &role.cell->W_ih ? input_columns(model, role) : columns(0, H, previous);
    out.line("  {} ({} × {}){}", p.name(), p.rows(), p.cols(), stacking);
    out.line("    columns {}", multiplies);
    const std::vector<std::string> labels = gate_row_labels(kind, H);
    for (int r = 0; r < p.rows(); ++r) out.vector(fmt::format("{}[{}]", p.name(), labels[static_cast<std::size_t>(r)]), row_of(p, r));
}

// What the output layer's columns multiply: s_j, [s_j | c_j] or h̃_j.
std::string output_columns(const ModelConfig& config) {
    if (config.decoder == DecoderKind::plain) return columns(0, config.hidden, "s_j");
    if (config.decoder == DecoderKind::luong) return columns(0, config.hidden, "h̃_j");
    return columns(0, config.hidden, "s_j") + " | " + columns(config.hidden, key_size(config), "c_j");
}

// What an attention or output matrix's columns multiply; empty when nothing needs saying.
std::string matrix_columns(const ModelConfig& config, std::string_view name) {
    const int H = config.hidden, H_k = key_size(config);
    if (name == "attention.W" && config.score == ScoreKind::concat)
        return columns(0, H_k, "h_i") + " | " + columns(H_k, H, "s");
    if (name == "attention.W") return columns(0, H_k, "h_i") + "; e_i = sᵀ (W h_i)";
    if (name == "attention.W_K") return columns(0, H_k, "h_i");
    if (name == "attention.W_Q") return columns(0, H, "s");
    if (name == "output.W_c") return columns(0, H, "s_j") + " | " + columns(H, H_k, "c_j");
    if (name.starts_with("bridge.")) return columns(0, H, "←h_1");
    return "";
}

}  // namespace

void print_embedding_rows(Printer& out, const Parameter& p, std::span<const int> ids, const Vocab& vocab) {
    std::vector<int> used;
    for (int id : ids)
        if (std::find(used.begin(), used.end(), id) == used.end()) used.push_back(id);
    out.line("  {} ({} × {}): the {} rows this example reads", p.name(), p.rows(), p.cols(), used.size());
    for (int id : used) out.vector(fmt::format("{}['{}']", p.name(), vocab.token(id)), row_of(p, id));
}

std::vector<std::string> gate_letters(CellKind kind) {
    switch (kind) {
        case CellKind::gru: return {"r", "z", "n"};
        case CellKind::lstm: return {"i", "f", "g", "o"};
        case CellKind::rnn: break;
    }
    return {""};
}

std::vector<std::string> gate_row_labels(CellKind kind, int hidden_size) {
    std::vector<std::string> labels;
    for (const std::string& letter : gate_letters(kind))
        for (int k = 1; k <= hidden_size; ++k) labels.push_back(fmt::format("{}{}", letter, k));
    return labels;
}

void print_parameters(Printer& out, Seq2Seq& model, const TraceRun& run, const Vocab& src_vocab,
                      const Vocab& tgt_vocab) {
    if (!out.shows(TraceLevel::full)) {
        out.line("  (--trace full prints every parameter this example uses, each once, labelled)");
        return;
    }
    out.text("The parameters this example uses, each printed once. A row is one line (continued under its "
             "first number); the heading says what its columns multiply.");
    const ModelConfig& config = model.config();
    for (Parameter* p : model.parameters()) {
        if (p == &model.src_embed) {
            print_embedding_rows(out, *p, run.batch.src, src_vocab);
        } else if (p == &model.tgt_embed) {
            print_embedding_rows(out, *p, run.batch.tgt_in, tgt_vocab);
        } else if (const CellRole role = find_cell(model, p); role.cell) {
            print_cell_parameter(out, model, *p, role);
        } else if (p == &model.output_W) {
            out.line("  output.W ({} × {}): a row per target token", p->rows(), p->cols());
            out.line("    columns {}", output_columns(config));
            for (int id = 0; id < p->rows(); ++id) out.vector(fmt::format("output.W['{}']", tgt_vocab.token(id)), row_of(*p, id));
        } else if (p == &model.output_b) {
            out.line("  output.b ({}): one entry per target token, in the order of output.W's rows", p->cols());
            out.vector("output.b", row_of(*p, 0));
        } else if (p->rows() == 1) {
            out.vector(p->name(), row_of(*p, 0));  // a vector: attention.v, bridge.b
        } else {
            const std::string multiplies = matrix_columns(config, p->name());
            out.line("  {} ({} × {})", p->name(), p->rows(), p->cols());
            if (!multiplies.empty()) out.line("    columns {}", multiplies);
            for (int r = 0; r < p->rows(); ++r) out.vector(fmt::format("{}[{}]", p->name(), r + 1), row_of(*p, r));
        }
    }
}

}  // namespace stepgrad
