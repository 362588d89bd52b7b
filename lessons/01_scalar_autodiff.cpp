// Lesson 01 — scalar autodiff: how backpropagation finds every gradient.
//
// What you will learn
//   - An expression is a graph: every node is one op applied to its inputs.
//   - Each op knows its local derivative ∂node/∂input (for tanh: 1 − tanh²).
//   - The chain rule, applied from the output back to the leaves, gives every gradient
//     of the output o:
//         ∂o/∂input += ∂o/∂node · ∂node/∂input
//     summed over every node that uses the input (a value used twice gets two terms).
//     Visiting the nodes in reverse topological order makes each ∂o/∂node complete
//     before it is passed on.
//   - Central finite differences check the result independently:
//         ∂o/∂x ≈ (o(x + ε) − o(x − ε)) / 2ε      (error O(ε²))
//
// The example is the neuron of Karpathy's micrograd lecture,
//     o = tanh(x1·w1 + x2·w2 + b),
// then the expression from micrograd's README, whose published results we reproduce.
// The engine is include/stepgrad/value.hpp: read it next to this output.
//
// Run:  ./01_scalar_autodiff               (--help lists the flags)
//       ./01_scalar_autodiff --eps 1e-2    (a coarser ε: watch the check's error grow)
//       ./01_scalar_autodiff --dot graph.dot && dot -Tsvg graph.dot -o graph.svg
//                                          (both graphs as pictures, micrograd's draw_dot)
#include "stepgrad/support/cli.hpp"
#include "stepgrad/support/dot.hpp"    // defines: DotGraph
#include "stepgrad/support/files.hpp"  // defines: write_file_atomically
#include "stepgrad/support/print.hpp"
#include "stepgrad/value.hpp"
#include "common/outputs.hpp"  // defines: check_output_files
#include "common/run.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/ranges.h>
#include <span>
#include <string>
#include <tuple>
#include <vector>

using namespace stepgrad;

// An expression of some named leaves, built anew for each set of leaf values.
using Expression = Value (*)(const std::vector<Value>& leaves);

// o = tanh(x1·w1 + x2·w2 + b), every node named as in micrograd's lecture.
Value neuron(const std::vector<Value>& leaves) {
    const Value &x1 = leaves[0], &x2 = leaves[1], &w1 = leaves[2], &w2 = leaves[3],
                &b = leaves[4];
    Value x1w1 = (x1 * w1).named("x1w1");
    Value x2w2 = (x2 * w2).named("x2w2");
    Value x1w1x2w2 = (x1w1 + x2w2).named("x1w1x2w2");
    Value n = (x1w1x2w2 + b).named("n");
    return tanh(n).named("o");
}

// micrograd's README example, line by line (`**` is pow, `.relu()` is relu).
Value micrograd_example(const std::vector<Value>& leaves) {
    const Value &a = leaves[0], &b = leaves[1];
    Value c = a + b;
    Value d = a * b + pow(b, 3);
    c += c + 1;
    c += 1 + c + (-a);
    d += d * 2 + relu(b + a);
    d += 3 * d + relu(b - a);
    Value e = c - d;
    Value f = pow(e, 2);
    Value g = f / 2.0;
    g += 10.0 / f;
    return g;
}

std::vector<Value> make_leaves(const std::vector<std::string>& names,
                               const std::vector<double>& values) {
    std::vector<Value> leaves;
    for (std::size_t k = 0; k < names.size(); ++k) leaves.emplace_back(values[k], names[k]);
    return leaves;
}

// A node's name: its label, or for an unnamed constant its value.
std::string name_of(const Value& v) {
    return v.label().empty() ? fmt::format("{}", v.data()) : v.label();
}

// The local derivative ∂node/∂input as a formula in the graph's own names; `input`
// is 0 for the op's first operand (a) and 1 for its second (b).
std::string rule(const Value& node, std::size_t input) {
    const std::vector<Input> inputs = node.inputs();
    const std::string& op = node.op();
    const std::string out = name_of(node), a = name_of(inputs[0].value);
    const std::string b = inputs.size() > 1 ? name_of(inputs[1].value) : "";
    const bool first = input == 0;
    if (op == "+") return "1";
    if (op == "-") return first ? "1" : "−1";
    if (op == "*") return first ? b : a;                                 // the other factor
    if (op == "/") return first ? "1/" + b : fmt::format("−{}/{}²", a, b);
    if (op == "neg") return "−1";
    if (op == "tanh") return fmt::format("1 − {}²", out);               // 1 − tanh²
    if (op == "sigmoid") return fmt::format("{0}·(1 − {0})", out);      // σ(1 − σ)
    if (op == "exp") return out;
    if (op == "log") return "1/" + a;
    if (op == "relu") return fmt::format("[{} > 0]", a);
    const std::string k = op.substr(1);                                 // op is "^k"
    return fmt::format("{}·{}^({} − 1)", k, a, k);
}

