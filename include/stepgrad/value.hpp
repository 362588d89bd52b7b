#pragma once
// The lesson-01 scalar engine: reverse-mode autodiff on a graph of single numbers,
// in the spirit of Karpathy's micrograd.
//
// Every operation makes a new node that remembers its inputs and, computed in the
// same breath as its value, the local derivative ∂node/∂input of each. The backward
// pass is then the chain rule and nothing else:
//
//     input.grad += node.grad · ∂node/∂input      for every node, outputs first.
//
// The tests also use Value as an independent oracle for the tensor core on tiny shapes.
//
// Semantics of backward(): it first sets the grad of every node of this graph to 0,
// then seeds d out/d out = 1 and runs the chain rule. Calling it twice gives the same
// grads, never doubled. To accumulate over several losses that share leaves, add the
// losses into one Value and call backward() once on the sum.
#include <memory>
#include <string>
#include <vector>

namespace stepgrad {

struct Input;

// A handle to a shared node: copies of a Value refer to the same number and grad.
class Value {
public:
    // A leaf: a constant or a parameter. Implicit, so `2 * a` and `a + 1` just work
    // (the constant becomes a leaf of the graph, as in micrograd).
    Value(double data = 0.0, std::string label = {});

    double data() const;
    double grad() const;
    // The op that made this node ("+", "tanh", "^3", …); empty for a leaf.
    const std::string& op() const;
    const std::string& label() const;
    // Sets the label and returns this handle: `Value n = (x1 * w1).named("x1w1");`
    Value named(std::string label);
    // A new node of value `data`, made by `op` from `inputs`, each with its local
    // derivative. Every op below is one call to this; a learner's new op can be too.
    static Value from_op(double data, std::string op, std::vector<Input> inputs);

    // Changes a leaf's number (e.g. an SGD step). Nodes already built from it keep
    // their old values: rebuild the expression after changing its leaves.
    void set_data(double data);

    // The nodes this one was computed from, each with ∂this/∂input.
    std::vector<Input> inputs() const;
    bool is_leaf() const;
    // Two handles to the same node.
    bool same_node(const Value& other) const;

    // Zeroes every grad in this graph, sets grad = 1 here, then applies the chain
    // rule in reverse topological order. Iterative: a graph 100,000 deep is fine.
    void backward();

private:
    struct Node;
    explicit Value(std::shared_ptr<Node> node);
    friend std::vector<Value> topological_order(const Value& root);

    std::shared_ptr<Node> node_;
};

// One input of a node, with the local derivative ∂node/∂input recorded by the op.
struct Input {
    Value value;
    double local_derivative;
};

// Every node `root` depends on, each after all of its inputs; `root` comes last.
// Computed with an explicit stack, so a deep chain cannot overflow the call stack.
std::vector<Value> topological_order(const Value& root);

// The ops. Each is defined in value.cpp next to its local derivative.
Value operator+(const Value& a, const Value& b);
Value operator-(const Value& a, const Value& b);
Value operator*(const Value& a, const Value& b);
Value operator/(const Value& a, const Value& b);
Value operator-(const Value& a);
Value pow(const Value& a, double exponent);
Value exp(const Value& a);
Value log(const Value& a);
Value tanh(const Value& a);
Value sigmoid(const Value& a);
Value relu(const Value& a);

// `c += x` makes a new node c + x and points c at it, as Python's `c += x` does.
Value& operator+=(Value& a, const Value& b);
Value& operator-=(Value& a, const Value& b);
Value& operator*=(Value& a, const Value& b);
Value& operator/=(Value& a, const Value& b);

}  // namespace stepgrad
