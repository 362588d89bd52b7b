#pragma once
// Graphs as Graphviz DOT text, as micrograd's draw_dot makes them: render with
// `dot -Tsvg graph.dot -o graph.svg` (Debian's graphviz). Nodes are plain (an op's name)
// or records (fields side by side: a value's label, data and grad); clusters draw a box
// around a group of nodes. Text is UTF-8 and escaped, so any label is safe. Write the
// text with write_file_atomically (files.hpp).
#include <string>
#include <string_view>
#include <vector>

namespace stepgrad {

class DotGraph {
public:
    // rankdir "LR": inputs on the left, the output on the right.
    explicit DotGraph(std::string_view rankdir = "LR");

    // A box of fields side by side ("x1 | data 2.0000 | grad -1.5000").
    DotGraph& record(std::string_view id, const std::vector<std::string>& fields);
    DotGraph& node(std::string_view id, std::string_view label, std::string_view shape = "ellipse");
    // An arrow, with an optional label beside it (a local derivative, say).
    DotGraph& edge(std::string_view from, std::string_view to, std::string_view label = {});
    // The nodes added until end_cluster() are drawn in one box, labelled.
    DotGraph& begin_cluster(std::string_view label);
    DotGraph& end_cluster();

    // The graph as DOT text; throws std::logic_error while a cluster is open.
    std::string str() const;

private:
    std::string body_;
    int clusters_ = 0;  // made so far: each needs a name of its own
    int open_ = 0;      // not yet ended
};

// `text` in double quotes for DOT: control characters and stray bytes made visible as
// escaped() does (text.hpp), then \ and " escaped, and for a record field also the
// characters that divide a record: { } | < >.
std::string dot_quoted(std::string_view text, bool record_field = false);

}  // namespace stepgrad