// The nodes on a path from `root` down to `leaf`, or nothing if there is none.
// (Recursive for brevity: this graph is ten nodes deep, not a hundred thousand.)
std::vector<Value> path(const Value& root, const Value& leaf) {
    if (root.same_node(leaf)) return {root};
    for (const Input& in : root.inputs()) {
        std::vector<Value> rest = path(in.value, leaf);
        if (!rest.empty()) {
            rest.insert(rest.begin(), root);
            return rest;
        }
    }
    return {};
}

// ∂node/∂input as recorded by the op that made `node`.
double local_derivative(const Value& node, const Value& input) {
    for (const Input& in : node.inputs())
        if (in.value.same_node(input)) return in.local_derivative;
    return 0.0;
}

// Central difference for leaf k:  (f(x + ε e_k) − f(x − ε e_k)) / 2ε.
double numeric_gradient(Expression f, const std::vector<std::string>& names,
                        std::vector<double> values, std::size_t k, double eps) {
    const double x = values[k];
    values[k] = x + eps;
    const double up = f(make_leaves(names, values)).data();
    values[k] = x - eps;
    const double down = f(make_leaves(names, values)).data();
    return (up - down) / (2 * eps);
}

// |analytic − numeric| / max(|analytic|, |numeric|), and 0 when both are 0.
double relative_error(double analytic, double numeric) {
    const double scale = std::max(std::abs(analytic), std::abs(numeric));
    return scale == 0 ? 0.0 : std::abs(analytic - numeric) / scale;
}

// One row per leaf: backward()'s gradient against the central difference.
void check_gradients(Printer& out, Expression f, const std::vector<std::string>& names,
                     const std::vector<double>& values, const std::vector<Value>& leaves,
                     const std::string& output, double eps) {
    constexpr double tolerance = 1e-6;
    Table table({"leaf", fmt::format("∂{}/∂leaf (backward)", output), "numeric", "rel. error", ""});
    for (std::size_t k = 0; k < leaves.size(); ++k) {
        const double analytic = leaves[k].grad();
        const double numeric = numeric_gradient(f, names, values, k, eps);
        const double error = relative_error(analytic, numeric);
        table.add_row(names[k], analytic, numeric, sci(error, 1),
                      error <= tolerance ? out.good("ok") : out.bad("MISMATCH"));
    }
    out.table(table);
    out.line("  ε = {}; ok means a relative error ≤ {}.", eps, tolerance);
}

// A graph drawn as micrograd's draw_dot draws it: a record per value (its label, data
// and grad), an ellipse per op between the value and its inputs, and on each arrow from
// an input the local derivative ∂node/∂input, so every gradient can be recomputed from
// the picture: input.grad = Σ node.grad · (the number on the arrow).
void add_graph(DotGraph& dot, std::string_view title, std::string_view prefix, const Value& root) {
    const std::vector<Value> order = topological_order(root);
    // Value has no id: a node is named after its place in `order`
    const auto id = [&](const Value& v) {
        const auto at = std::find_if(order.begin(), order.end(), [&](const Value& n) { return n.same_node(v); });
        return fmt::format("{}{}", prefix, at - order.begin());
    };
    dot.begin_cluster(title);
    for (const Value& node : order) {
        dot.record(id(node), {node.label(), fmt::format("data {:.4f}", node.data()), fmt::format("grad {:.4f}", node.grad())});
        if (node.is_leaf()) continue;
        dot.node(id(node) + "op", node.op()).edge(id(node) + "op", id(node));
        for (const Input& in : node.inputs()) dot.edge(id(in.value), id(node) + "op", fixed(in.local_derivative, 4));
    }
    dot.end_cluster();
}

