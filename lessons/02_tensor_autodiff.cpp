// Lesson 02 — tensor autodiff: the same chain rule, a matrix at a time.
//
// What you will learn
//   - A model is a short list of tensor ops. Each op records itself on a tape as it
//     runs; backward() walks the tape from the loss back to the parameters.
//   - The model here is a 2-layer MLP classifying 2-D points into 3 classes. For a
//     batch X (B × 2) with classes y:
//         Z1     = X W1ᵀ + b1          (B × H)    a linear layer, W1 is (H × 2)
//         H1     = tanh(Z1)            (B × H)
//         logits = H1 W2ᵀ + b2         (B × 3)    W2 is (3 × H)
//         L      = −(1/B) Σ_r log softmax(logits_r)[y_r]     the cross-entropy
//   - Backward gives ∂L/∂W1, ∂L/∂b1, ∂L/∂W2, ∂L/∂b2 in one sweep. At the top it is
//     ∂L/∂logits = (softmax(logits) − onehot(y)) / B, which we check.
//   - A gradient check nudges single parameter entries by ±ε and compares the change
//     of L with the gradient backward() found.
//   - Plain SGD, θ ← θ − lr · ∂L/∂θ, then lowers L step by step.
//
// The ops are in include/stepgrad/ops.hpp (forward and backward side by side in
// src/ops.cpp), the tape in tensor.hpp, the check in gradcheck.hpp.
//
// Run:  ./02_tensor_autodiff                 (--help lists the flags)
//       ./02_tensor_autodiff --lr 5          (too big a step: watch the loss jump about)
//       ./02_tensor_autodiff --trace full    (every row of every tensor)
//       ./02_tensor_autodiff --dot tape.dot && dot -Tsvg tape.dot -o tape.svg   (the tape drawn)
#include "stepgrad/support/cli.hpp"
#include "stepgrad/support/dot.hpp"    // defines: DotGraph
#include "stepgrad/support/files.hpp"  // defines: write_file_atomically
#include "stepgrad/gradcheck.hpp"
#include "stepgrad/ops.hpp"
#include "stepgrad/support/print.hpp"
#include "stepgrad/random.hpp"
#include "stepgrad/tensor.hpp"
#include "common/outputs.hpp"  // defines: check_output_files
#include "common/run.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

using namespace stepgrad;

constexpr int classes = 3;

// Three blobs of 2-D points: class k is centred on the unit circle at angle
// 90° + 120°·k, with uniform noise wide enough that the blobs touch.
struct Dataset {
    std::vector<double> x;  // (B × 2), row-major
    std::vector<int> y;     // B class labels
    int size() const { return static_cast<int>(y.size()); }
};

Dataset make_blobs(Rng& rng, int per_class) {
    constexpr double noise = 1.0;
    Dataset data;
    // Classes take turns (0, 1, 2, 0, …) so the first rows printed show all three.
    for (int i = 0; i < per_class * classes; ++i) {
        const int k = i % classes;
        const double angle = std::numbers::pi / 2 + 2 * std::numbers::pi * k / classes;
        data.x.push_back(std::cos(angle) + rng.uniform(-noise, noise));
        data.x.push_back(std::sin(angle) + rng.uniform(-noise, noise));
        data.y.push_back(k);
    }
    return data;
}

struct Mlp {
    Parameter W1, b1, W2, b2;

    Mlp(int hidden)
        : W1("W1", hidden, 2), b1("b1", 1, hidden, true), W2("W2", classes, hidden),
          b2("b2", 1, classes, true) {}

    std::vector<Parameter*> parameters() { return {&W1, &b1, &W2, &b2}; }
};

// The forward pass, op by op; every tensor is kept so the lesson can print (and draw) it.
struct Forward {
    Tensor X, W1, b1, Z1, H1, W2, b2, logits, loss;
};

Forward forward(Mlp& mlp, const Dataset& data) {
    Forward f;
    f.X = constant(data.size(), 2, data.x);
    // Parameters go on the tape one statement each: the order of a call's arguments is
    // up to the compiler, and the tape listing should not be.
    f.W1 = mlp.W1.use();
    f.b1 = mlp.b1.use();
    // Z1 = X W1ᵀ + b1
    f.Z1 = linear(f.X, f.W1, f.b1);
    // H1 = tanh(Z1)
    f.H1 = stepgrad::tanh(f.Z1);
    f.W2 = mlp.W2.use();
    f.b2 = mlp.b2.use();
    // logits = H1 W2ᵀ + b2
    f.logits = linear(f.H1, f.W2, f.b2);
    // L = −(1/B) Σ_r log softmax(logits_r)[y_r];  -1 ignores nothing: every label is ≥ 0
    f.loss = cross_entropy(f.logits, data.y, -1);
    return f;
}

