#pragma once
// The seeds' own illustrations set beside what a trained model computed. Seed 004 draws
// α for "Tom chases Jerry" → "汤姆 追逐 杰瑞" by hand:
//            Tom  chases  Jerry
//   汤姆     0.6    0.2    0.2
//   追逐     0.2    0.7    0.1
//   杰瑞     0.3    0.1    0.5
#include <string_view>

#include "stepgrad/data.hpp"
#include "stepgrad/support/print.hpp"
#include "stepgrad/support/trace.hpp"

namespace stepgrad {

// For task en-zh traced on "Tom chases Jerry" (and only then): the model's α for the three
// words beside seed 004's, then what the numbers say — where each row's largest α falls
// in both, and how sharp the rows are. Prints nothing for any other run.
void compare_with_seed_004(Printer& out, std::string_view task, const TraceRun& run, const Vocab& src_vocab,
                           const Vocab& tgt_vocab);

}  // namespace stepgrad
