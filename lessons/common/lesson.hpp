#pragma once
// What lessons 04–07 share, so each lesson's body stays about the model; one include
// brings it all:
//   flags.hpp     the common flags, and the check that refuses a bad combination
//   outputs.hpp   the check of the files the flags name (also for lessons 01–03)
//   training.hpp  a model trained on the task (or loaded from --load), and its accuracy
//   example.hpp   the example a lesson traces, its --json trace and --svg picture
//   parameters.hpp  every parameter a traced example uses, labelled (--trace full)
//   printing.hpp  one example's computation: encoder states, every decoder step, α
//   alignment.hpp   how often α peaks on the gold source position (SPEC §11)
//   seeds.hpp     the seeds' hand-drawn α beside the model's (seed 004, lesson 05)
//   run.hpp       run_lesson: what the body throws, as one stderr line and an exit code
#include "common/alignment.hpp"
#include "common/example.hpp"
#include "common/flags.hpp"
#include "common/parameters.hpp"
#include "common/printing.hpp"
#include "common/run.hpp"
#include "common/seeds.hpp"
#include "common/training.hpp"