// The fraction of rows whose largest logit is the right class.
double accuracy(Tensor logits, const std::vector<int>& y) {
    int right = 0;
    for (int r = 0; r < logits.rows(); ++r) {
        const std::vector<double> row = logits.row(r);
        const auto best = std::max_element(row.begin(), row.end()) - row.begin();
        right += best == y[static_cast<std::size_t>(r)];
    }
    return static_cast<double>(right) / logits.rows();
}

// The first `rows` rows of a tensor (or all of them), one label per row.
void print_rows(Printer& out, const std::string& name, Tensor t, int rows,
                const std::vector<std::string>& labels, bool of_grads = false) {
    if (rows == 0) return;
    const std::span<const double> data = of_grads ? t.grads() : t.values();
    const int shown = std::min(rows, t.rows());
    const std::string label = shown < t.rows()
                                  ? fmt::format("{}, first {} of {} rows", name, shown, t.rows())
                                  : name;
    out.matrix(label, data.first(static_cast<std::size_t>(shown * t.cols())),
               static_cast<std::size_t>(shown), static_cast<std::size_t>(t.cols()),
               {labels.begin(), labels.begin() + shown});
}

// The lesson's name for tape entry `id`, when it has one.
std::string name_of(const Forward& f, std::uint32_t id) {
    for (const auto& [t, name] : {std::pair{f.X, "X"}, {f.Z1, "Z1"}, {f.H1, "H1"}, {f.logits, "logits"}, {f.loss, "L"}})
        if (t.id() == id) return name;
    return "";
}

// The first `recorded` entries of the tape, a row each.
Table tape_table(const Forward& f, std::size_t recorded) {
    Table table({"#", "op", "shape", "needs grad", "is"});
    table.align(1, Align::left).align(4, Align::left);
    for (std::uint32_t i = 0; i < recorded; ++i) {
        const TapeEntry& e = tape().entry_at(i);
        table.add_row(i, e.op, fmt::format("{}×{}", e.rows, e.cols), e.requires_grad ? "yes" : "no", name_of(f, i));
    }
    return table;
}

// The same entries as a Graphviz DOT graph: a record per entry (#, op, shape, needs
// grad, name) and an arrow from each input. The tape keeps no inputs — each backward
// closure knows its own and cannot be asked — so the arrows are the forward pass above,
// as written; cross_entropy is the entries after logits, each the input of the next:
// log_softmax, nll_loss, sum and scale (ops.cpp).
std::string tape_dot(const Forward& f, std::size_t recorded) {
    const auto id = [](std::uint32_t entry) { return fmt::format("e{}", entry); };
    DotGraph dot;
    for (std::uint32_t i = 0; i < recorded; ++i) {
        if (i == f.logits.id() + 1) dot.begin_cluster("cross_entropy(logits, y), composed of four ops");
        const TapeEntry& e = tape().entry_at(i);
        std::vector<std::string> fields{fmt::format("#{} {}", i, e.op), fmt::format("{}×{}", e.rows, e.cols),
                                        e.requires_grad ? "needs grad" : "no grad"};
        if (!name_of(f, i).empty()) fields.push_back(name_of(f, i));
        dot.record(id(i), fields);
    }
    dot.end_cluster();
    for (const auto& [input, output] : {std::pair{f.X, f.Z1}, {f.W1, f.Z1}, {f.b1, f.Z1}, {f.Z1, f.H1},
                                        {f.H1, f.logits}, {f.W2, f.logits}, {f.b2, f.logits}})
        dot.edge(id(input.id()), id(output.id()));
    for (std::uint32_t i = f.logits.id(); i < f.loss.id(); ++i) dot.edge(id(i), id(i + 1));
    return dot.str();
}

void print_parameter_grads(Printer& out, Mlp& mlp) {
    for (Parameter* p : mlp.parameters())
        out.matrix(fmt::format("∂L/∂{}", p->name()), p->grad, static_cast<std::size_t>(p->rows()),
                   static_cast<std::size_t>(p->cols()));
}

