#include "stepgrad/value.hpp"

#include <cmath>
#include <fmt/format.h>
#include <unordered_set>
#include <utility>

namespace stepgrad {

// What a node holds. The inputs own their nodes, so a graph lives as long as its
// output does.
struct Value::Node {
    struct Edge {
        std::shared_ptr<Node> input;
        double local_derivative;
    };

    double data = 0.0;
    double grad = 0.0;
    std::string op;
    std::string label;
    std::vector<Edge> inputs;

    ~Node();
};

// Destroying the last handle to a chain's output would release its input, whose
// destructor releases its input, and so on: one stack frame per node, and a crash
// at a depth of about 100,000. Instead we take the inputs over here and release them
// one at a time: a node we hold the last reference to first hands us its own inputs,
// so it dies with none left and nothing recurses.
Value::Node::~Node() {
    std::vector<std::shared_ptr<Node>> pending;
    for (auto& edge : inputs) pending.push_back(std::move(edge.input));
    while (!pending.empty()) {
        std::shared_ptr<Node> node = std::move(pending.back());
        pending.pop_back();
        if (node && node.use_count() == 1)
            for (auto& edge : node->inputs) pending.push_back(std::move(edge.input));
    }
}

Value::Value(double data, std::string label) : node_(std::make_shared<Node>()) {
    node_->data = data;
    node_->label = std::move(label);
}

Value::Value(std::shared_ptr<Node> node) : node_(std::move(node)) {}

double Value::data() const { return node_->data; }
double Value::grad() const { return node_->grad; }
const std::string& Value::op() const { return node_->op; }
const std::string& Value::label() const { return node_->label; }
bool Value::is_leaf() const { return node_->inputs.empty(); }
bool Value::same_node(const Value& other) const { return node_ == other.node_; }
void Value::set_data(double data) { node_->data = data; }

Value Value::named(std::string label) {
    node_->label = std::move(label);
    return *this;
}

std::vector<Input> Value::inputs() const {
    std::vector<Input> result;
    for (const auto& edge : node_->inputs)
        result.push_back({Value(edge.input), edge.local_derivative});
    return result;
}

Value Value::from_op(double data, std::string op, std::vector<Input> inputs) {
    auto node = std::make_shared<Node>();
    node->data = data;
    node->op = std::move(op);
    for (auto& in : inputs) node->inputs.push_back({in.value.node_, in.local_derivative});
    return Value(std::move(node));
}

// Depth-first search that emits each node after all of its inputs (post-order).
// The stack holds (node, index of the next input to visit) instead of recursing.
std::vector<Value> topological_order(const Value& root) {
    using NodePtr = std::shared_ptr<Value::Node>;
    std::vector<Value> order;
    std::unordered_set<const Value::Node*> visited{root.node_.get()};
    std::vector<std::pair<NodePtr, std::size_t>> stack{{root.node_, 0}};
    while (!stack.empty()) {
        auto& [node, next] = stack.back();
        if (next < node->inputs.size()) {
            const NodePtr& input = node->inputs[next++].input;
            if (visited.insert(input.get()).second) stack.emplace_back(input, 0);
        } else {
            order.push_back(Value(node));
            stack.pop_back();
        }
    }
    return order;
}

// Outputs first, so a node's grad is complete before it is passed to its inputs:
//   input.grad += node.grad · ∂node/∂input
void Value::backward() {
    const std::vector<Value> order = topological_order(*this);
    for (const Value& v : order) v.node_->grad = 0.0;
    node_->grad = 1.0;
    for (auto it = order.rbegin(); it != order.rend(); ++it)
        for (const auto& edge : it->node_->inputs)
            edge.input->grad += it->node_->grad * edge.local_derivative;
}

// --- the ops: forward value and local derivatives, side by side ---

// out = a + b;    ∂out/∂a = 1,    ∂out/∂b = 1
Value operator+(const Value& a, const Value& b) {
    return Value::from_op(a.data() + b.data(), "+", {{a, 1.0}, {b, 1.0}});
}

// out = a − b;    ∂out/∂a = 1,    ∂out/∂b = −1
Value operator-(const Value& a, const Value& b) {
    return Value::from_op(a.data() - b.data(), "-", {{a, 1.0}, {b, -1.0}});
}

// out = a · b;    ∂out/∂a = b,    ∂out/∂b = a
Value operator*(const Value& a, const Value& b) {
    return Value::from_op(a.data() * b.data(), "*", {{a, b.data()}, {b, a.data()}});
}

// out = a / b;    ∂out/∂a = 1/b,    ∂out/∂b = −a/b²
Value operator/(const Value& a, const Value& b) {
    const double x = a.data(), y = b.data();
    return Value::from_op(x / y, "/", {{a, 1.0 / y}, {b, -x / (y * y)}});
}

// out = −a;    ∂out/∂a = −1
Value operator-(const Value& a) { return Value::from_op(-a.data(), "neg", {{a, -1.0}}); }

// out = aᵏ (k a constant);    ∂out/∂a = k·aᵏ⁻¹
Value pow(const Value& a, double k) {
    const double x = a.data();
    return Value::from_op(std::pow(x, k), fmt::format("^{}", k), {{a, k * std::pow(x, k - 1)}});
}

// out = eᵃ;    ∂out/∂a = eᵃ = out
Value exp(const Value& a) {
    const double out = std::exp(a.data());
    return Value::from_op(out, "exp", {{a, out}});
}

// out = ln a;    ∂out/∂a = 1/a
Value log(const Value& a) {
    return Value::from_op(std::log(a.data()), "log", {{a, 1.0 / a.data()}});
}

// out = tanh a;    ∂out/∂a = 1 − out²
Value tanh(const Value& a) {
    const double out = std::tanh(a.data());
    return Value::from_op(out, "tanh", {{a, 1.0 - out * out}});
}

// out = σ(a) = 1 / (1 + e⁻ᵃ);    ∂out/∂a = out · (1 − out)
// For a < 0 we use the equal form eᵃ / (1 + eᵃ): e⁻ᵃ would overflow at a = −710.
Value sigmoid(const Value& a) {
    const double x = a.data();
    const double out = x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x));
    return Value::from_op(out, "sigmoid", {{a, out * (1.0 - out)}});
}

// out = max(0, a);    ∂out/∂a = 1 if a > 0, else 0 (at the kink a = 0 we take 0, as PyTorch)
Value relu(const Value& a) {
    const double x = a.data();
    return Value::from_op(x > 0 ? x : 0.0, "relu", {{a, x > 0 ? 1.0 : 0.0}});
}

Value& operator+=(Value& a, const Value& b) { return a = a + b; }
Value& operator-=(Value& a, const Value& b) { return a = a - b; }
Value& operator*=(Value& a, const Value& b) { return a = a * b; }
Value& operator/=(Value& a, const Value& b) { return a = a / b; }

}  // namespace stepgrad
