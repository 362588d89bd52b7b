#pragma once
// Checkpoints: a trained model and the task it was trained on, in one file.
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "stepgrad/seq2seq.hpp"
#include "stepgrad/support/json.hpp"
#include "stepgrad/tasks.hpp"
#include "stepgrad/transformer.hpp"

namespace stepgrad {

// A text file: a header line with the format version, a line with the FNV-1a 64
// checksum of the body, then the body (JSON: model config, task config, vocabularies,
// step, params). Written atomically; any damage is caught by the checksum.
inline constexpr std::string_view checkpoint_format = "stepgrad-checkpoint/1";

class CheckpointError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct Checkpoint {
    ModelConfig model;  // the recurrent model's; unused when `transformer` is set
    std::optional<TransformerConfig> transformer;  // model.kind "transformer" (SPEC §14)
    TaskConfig task;
    std::vector<std::string> src_tokens;
    std::vector<std::string> tgt_tokens;
    int step = 0;
    Json params;
};

// The largest parameter magnitude a checkpoint may hold (trained models stay far below).
inline constexpr double checkpoint_max_abs_parameter = 1e6;

// The largest task seed a checkpoint holds exactly (its JSON numbers are doubles).
inline constexpr std::uint64_t checkpoint_max_seed = std::uint64_t{1} << 53;

// Throws CheckpointError for a task seed above checkpoint_max_seed. A Model is a Seq2Seq
// or a Transformer.
void save_checkpoint(const std::string& path, Model& model, const TaskGenerator& task, int step);
Checkpoint read_checkpoint(const std::string& path);
// The model a checkpoint holds, with its parameters; checks the vocabularies against
// the task the checkpoint names, and the kind of model (a recurrent one, or a Transformer).
std::unique_ptr<Seq2Seq> load_model(const Checkpoint& checkpoint, const TaskGenerator& task);
std::unique_ptr<Transformer> load_transformer(const Checkpoint& checkpoint, const TaskGenerator& task);

std::uint64_t fnv1a64(std::string_view bytes);

}  // namespace stepgrad
