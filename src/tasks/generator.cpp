#include <fmt/format.h>

#include <algorithm>

#include "stepgrad/tasks.hpp"

namespace stepgrad {

namespace {

// Draws in a row that may all be held-out sources before giving up: generous for a
// legal but crowded config, quick to fail for an impossible one.
constexpr int max_duplicate_draws = 20'000;

}  // namespace

std::size_t TaskGenerator::IdsHash::operator()(const std::vector<int>& ids) const {
    std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
    for (const int i : ids) {
        h ^= static_cast<std::uint32_t>(i);
        h *= 1099511628211ULL;
    }
    return static_cast<std::size_t>(h);
}

TaskGenerator::TaskGenerator(const TaskConfig& config, int held_out_count)
    : task_(&find_task(config.name)),
      config_(config),
      src_vocab_(make_src_vocab(config)),
      tgt_vocab_(make_tgt_vocab(config)),
      rng_(config.seed) {
    if (held_out_count < 0)
        throw TaskError(fmt::format("the held-out count must be ≥ 0 (got {})", held_out_count));
    // Only the symbol tasks can count their sources; the others are far larger.
    const double space = task_->source_count(config);
    if (space <= held_out_count)
        throw TaskError(fmt::format(
            "task {} with {} symbols and lengths {}..{} has only {} distinct sources: too "
            "few to hold out {} and still train; allow longer sources or more symbols",
            config.name, config.symbols, config.min_len, config.max_len, space, held_out_count));
    // Training draws until it finds a source not held out: with less than 1 % of the
    // sources left it would fail after training began, so refuse now.
    if (space - held_out_count < 0.01 * space)
        throw TaskError(fmt::format("task {} with lengths {}..{} has {} distinct sources: holding out {} leaves only {} "
                                    "to train on (at least 1% must be left); hold out fewer or allow longer sources",
                                    config.name, config.min_len, config.max_len, space, held_out_count,
                                    space - held_out_count));
    // A longer source is the usual way to more of them, unless the task makes none longer.
    const std::string more_sources = config.max_len < task_->length_range().max_len
                                         ? "allow longer sources or hold out fewer"
                                         : fmt::format("{} makes no source longer than {}: hold out fewer, or allow "
                                                       "shorter sources too",
                                                       config.name, config.max_len);
    held_out_.reserve(static_cast<std::size_t>(held_out_count));
    int duplicates = 0;
    while (static_cast<int>(held_out_.size()) < held_out_count) {
        Example example = sample();
        if (!held_out_sources_.insert(example.src).second) {
            if (++duplicates > max_duplicate_draws)
                throw TaskError(fmt::format(
                    "task {} with lengths {}..{}: found only {} distinct sources for a held-out "
                    "set of {}; {}",
                    config.name, config.min_len, config.max_len, held_out_.size(), held_out_count, more_sources));
            continue;
        }
        duplicates = 0;
        held_out_.push_back(std::move(example));
    }
}

bool TaskGenerator::is_held_out(std::span<const int> src) const {
    return held_out_sources_.count(std::vector<int>(src.begin(), src.end())) > 0;
}

Example TaskGenerator::next() {
    for (int attempt = 0; attempt < max_duplicate_draws; ++attempt) {
        Example example = sample();
        if (!held_out_sources_.count(example.src)) return example;
    }
    throw TaskError(fmt::format(
        "task {} with lengths {}..{}: {} draws in a row were all held-out sources, so almost "
        "nothing is left to train on; allow longer sources or hold out fewer",
        config_.name, config_.min_len, config_.max_len, max_duplicate_draws));
}

std::vector<Example> TaskGenerator::next(int count) {
    std::vector<Example> out;
    out.reserve(static_cast<std::size_t>(std::max(count, 0)));
    for (int i = 0; i < count; ++i) out.push_back(next());
    return out;
}

Example TaskGenerator::sample() { return task_->sample(rng_, config_, src_vocab_, tgt_vocab_); }

}  // namespace stepgrad
