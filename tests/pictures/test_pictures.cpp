// The picture writers of the support layer: SVG heatmaps (svg.hpp) and Graphviz DOT
// (dot.hpp). What the lessons draw with them is checked by pictures.py.
#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include "stepgrad/support/dot.hpp"
#include "stepgrad/support/svg.hpp"

using namespace stepgrad;

namespace {

std::size_t count(const std::string& text, const std::string& piece) {
    std::size_t n = 0;
    for (std::size_t at = text.find(piece); at != std::string::npos; at = text.find(piece, at + 1)) ++n;
    return n;
}

Heatmap two_by_three() {
    return {"<a> & \"b\"", {0.0, 0.5, 1.0, 0.25, std::nan(""), 2.0}, 2, 3, {"她", "<eos>"}, {"x", "y", "'"}};
}

}  // namespace

TEST_CASE("xml_text: the five XML characters as entities, control characters made visible") {
    CHECK(xml_text("a<b>&\"c'") == "a&lt;b&gt;&amp;&quot;c&apos;");
    CHECK(xml_text("汉字 é") == "汉字 é");  // UTF-8 stays UTF-8
    CHECK(xml_text("\x1b[0m\x01") == "\\x1b[0m\\x01");
    CHECK(xml_text("\xff") == "\\xff");  // a stray byte: XML could not hold it
}

TEST_CASE("heatmap_svg: a cell per value, with its value, row and column in a tooltip") {
    const std::string svg = heatmap_svg("α & more", "α", {two_by_three(), two_by_three()});
    CAPTURE(svg);
    CHECK(svg.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\""));
    CHECK(count(svg, "<rect class=\"cell\"") == 12);
    CHECK(count(svg, "<g class=\"heatmap\">") == 2);
    CHECK(count(svg, "<g class=\"colour-bar\">") == 1);
    CHECK(svg.find("<title>α = 0.500000 · row 1 &apos;她&apos; · column 2 &apos;y&apos;</title>") != std::string::npos);
    CHECK(svg.find("<title>α = nan · row 2 &apos;&lt;eos&gt;&apos; · column 2 &apos;y&apos;</title>") != std::string::npos);
    CHECK(svg.find("&lt;a&gt; &amp; &quot;b&quot;") != std::string::npos);  // the heatmap's title
    CHECK(svg.find("α &amp; more") != std::string::npos);
    CHECK(svg.find("\"<") == std::string::npos);  // no raw < inside an attribute
}

TEST_CASE("heatmap_svg: white at 0, dark at 1, values outside [0, 1] clamped, NaN red") {
    const std::string svg = heatmap_svg("", "α", {two_by_three()});
    CHECK(count(svg, "fill=\"#ffffff\"><title>α = 0.000000") == 1);
    CHECK(count(svg, "fill=\"#1a1a1a\"><title>α = 1.000000") == 1);
    CHECK(count(svg, "fill=\"#1a1a1a\"><title>α = 2.000000") == 1);
    CHECK(count(svg, "fill=\"#d62728\"><title>α = nan") == 1);
    CHECK(count(svg, "fill=\"#8d8d8d\"><title>α = 0.500000") == 1);  // 255 − 0.5·(255 − 26), rounded
}

TEST_CASE("heatmap_svg: sizes and labels that do not agree are refused") {
    Heatmap h = two_by_three();
    h.col_labels.pop_back();
    CHECK_THROWS_AS(heatmap_svg("", "α", {h}), std::invalid_argument);
    h = two_by_three();
    h.values.push_back(0.0);
    CHECK_THROWS_AS(heatmap_svg("", "α", {h}), std::invalid_argument);
}

TEST_CASE("dot_quoted: quotes and backslashes escaped, record separators in a field") {
    CHECK(dot_quoted("a \"b\" \\ c") == "\"a \\\"b\\\" \\\\ c\"");
    CHECK(dot_quoted("{x | <y>}") == "\"{x | <y>}\"");
    CHECK(dot_quoted("{x | <y>}", true) == "\"\\{x \\| \\<y\\>\\}\"");
    CHECK(dot_quoted("∂o/∂x1\n") == "\"∂o/∂x1\\\\x0a\"");  // a newline made visible, not a line break
}

TEST_CASE("DotGraph: records, op nodes, labelled arrows and clusters") {
    DotGraph graph;
    graph.begin_cluster("the neuron");
    graph.record("x1", {"x1", "data 2.0000", "grad -1.5000"}).node("n op", "*").edge("x1", "n op", "-3.0000");
    graph.end_cluster();
    const std::string dot = graph.str();
    CAPTURE(dot);
    CHECK(dot.starts_with("digraph {\n  rankdir=\"LR\";\n"));
    CHECK(dot.find("  subgraph cluster_0 {\n  label=\"the neuron\";\n") != std::string::npos);
    CHECK(dot.find("\"x1\" [shape=record, label=\"{ x1 | data 2.0000 | grad -1.5000 }\"];") != std::string::npos);
    CHECK(dot.find("\"n op\" [shape=\"ellipse\", label=\"*\"];") != std::string::npos);
    CHECK(dot.find("\"x1\" -> \"n op\" [label=\"-3.0000\"];") != std::string::npos);
    CHECK(dot.ends_with("  }\n}\n"));
}

TEST_CASE("DotGraph: an unbalanced cluster is a programming error") {
    DotGraph graph;
    CHECK_THROWS_AS(graph.end_cluster(), std::logic_error);
    graph.begin_cluster("open");
    CHECK_THROWS_AS((void)graph.str(), std::logic_error);
}