int main(int argc, char** argv) {
    Cli cli("02_tensor_autodiff", "a 2-layer MLP's tensors, tape, gradients, gradient check and SGD.");
    std::uint64_t seed = 1; cli.option("--seed", seed, "seed of the data and the initial weights");
    int hidden = 8;         cli.option("--hidden", hidden, "hidden size H", 1, 256);
    int per_class = 10;     cli.option("--points", per_class, "points per class", 1, 1000);
    int steps = 15;         cli.option("--steps", steps, "SGD steps", 0, 10000);
    double lr = 1.0;        cli.option("--lr", lr, "SGD learning rate", 1e-6, 100.0);
    std::string dot;        cli.option("--dot", dot, "write the tape of the forward pass here as Graphviz DOT (dot -Tsvg)", "PATH");
    PrintOptions print;     cli.add_print_flags(print);
    cli.check([&] { check_output_files(cli, {{"--dot", dot}}); });
    if (const auto exit_code = cli.parse(argc, argv)) return *exit_code;
    return run_lesson("02_tensor_autodiff", [&] {
        Printer out(print);
        // --trace none prints results only; full prints every row of every tensor.
        const bool detail = out.shows(TraceLevel::steps), full = out.shows(TraceLevel::full);

        out.title("Lesson 02 · tensor autodiff");
        out.text("A 2-layer MLP sorts 2-D points into 3 classes. Its forward pass is a handful "
                 "of tensor ops; each one records itself on a tape, and backward() walks the tape "
                 "in reverse to find ∂L/∂(every parameter) at once.");

        // --- 1. the data and the model ---
        out.section("1. data and parameters");
        Rng rng(seed);
        const Dataset data = make_blobs(rng, per_class);
        const int B = data.size();
        Mlp mlp(hidden);
        // uniform(−1/√fan_in, 1/√fan_in), PyTorch's nn.Linear default
        mlp.W1.init_uniform(rng, 1 / std::sqrt(2.0));
        mlp.b1.init_uniform(rng, 1 / std::sqrt(2.0));
        mlp.W2.init_uniform(rng, 1 / std::sqrt(static_cast<double>(hidden)));
        mlp.b2.init_uniform(rng, 1 / std::sqrt(static_cast<double>(hidden)));

        std::vector<int> count(classes, 0);
        for (int k : data.y) ++count[static_cast<std::size_t>(k)];
        out.line("  B = {} points, {} per class; classes 0, 1, 2 are blobs centred at 90°, 210°", B, count[0]);
        out.line("  and 330° on the unit circle, each point moved by up to ±1 in x and in y.");
        std::vector<std::string> row_labels;
        for (int r = 0; r < B; ++r) row_labels.push_back(fmt::format("#{} y={}", r + 1, data.y[static_cast<std::size_t>(r)]));
        std::size_t parameter_count = 0;
        for (Parameter* p : mlp.parameters()) {
            if (detail)
                out.matrix(p->name(), p->value, static_cast<std::size_t>(p->rows()), static_cast<std::size_t>(p->cols()));
            parameter_count += p->size();
        }
        out.line("  {} parameters, uniform in ±1/√fan_in.", parameter_count);

        // --- 2. one forward pass ---
        out.section("2. forward pass");
        tape().reset();
        const Forward f = forward(mlp, data);
        const std::size_t recorded = tape().size();
        const int shown = full ? B : detail ? 4 : 0;
        out.line("  X ({}×2) → Z1 = X W1ᵀ + b1 ({}×{}) → H1 = tanh(Z1) ({}×{})", B, f.Z1.rows(),
                 f.Z1.cols(), f.H1.rows(), f.H1.cols());
        out.line("    → logits = H1 W2ᵀ + b2 ({}×{}) → L ({}×{})", f.logits.rows(), f.logits.cols(),
                 f.loss.rows(), f.loss.cols());
        print_rows(out, "X", f.X, shown, row_labels);
        print_rows(out, "Z1", f.Z1, shown, row_labels);
        print_rows(out, "H1", f.H1, shown, row_labels);
        print_rows(out, "logits", f.logits, shown, row_labels);
        // p = softmax(logits), only to show: the loss does not use this tensor.
        const Tensor p = softmax(f.logits);
        print_rows(out, "p = softmax(logits)", p, shown, row_labels);
        out.line("  L = {:.6f}   (a guess of 1/3 for every class gives ln 3 = {:.6f})", f.loss.value(0),
                 std::log(3.0));
        out.line("  training accuracy before any step: {:.1f}%", 100 * accuracy(f.logits, data.y));

        // --- 3. the tape ---
        out.section("3. the tape");
        out.text("Every op appended one entry, in the order it ran. linear is an op of its own "
                 "(x Wᵀ + b, the product starting from the bias); cross_entropy is composed of "
                 "log_softmax, nll_loss, sum and scale, so it needs no backward of its own. "
                 "Parameters enter as leaves named after themselves.");
        if (detail) out.table(tape_table(f, recorded));
        out.line("  {} entries; backward() visits them from #{} down to #0.", recorded, recorded - 1);
        if (!dot.empty()) write_file_atomically(dot, tape_dot(f, recorded));

        // --- 4. backward ---
        out.section("4. backward pass");
        out.text("backward(L) sets ∂L/∂L = 1 and runs each entry's backward step in reverse "
                 "order. Each step adds its share into its inputs' gradients.");
        tape().backward(f.loss);
        // ∂L/∂logits = (p − onehot(y)) / B: the softmax and the log cancel into a difference.
        double largest_gap = 0;
        for (int r = 0; r < B; ++r)
            for (int k = 0; k < classes; ++k) {
                const double onehot = data.y[static_cast<std::size_t>(r)] == k ? 1.0 : 0.0;
                const double expected = (p.at(r, k) - onehot) / B;
                largest_gap = std::max(largest_gap, std::abs(f.logits.grad_at(r, k) - expected));
            }
        print_rows(out, "∂L/∂logits", f.logits, shown, row_labels, true);
        out.line("  ∂L/∂logits = (p − onehot(y)) / B; largest difference in the {} rows: {}.", B, rounding_difference(largest_gap));
        print_rows(out, "∂L/∂H1", f.H1, shown, row_labels, true);
        if (detail) print_parameter_grads(out, mlp);

        // --- 5. gradient check ---
        out.section("5. gradient check");
        out.text("For a few entries of each parameter: L at θ + ε and at θ − ε, each from a fresh "
                 "forward pass. (L(θ + ε) − L(θ − ε)) / 2ε should match backward's gradient to "
                 "about ε² plus rounding.");
        GradcheckOptions check;
        check.max_entries = full ? 0 : 3;
        const std::vector<Parameter*> parameters = mlp.parameters();
        const GradcheckReport report = gradcheck([&] { return forward(mlp, data).loss; }, parameters, check);
        constexpr double tolerance = 1e-6;
        Table check_table({"parameter", "entry", "∂L/∂θ (backward)", "numeric", "rel. error", ""});
        check_table.precision(10);
        for (const GradcheckEntry& e : report.entries)
            check_table.add_row(e.parameter, fmt::format("[{},{}]", e.row, e.col), e.analytic, e.numeric,
                                sci(e.relative_error, 1),
                                e.relative_error <= tolerance ? out.good("ok") : out.bad("MISMATCH"));
        if (detail) out.table(check_table);
        out.line("  ε = {}; relative error = |a − n| / max(|a|, |n|, {}); ok means ≤ {}.", check.epsilon,
                 check.floor, tolerance);
        out.line("  worst of {} entries checked: {} ({}).", report.entries.size(), sci(report.max_relative_error(), 1),
                 report.passed(tolerance) ? out.good("ok") : out.bad("MISMATCH"));

        // --- 6. training: plain SGD on the whole batch ---
        out.section("6. SGD");
        out.line("  θ ← θ − lr · ∂L/∂θ for every parameter, lr = {}, all {} points each step.", lr, B);
        Table training({"step", "L", "accuracy"});
        for (int step = 1; step <= steps; ++step) {
            tape().reset();
            for (Parameter* param : parameters) param->zero_grad();
            const Forward now = forward(mlp, data);
            tape().backward(now.loss);
            training.add_row(step, fixed(now.loss.value(0), 6), percent(accuracy(now.logits, data.y)));
            // θ ← θ − lr · ∂L/∂θ
            for (Parameter* param : parameters)
                for (std::size_t i = 0; i < param->size(); ++i) param->value[i] -= lr * param->grad[i];
        }
        if (detail && steps > 0) {
            out.table(training);
            out.line("  (L and accuracy are measured before each step's update.)");
        }
        tape().reset();
        const Forward final_pass = forward(mlp, data);
        out.line("  after {} steps: L = {:.6f}, training accuracy {:.1f}% ({} points).", steps,
                 final_pass.loss.value(0), 100 * accuracy(final_pass.logits, data.y), B);
        return 0;
    });
}
