#pragma once
// How a lesson's body ends: it returns its exit code, or throws, and run_lesson turns
// what it throws into one line on stderr and the exit code a script can test — 2 for
// bad input, 1 for a training that diverged, 130 for Ctrl-C. The library returns; only
// this wrapper, in the program, decides how the program exits.
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace stepgrad {

// A stop signal (Ctrl-C, SIGTERM, SIGHUP) stopped the training: what() is the line for
// stderr ("interrupted at step 41; checkpoint saved to model.ckpt"), and run_lesson
// returns 128 + the signal (130 for Ctrl-C), the shell's code for it.
struct Interrupted : std::runtime_error {
    Interrupted(const std::string& message, int signal_number)
        : std::runtime_error(message), signal_number(signal_number) {}
    int signal_number;
};

// Runs a lesson's body; an error from bad input (unknown token, corrupt checkpoint, …)
// becomes one line on stderr and exit code 2, a training failure exit code 1, and
// Interrupted its own line and 128 + its signal. Output that never reached stdout (a
// full disk, a closed pipe) is exit code 2 naming stdout, never a silent success.
// `too_big` names the flags to lower when memory runs out.
int run_lesson(std::string_view program, const std::function<int()>& body,
               std::string_view too_big = "--batch, --hidden or --max-len");

}  // namespace stepgrad
