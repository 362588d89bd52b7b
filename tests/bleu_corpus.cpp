// For tests/bleu_oracle.py: corpus BLEU of the corpora on stdin, one result line each.
// Input: a line per sentence pair, hypothesis and reference separated by a tab, tokens by
// spaces; an empty line ends a corpus. Output per corpus:
//   bleu c r BP matched_1 total_1 … matched_4 total_4     (bleu with 17 significant digits)
#include <iostream>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "stepgrad/bleu.hpp"

namespace {

stepgrad::Tokens split(const std::string& text) {
    std::istringstream in(text);
    stepgrad::Tokens tokens;
    for (std::string token; in >> token;) tokens.push_back(token);
    return tokens;
}

void score(const std::vector<stepgrad::Tokens>& hypotheses, const std::vector<stepgrad::Tokens>& references) {
    const stepgrad::BleuScore s = stepgrad::corpus_bleu(hypotheses, references);
    fmt::print("{:.17g} {} {} {:.17g}", s.bleu, s.hypothesis_length, s.reference_length, s.brevity_penalty);
    for (int n = 0; n < stepgrad::BleuScore::max_order; ++n) fmt::print(" {} {}", s.matched[n], s.total[n]);
    fmt::print("\n");
}

}  // namespace

int main() {
    std::vector<stepgrad::Tokens> hypotheses, references;
    bool open = false;
    for (std::string line; std::getline(std::cin, line);) {
        if (line.empty()) {
            if (open) score(hypotheses, references);
            hypotheses.clear(), references.clear(), open = false;
            continue;
        }
        const auto tab = line.find('\t');
        hypotheses.push_back(split(line.substr(0, tab)));
        references.push_back(split(tab == std::string::npos ? "" : line.substr(tab + 1)));
        open = true;
    }
    if (open) score(hypotheses, references);
}
