// Several trainings at once (see parallel.hpp).
#include "common/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <thread>
#include <vector>

#include "stepgrad/train.hpp"  // defines: interrupt_requested

namespace stepgrad {

void run_in_parallel(std::size_t count, int jobs, const std::function<void(std::size_t)>& work) {
    std::vector<std::exception_ptr> errors(count);
    std::atomic<std::size_t> next{0};
    std::atomic<bool> failed{false};
    const auto worker = [&] {
        for (std::size_t k; (k = next++) < count && !interrupt_requested() && !failed;) {
            try {
                work(k);
            } catch (...) {
                errors[k] = std::current_exception();
                failed = true;
            }
        }
    };
    {
        std::vector<std::jthread> threads;  // joined here, before the errors are read
        for (int t = 0; t < std::min<int>(jobs, static_cast<int>(count)); ++t) threads.emplace_back(worker);
    }
    for (const std::exception_ptr& error : errors)
        if (error) std::rethrow_exception(error);
}

}  // namespace stepgrad
