#pragma once
// Pictures as SVG text, to open in a browser without Jupyter: α as heatmaps with the
// tokens on both axes. Labels are UTF-8 (Chinese tokens stay Chinese), escaped for XML.
// Write the text with write_file_atomically (files.hpp).
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace stepgrad {

// One heatmap: rows × cols values, row-major, each meant to lie in [0, 1] (α, a
// probability); a label per row and per column.
struct Heatmap {
    std::string title;
    std::vector<double> values;
    std::size_t rows = 0;
    std::size_t cols = 0;
    std::vector<std::string> row_labels;
    std::vector<std::string> col_labels;
};

// Text for an XML element or a quoted attribute: first made visible as escaped()
// (text.hpp) does — control characters, stray bytes and invisible characters as \x1b,
// \u{200b} —, which also leaves nothing XML 1.0 cannot hold; then & < > " ' as entities.
std::string xml_text(std::string_view text);

// An SVG document: `title` on top, then the heatmaps one below the other, rows labelled
// on the left and columns on top, and one colour bar for all of them. Each cell is one
// <rect class="cell"> filled from white (0) to dark grey (1), values outside [0, 1]
// clamped and NaN red, with a <title> tooltip giving `value_name`, its value to 6
// decimals, the row and the column. Throws std::invalid_argument when a heatmap's sizes
// and labels do not agree.
std::string heatmap_svg(std::string_view title, std::string_view value_name, const std::vector<Heatmap>& heatmaps);

}  // namespace stepgrad
