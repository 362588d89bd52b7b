// run_lesson: what a lesson's body throws, turned into one line on stderr and an exit
// code (see run.hpp).
#include "common/run.hpp"

#include <cstdio>
#include <new>

#include <fmt/format.h>

#include "stepgrad/train.hpp"

namespace stepgrad {

int run_lesson(std::string_view program, const std::function<int()>& body) {
    try {
        return body();
    } catch (const Interrupted& e) {
        fmt::print(stderr, "{}\n", e.what());
        return 130;
    } catch (const TrainingError& e) {
        fmt::print(stderr, "{}: error: {}\n", program, e.what());
        return 1;
    } catch (const std::bad_alloc&) {
        fmt::print(stderr, "{}: error: out of memory: the model, the batch and the sources are too big together "
                           "(attention keeps m·n scores per example); try a smaller --batch, --hidden or --max-len\n",
                   program);
        return 2;
    } catch (const std::exception& e) {
        fmt::print(stderr, "{}: error: {}\n", program, e.what());
        return 2;
    }
}

}  // namespace stepgrad
