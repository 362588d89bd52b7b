// run_lesson: what a lesson's body throws, turned into one line on stderr and an exit
// code (see run.hpp).
#include "common/run.hpp"

#include <cstdio>
#include <new>

#include <fmt/format.h>

#include "stepgrad/support/files.hpp"  // defines: check_stdout
#include "stepgrad/train.hpp"

namespace stepgrad {

int run_lesson(std::string_view program, const std::function<int()>& body, std::string_view too_big) {
    try {
        const int code = body();
        check_stdout();
        return code;
    } catch (const Interrupted& e) {
        std::fflush(stdout);
        fmt::print(stderr, "{}\n", e.what());
        return 128 + e.signal_number;
    } catch (const TrainingError& e) {
        fmt::print(stderr, "{}: error: {}\n", program, e.what());
        return 1;
    } catch (const std::bad_alloc&) {
        fmt::print(stderr, "{}: error: out of memory: the model, the batch and the sources are too big together "
                           "(attention keeps m·n scores per example); try a smaller {}\n",
                   program, too_big);
        return 2;
    } catch (const std::exception& e) {
        std::fflush(stdout);  // what was printed before stays before the error
        // a failed write to stdout surfaces as fmt's "cannot write to file": say which
        const bool lost_stdout = std::ferror(stdout) && !std::string_view(e.what()).starts_with("cannot write to stdout");
        fmt::print(stderr, "{}: error: {}{}\n", program, lost_stdout ? "cannot write to stdout: " : "", e.what());
        return 2;
    }
}

}  // namespace stepgrad
