// Graphviz DOT text (see dot.hpp).
#include "stepgrad/support/dot.hpp"

#include <stdexcept>

#include <fmt/format.h>

#include "stepgrad/support/text.hpp"  // defines: escaped

namespace stepgrad {

DotGraph::DotGraph(std::string_view rankdir)
    : body_(fmt::format("  rankdir={};\n  graph [fontname=\"sans-serif\", fontsize=12];\n"
                         "  node [fontname=\"sans-serif\", fontsize=11];\n  edge [fontname=\"sans-serif\", fontsize=10];\n",
                         dot_quoted(rankdir))) {}

DotGraph& DotGraph::record(std::string_view id, const std::vector<std::string>& fields) {
    // With rankdir LR a record's fields stack top to bottom; braces turn them side by side.
    std::string label = "{ ";
    for (std::size_t k = 0; k < fields.size(); ++k) {
        const std::string field = dot_quoted(fields[k], true);
        label += (k ? " | " : "") + field.substr(1, field.size() - 2);
    }
    body_ += fmt::format("  {} [shape=record, label=\"{} }}\"];\n", dot_quoted(id), label);
    return *this;
}

DotGraph& DotGraph::node(std::string_view id, std::string_view label, std::string_view shape) {
    body_ += fmt::format("  {} [shape={}, label={}];\n", dot_quoted(id), dot_quoted(shape), dot_quoted(label));
    return *this;
}

DotGraph& DotGraph::edge(std::string_view from, std::string_view to, std::string_view label) {
    body_ += fmt::format("  {} -> {}{};\n", dot_quoted(from), dot_quoted(to),
                         label.empty() ? "" : fmt::format(" [label={}]", dot_quoted(label)));
    return *this;
}

DotGraph& DotGraph::begin_cluster(std::string_view label) {
    // only a subgraph whose name starts with "cluster" is drawn as a box
    body_ += fmt::format("  subgraph cluster_{} {{\n  label={};\n", clusters_++, dot_quoted(label));
    ++open_;
    return *this;
}

DotGraph& DotGraph::end_cluster() {
    if (open_ == 0) throw std::logic_error("DotGraph::end_cluster: no cluster is open");
    --open_;
    body_ += "  }\n";
    return *this;
}

std::string DotGraph::str() const {
    if (open_ != 0) throw std::logic_error("DotGraph::str: a cluster is still open");
    return "digraph {\n" + body_ + "}\n";
}

std::string dot_quoted(std::string_view text, bool record_field) {
    std::string out = "\"";
    for (const char c : escaped(text)) {  // control characters and stray bytes made visible
        if (c == '"' || c == '\\' || (record_field && (c == '{' || c == '}' || c == '|' || c == '<' || c == '>')))
            out += '\\';
        out += c;
    }
    return out + "\"";
}

}  // namespace stepgrad
