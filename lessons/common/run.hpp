#pragma once
// How a lesson's body ends: it returns its exit code, or throws, and run_lesson turns
// what it throws into one line on stderr and the exit code a script can test — 2 for
// bad input, 1 for a training that diverged, 130 for Ctrl-C. The library returns; only
// this wrapper, in the program, decides how the program exits.
#include <functional>
#include <stdexcept>
#include <string_view>

namespace stepgrad {

// Ctrl-C stopped the training: what() is the line for stderr ("interrupted at step 41;
// checkpoint saved to model.ckpt"), and run_lesson returns 130, the shell's code for it.
struct Interrupted : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Runs a lesson's body; an error from bad input (unknown token, corrupt checkpoint, …)
// becomes one line on stderr and exit code 2, a training failure exit code 1, and
// Interrupted its own line and exit code 130.
int run_lesson(std::string_view program, const std::function<int()>& body);

}  // namespace stepgrad
