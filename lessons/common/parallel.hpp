#pragma once
// Several trainings at once, for the lessons that compare models (07, 08): `jobs`
// threads take the items from one list in order, each item on whichever thread is free.
// Each training has its own task, model, generator and (per thread) tape, so the numbers
// do not depend on which thread ran it or when.
#include <cstddef>
#include <functional>

namespace stepgrad {

// Runs work(k) for k = 0 … count − 1 on `jobs` threads. After the first exception no new
// item starts, and it is rethrown once every thread has stopped; after a stop signal
// (Ctrl-C) no new item starts either, and it returns normally: the caller sees which
// items finished.
void run_in_parallel(std::size_t count, int jobs, const std::function<void(std::size_t)>& work);

}  // namespace stepgrad