int main(int argc, char** argv) {
    Cli cli("01_scalar_autodiff", "a neuron's forward pass, backward pass and gradient check.");
    PrintOptions print;  cli.option("--color", print.color, "colour the output; auto: on a terminal");
    double eps = 1e-6;   cli.option("--eps", eps, "finite-difference step ε", 1e-12, 1.0);
    std::string dot;     cli.option("--dot", dot, "write both graphs here as Graphviz DOT (dot -Tsvg): each value's "
                                    "data and grad, each arrow's ∂node/∂input", "PATH");
    cli.check([&] { check_output_files(cli, {{"--dot", dot}}); });
    if (const auto exit_code = cli.parse(argc, argv)) return *exit_code;
    return run_lesson("01_scalar_autodiff", [&] {
        Printer out(print);

        out.title("Lesson 01 · scalar autodiff");
        out.text("We build o = tanh(x1·w1 + x2·w2 + b) out of single numbers, one op per node, "
                 "then let the chain rule carry ∂o/∂(each node) from o back to the leaves.");

        // --- 1. forward: every node's value, inputs before the nodes that use them ---
        out.section("1. forward pass");
        const std::vector<std::string> names{"x1", "x2", "w1", "w2", "b"};
        const std::vector<double> values{2.0, 0.0, -3.0, 1.0, 6.8813735870195432};
        const std::vector<Value> leaves = make_leaves(names, values);
        Value o = neuron(leaves);
        const std::vector<Value> order = topological_order(o);

        Table forward({"node", "op", "inputs", "value"});
        forward.align(1, Align::left).align(2, Align::left);
        for (const Value& node : order) {
            std::vector<std::string> inputs;
            for (const Input& in : node.inputs()) inputs.push_back(name_of(in.value));
            forward.add_row(name_of(node), node.is_leaf() ? "leaf" : node.op(),
                            fmt::format("{}", fmt::join(inputs, ", ")), node.data());
        }
        out.table(forward);

        // --- 2. backward: the chain rule, from o back to the leaves ---
        out.section("2. backward pass");
        out.text("o.backward() sets ∂o/∂o = 1 and visits the nodes in reverse order. Each node "
                 "passes its gradient to each input, times the local derivative of its op; "
                 "the product is added to the input's gradient.");
        o.backward();
        Table backward({"node", "∂o/∂node", "input", "∂node/∂input", "",
                        "∂o/∂node · ∂node/∂input"});
        backward.align(2, Align::left).align(3, Align::left);
        for (auto it = order.rbegin(); it != order.rend(); ++it) {
            const std::vector<Input> inputs = it->inputs();
            for (std::size_t k = 0; k < inputs.size(); ++k)
                backward.add_row(k == 0 ? name_of(*it) : "", k == 0 ? fixed(it->grad(), 4) : "",
                                 name_of(inputs[k].value), rule(*it, k),
                                 inputs[k].local_derivative,
                                 it->grad() * inputs[k].local_derivative);
        }
        out.table(backward);

        // One gradient written out as the product along its path: the chain rule itself.
        const std::vector<Value> chain = path(o, leaves[0]);
        std::vector<std::string> symbols, numbers;
        for (std::size_t k = 0; k + 1 < chain.size(); ++k) {
            symbols.push_back(fmt::format("∂{}/∂{}", name_of(chain[k]), name_of(chain[k + 1])));
            numbers.push_back(fixed(local_derivative(chain[k], chain[k + 1]), 4));
        }
        out.blank();
        out.line("  ∂o/∂x1 = {}", fmt::join(symbols, " · "));
        out.line("         = {} = {}", fmt::join(numbers, " · "), fixed(leaves[0].grad(), 4));
        std::vector<std::string> grads;
        for (const Value& leaf : leaves)
            grads.push_back(fmt::format("∂o/∂{} = {}", leaf.label(), fixed(leaf.grad(), 4)));
        // three to a line, so the line fits the screen
        for (std::size_t k = 0; k < grads.size(); k += 3)
            out.line("  {}", fmt::join(std::span(grads).subspan(k, std::min<std::size_t>(3, grads.size() - k)), "   "));

        // --- 3. check: every leaf's gradient against finite differences ---
        out.section("3. gradient check");
        out.text("Nudge one leaf by ±ε, rebuild the neuron and see how much o moves. The "
                 "central difference agrees with backward() to about ε² plus rounding.");
        check_gradients(out, neuron, names, values, leaves, "o", eps);

        // --- 4. the expression from micrograd's README ---
        out.section("4. micrograd's README example");
        out.text("a = −4, b = 2, then c, d, e, f, g through +, −, ·, /, powers and relu, with "
                 "a and b used many times over: their gradients sum every path back to them.");
        const std::vector<std::string> ab{"a", "b"};
        const std::vector<double> ab_values{-4.0, 2.0};
        const std::vector<Value> ab_leaves = make_leaves(ab, ab_values);
        Value g = micrograd_example(ab_leaves);
        g.backward();
        const Value &a = ab_leaves[0], &b = ab_leaves[1];

        // The numbers micrograd's README prints, to 4 decimals.
        Table known({"", "stepgrad", "micrograd", ""});
        for (const auto& [what, ours, theirs] : {std::tuple{"g", g.data(), 24.7041},
                                                 std::tuple{"∂g/∂a", a.grad(), 138.8338},
                                                 std::tuple{"∂g/∂b", b.grad(), 645.5773}})
            known.add_row(what, ours, theirs,
                          fixed(ours, 4) == fixed(theirs, 4) ? out.good("same") : out.bad("DIFFERENT"));
        out.table(known);
        out.line("  g's graph has {} nodes.", topological_order(g).size());
        check_gradients(out, micrograd_example, ab, ab_values, ab_leaves, "g", eps);

        // backward() zeroes the graph's gradients before it starts (value.hpp).
        g.backward();
        out.line("  g.backward() once more: ∂g/∂a = {}, unchanged, not doubled.", fixed(a.grad(), 4));

        if (!dot.empty()) {  // --dot: the two graphs, values and gradients as they stand now
            DotGraph graphs;
            add_graph(graphs, "o = tanh(x1·w1 + x2·w2 + b)", "o", o);
            add_graph(graphs, "micrograd's README example, g", "g", g);
            write_file_atomically(dot, graphs.str());
        }
        return 0;
    });
}
