// Every task, and what the rest of the library asks of a task by its name.
//
// Adding a task: write src/tasks/NAME.cpp with a class implementing Task (tasks.hpp) and
// `const Task& NAME_task()`, then add one row below.
#include <fmt/format.h>

#include <array>
#include <limits>

#include "stepgrad/support/text.hpp"
#include "stepgrad/tasks.hpp"

namespace stepgrad {

const Task& reverse_task();
const Task& copy_task();
const Task& sort_task();
const Task& dates_task();
const Task& translate_task();
const Task& en_zh_task();
const Task& zh_en_task();
const Task& headline_task();

std::span<const Task* const> all_tasks() {
    static const std::array<const Task*, 8> tasks{
        &reverse_task(),
        &copy_task(),
        &sort_task(),
        &dates_task(),
        &translate_task(),
        &en_zh_task(),
        &zh_en_task(),
        &headline_task(),
    };
    return tasks;
}

const Task& find_task(std::string_view name) {
    std::string names;
    for (const Task* task : all_tasks()) {
        if (task->name() == name) return *task;
        names += fmt::format("{}{}", names.empty() ? "" : ", ", task->name());
    }
    throw TaskError(fmt::format("unknown task {}; allowed: {}", quoted(name), names));
}

double Task::source_count(const TaskConfig&) const { return std::numeric_limits<double>::infinity(); }

std::span<const std::string_view> task_names() {
    static const std::vector<std::string_view> names = [] {
        std::vector<std::string_view> list;
        for (const Task* task : all_tasks()) list.push_back(task->name());
        return list;
    }();
    return names;
}

std::string_view describe_task(std::string_view name) { return find_task(name).description(); }

LengthRange task_length_range(std::string_view name) { return find_task(name).length_range(); }

TaskConfig default_task_config(std::string_view name) {
    const Task& task = find_task(name);
    TaskConfig config;
    config.name = std::string(task.name());
    config.min_len = task.default_lengths().min_len;
    config.max_len = task.default_lengths().max_len;
    return config;
}

void validate(const TaskConfig& config) {
    find_task(config.name);
    if (config.min_len < 1) throw TaskError(fmt::format("min_len must be at least 1 (got {})", config.min_len));
    if (config.max_len > task_max_len)
        throw TaskError(fmt::format("max_len must be at most {} (got {})", task_max_len, config.max_len));
    if (config.min_len > config.max_len)
        throw TaskError(fmt::format("min_len ({}) must not exceed max_len ({})", config.min_len, config.max_len));
    if (config.symbols < 2 || config.symbols > task_max_symbols)
        throw TaskError(
            fmt::format("symbols must be between 2 and {} (got {})", task_max_symbols, config.symbols));
    const LengthRange range = task_length_range(config.name);
    if (config.max_len < range.min_len || config.min_len > range.max_len)
        throw TaskError(fmt::format("task {} makes sources of {} to {} tokens; lengths {}..{} are impossible",
                                    config.name, range.min_len, range.max_len, config.min_len, config.max_len));
}

Vocab make_src_vocab(const TaskConfig& config) {
    validate(config);
    return find_task(config.name).src_vocab(config);
}

Vocab make_tgt_vocab(const TaskConfig& config) {
    validate(config);
    return find_task(config.name).tgt_vocab(config);
}

Example task_answer(const TaskGenerator& task, std::span<const int> src) {
    const Vocab& from = task.src_vocab();
    if (src.empty() || src.back() != Vocab::eos) throw TaskError("task_answer: a source ends with <eos>");
    const std::span<const int> tokens = src.first(src.size() - 1);
    for (const int id : tokens)
        if (id < Vocab::first_regular || id >= from.size())
            throw TaskError(fmt::format("task_answer: id {} is not a token of the {} vocabulary", id, from.name));
    return task.task().answer(tokens, from, task.tgt_vocab());
}

std::vector<int> task_target(const TaskGenerator& task, std::span<const int> src) { return task_answer(task, src).tgt; }

}  // namespace stepgrad
