#pragma once
// The one example a lesson traces through its trained model — a held-out one or the
// user's --sentence — and the --json trace (SPEC §7) of that run, with the held-out
// evaluation, and its --svg picture of α.
#include <string_view>

#include "common/flags.hpp"
#include "common/training.hpp"
#include "stepgrad/data.hpp"
#include "stepgrad/support/print.hpp"
#include "stepgrad/support/trace.hpp"

namespace stepgrad {

// The example a lesson traces: the first held-out one or, with --sentence, the user's
// source with the task's answer as its target — or, when the task has no answer for it
// (English the grammar does not make, a date with the wrong weekday), the model's own
// greedy output, which a line on `out` then says.
Example traced_example(const LessonFlags& flags, Trained& trained, Printer& out);
// The same for any model (lesson 10's Transformer) trained on `task`.
Example traced_example(const LessonFlags& flags, Model& model, const TaskGenerator& task, Printer& out);

// Writes --json (when given) for this run, with the evaluation.
void write_lesson_trace(const LessonFlags& flags, std::string_view lesson, Trained& trained, const TraceRun& run);
// Writes --svg (when given): α of this run as a heatmap, titled with `lesson`, the model,
// the task and its held-out accuracy.
void write_lesson_svg(const LessonFlags& flags, std::string_view lesson, const Trained& trained, const TraceRun& run);

}  // namespace stepgrad
