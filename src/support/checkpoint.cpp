#include "stepgrad/support/checkpoint.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "stepgrad/support/files.hpp"
#include "stepgrad/support/trace.hpp"

namespace stepgrad {

std::uint64_t fnv1a64(std::string_view bytes) {
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    for (unsigned char byte : bytes) {
        hash ^= byte;
        hash *= 0x100000001b3ULL;
    }
    return hash;
}

namespace {

void write_model_config(JsonWriter& w, Model& model) {
    w.key("model").begin_object(JsonWriter::Layout::line);
    if (const auto* transformer = dynamic_cast<const Transformer*>(&model)) {
        const TransformerConfig& c = transformer->config();
        w.key("kind").value("transformer").key("norm").value(norm_position_name(c.norm));
        w.key("src_vocab").value(c.src_vocab).key("tgt_vocab").value(c.tgt_vocab);
        w.key("d_model").value(c.d_model).key("heads").value(c.heads).key("layers").value(c.layers).key("d_ff").value(c.d_ff);
    } else {
        const ModelConfig& c = dynamic_cast<const Seq2Seq&>(model).config();
        w.key("cell").value(cell_kind_name(c.cell)).key("decoder").value(decoder_kind_name(c.decoder));
        w.key("score").value(score_kind_name(c.score)).key("src_vocab").value(c.src_vocab).key("tgt_vocab").value(c.tgt_vocab);
        w.key("embed_dim").value(c.embed).key("hidden_dim").value(c.hidden).key("attn_dim").value(c.attn);
        w.key("bidirectional").value(c.bidirectional).key("layers").value(c.layers);  // SPEC §11
    }
    w.end_object();
}

}  // namespace

void save_checkpoint(const std::string& path, Model& model, const TaskGenerator& task, int step) {
    const TaskConfig& t = task.config();
    if (t.seed > checkpoint_max_seed)
        throw CheckpointError(fmt::format("cannot save {}: a checkpoint holds task seeds up to {}, not {}", path,
                                          checkpoint_max_seed, t.seed));
    JsonWriter w;
    w.begin_object();
    write_model_config(w, model);
    w.key("task").begin_object(JsonWriter::Layout::line);
    w.key("name").value(t.name).key("min_len").value(t.min_len).key("max_len").value(t.max_len);
    w.key("symbols").value(t.symbols).key("seed").value(t.seed);
    w.end_object();
    w.key("src_vocab").value(task.src_vocab().tokens);
    w.key("tgt_vocab").value(task.tgt_vocab().tokens);
    w.key("step").value(step);
    w.key("params").begin_object();
    for (const Parameter* p : model.parameters()) write_parameter(w, *p, p->value);
    w.end_object();
    w.end_object();
    w.finish();
    const std::string& body = w.str();
    write_file_atomically(path, fmt::format("{}\nchecksum fnv1a64 {:016x}\n{}", checkpoint_format, fnv1a64(body), body));
}

namespace {

// A checkpoint is a regular file: a FIFO would block the read forever and a device
// such as /dev/zero would never end. Its first line is checked before the rest is read,
// so a large file that is not a checkpoint is refused at once.
std::string read_whole_file(const std::string& path) {
    std::error_code error;
    const auto status = std::filesystem::status(path, error);
    if (error || !std::filesystem::exists(status))
        throw CheckpointError(fmt::format("cannot read checkpoint {}: no such file or not readable", path));
    if (std::filesystem::is_directory(status))
        throw CheckpointError(fmt::format("cannot read checkpoint {}: it is a folder, not a file", path));
    if (!std::filesystem::is_regular_file(status))
        throw CheckpointError(fmt::format("cannot read checkpoint {}: it is not a regular file (a pipe or a device?)", path));
    std::ifstream in(path, std::ios::binary);
    if (!in) throw CheckpointError(fmt::format("cannot read checkpoint {}: no such file or not readable", path));
    std::string first(checkpoint_format.size() + 1, '\0');
    in.read(first.data(), static_cast<std::streamsize>(first.size()));
    first.resize(static_cast<std::size_t>(in.gcount()));
    constexpr std::string_view family = "stepgrad-checkpoint/";
    const bool cut_short = family.starts_with(first);  // the header check below says so
    if (!cut_short && !std::string_view(first).starts_with(family))
        throw CheckpointError(fmt::format("{} is not a stepgrad checkpoint (its first line should be '{}')", path, checkpoint_format));
    std::ostringstream text;
    text << first << in.rdbuf();
    if (in.bad()) throw CheckpointError(fmt::format("cannot read checkpoint {}: a read error", path));
    return text.str();
}

// How many numbers the "data" arrays of a checkpoint's params hold.
double numbers_held(const Json& params) {
    double total = 0;
    for (const auto& [name, tensor] : params.as_object())
        if (const Json* data = tensor.is_object() ? tensor.find("data") : nullptr; data && data->is_array())
            total += static_cast<double>(data->size());
    return total;
}

// A lower bound on the parameter count of a model: the embeddings, one H × (E + H)
// matrix per cell and the output layer. A checkpoint whose configuration claims more
// than its file holds is refused before any memory is allocated for it.
double fewest_parameters(const ModelConfig& c) {
    const double E = c.embed, H = c.hidden, A = c.attn;
    double count = (c.src_vocab + c.tgt_vocab) * E + 2 * H * (E + H) + c.tgt_vocab * H;
    if (c.score == ScoreKind::concat || c.score == ScoreKind::qk || c.score == ScoreKind::qk_scaled) count += A * H;
    return count;
}

// The same for a Transformer: the embeddings, per layer its attention projections and FFN,
// and the output layer.
double fewest_parameters(const TransformerConfig& c) {
    const double d = c.d_model, layers = c.layers;
    return (c.src_vocab + c.tgt_vocab) * d + layers * (3 * 4 * d * d + 2 * 2 * d * c.d_ff) + c.tgt_vocab * d;
}

std::string sizes_of(const Checkpoint& checkpoint) {
    if (const auto& t = checkpoint.transformer)
        return fmt::format("d = {}, h = {}, N = {}, d_ff = {}", t->d_model, t->heads, t->layers, t->d_ff);
    return fmt::format("E = {}, H = {}, A = {}", checkpoint.model.embed, checkpoint.model.hidden, checkpoint.model.attn);
}

std::pair<int, int> vocabulary_sizes(const Checkpoint& checkpoint) {
    if (const auto& t = checkpoint.transformer) return {t->src_vocab, t->tgt_vocab};
    return {checkpoint.model.src_vocab, checkpoint.model.tgt_vocab};
}

ModelConfig read_recurrent_config(const Json& m) {
    ModelConfig config;
    config.cell = parse_cell_kind(m.at("cell").as_string());
    config.decoder = parse_decoder_kind(m.at("decoder").as_string());
    config.score = parse_score_kind(m.at("score").as_string());
    config.src_vocab = m.at("src_vocab").as_int();
    config.tgt_vocab = m.at("tgt_vocab").as_int();
    config.embed = m.at("embed_dim").as_int();
    config.hidden = m.at("hidden_dim").as_int();
    config.attn = m.at("attn_dim").as_int();
    // SPEC §11; a checkpoint written before them holds a one-layer forward encoder
    if (m.contains("bidirectional")) config.bidirectional = m.at("bidirectional").as_bool();
    if (m.contains("layers")) config.layers = m.at("layers").as_int();
    validate(config);
    return config;
}

TransformerConfig read_transformer_config(const Json& m) {
    TransformerConfig config;
    config.norm = parse_norm_position(m.at("norm").as_string());
    config.src_vocab = m.at("src_vocab").as_int();
    config.tgt_vocab = m.at("tgt_vocab").as_int();
    config.d_model = m.at("d_model").as_int();
    config.heads = m.at("heads").as_int();
    config.layers = m.at("layers").as_int();
    config.d_ff = m.at("d_ff").as_int();
    validate(config);
    return config;
}

// A trained model's parameters are finite and of modest size; a file with a valid
// checksum can still hold ±1e200 (written by hand or by a diverged run), whose forward
// would overflow into NaN in every printed number.
void check_parameter_values(const Json& params) {
    for (const auto& [name, tensor] : params.as_object()) {
        const Json* data = tensor.is_object() ? tensor.find("data") : nullptr;
        if (!data || !data->is_array()) continue;  // the shape check names it later
        for (std::size_t k = 0; k < data->size(); ++k) {
            const Json& number = data->as_array()[k];
            if (!number.is_number()) continue;
            const double x = number.as_number();
            if (!std::isfinite(x) || std::abs(x) > checkpoint_max_abs_parameter)
                throw CheckpointError(fmt::format("parameter '{}' holds {} at entry {}; parameters must be finite and "
                                                  "within ±{:g}",
                                                  name, x, k, checkpoint_max_abs_parameter));
        }
    }
}

// Splits off one header line; a missing newline means the file was cut short.
std::string_view take_line(std::string_view& text, const std::string& path) {
    const auto end = text.find('\n');
    if (end == std::string_view::npos)
        throw CheckpointError(fmt::format("checkpoint {} is truncated or not a checkpoint (header incomplete)", path));
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(end + 1);
    return line;
}

}  // namespace

Checkpoint read_checkpoint(const std::string& path) {
    const std::string text = read_whole_file(path);
    if (text.empty()) throw CheckpointError(fmt::format("checkpoint {} is empty", path));
    std::string_view rest = text;
    const std::string_view format = take_line(rest, path);
    if (format.substr(0, 20) == "stepgrad-checkpoint/" && format != checkpoint_format)
        throw CheckpointError(fmt::format("checkpoint {} has format '{}'; this stepgrad reads '{}'", path, format, checkpoint_format));
    if (format != checkpoint_format)
        throw CheckpointError(fmt::format("{} is not a stepgrad checkpoint (its first line should be '{}')", path, checkpoint_format));
    const std::string_view checksum_line = take_line(rest, path);
    const std::string expected = fmt::format("checksum fnv1a64 {:016x}", fnv1a64(rest));
    if (checksum_line != expected)
        throw CheckpointError(fmt::format("checkpoint {} is corrupt or truncated: its checksum does not match its contents", path));
    try {
        const Json body = parse_json(rest);
        const Json& m = body.at("model");
        Checkpoint checkpoint;
        if (m.contains("kind") && m.at("kind").as_string() == "transformer")
            checkpoint.transformer = read_transformer_config(m);
        else
            checkpoint.model = read_recurrent_config(m);
        checkpoint.params = body.at("params");
        check_parameter_values(checkpoint.params);
        const double needed = checkpoint.transformer ? fewest_parameters(*checkpoint.transformer) : fewest_parameters(checkpoint.model);
        if (needed > numbers_held(checkpoint.params))
            throw CheckpointError(fmt::format("its model ({}) needs more parameters than it holds", sizes_of(checkpoint)));
        const Json& t = body.at("task");
        checkpoint.task.name = t.at("name").as_string();
        checkpoint.task.min_len = t.at("min_len").as_int();
        checkpoint.task.max_len = t.at("max_len").as_int();
        checkpoint.task.symbols = t.at("symbols").as_int();
        // JSON numbers are doubles: seeds above 2^53 would not read back exactly
        const double seed = t.at("seed").as_number();
        if (!(seed >= 0 && seed <= checkpoint_max_seed) || seed != std::floor(seed))
            throw CheckpointError(fmt::format("task.seed must be a whole number from 0 to {}", checkpoint_max_seed));
        checkpoint.task.seed = static_cast<std::uint64_t>(seed);
        validate(checkpoint.task);
        for (const Json& token : body.at("src_vocab").as_array()) checkpoint.src_tokens.push_back(token.as_string());
        for (const Json& token : body.at("tgt_vocab").as_array()) checkpoint.tgt_tokens.push_back(token.as_string());
        const auto [src_vocab, tgt_vocab] = vocabulary_sizes(checkpoint);
        if (checkpoint.src_tokens.size() != static_cast<std::size_t>(src_vocab) ||
            checkpoint.tgt_tokens.size() != static_cast<std::size_t>(tgt_vocab))
            throw CheckpointError(fmt::format("its model has vocabularies of {} and {} tokens, but it lists {} and {}",
                                              src_vocab, tgt_vocab, checkpoint.src_tokens.size(), checkpoint.tgt_tokens.size()));
        checkpoint.step = body.at("step").as_int();
        if (checkpoint.step < 0) throw CheckpointError(fmt::format("step must be ≥ 0, got {}", checkpoint.step));
        return checkpoint;
    } catch (const std::exception& e) {
        throw CheckpointError(fmt::format("checkpoint {} is invalid: {}", path, e.what()));
    }
}

namespace {

template <class M, class Config>
std::unique_ptr<M> model_with_parameters(const Checkpoint& checkpoint, const Config& config, const TaskGenerator& task) {
    const auto [src_vocab, tgt_vocab] = vocabulary_sizes(checkpoint);
    if (checkpoint.src_tokens != task.src_vocab().tokens || checkpoint.tgt_tokens != task.tgt_vocab().tokens ||
        src_vocab != task.src_vocab().size() || tgt_vocab != task.tgt_vocab().size())
        throw CheckpointError(fmt::format("the checkpoint's vocabularies do not match the task '{}' it names", task.config().name));
    auto model = std::make_unique<M>(config);
    try {
        load_parameters(checkpoint.params, model->parameters());
    } catch (const std::exception& e) {
        throw CheckpointError(fmt::format("checkpoint does not fit its model: {}", e.what()));
    }
    return model;
}

}  // namespace

std::unique_ptr<Seq2Seq> load_model(const Checkpoint& checkpoint, const TaskGenerator& task) {
    if (checkpoint.transformer)
        throw CheckpointError("the checkpoint holds a Transformer, not a recurrent seq2seq model (lesson 10 loads it)");
    return model_with_parameters<Seq2Seq>(checkpoint, checkpoint.model, task);
}

std::unique_ptr<Transformer> load_transformer(const Checkpoint& checkpoint, const TaskGenerator& task) {
    if (!checkpoint.transformer)
        throw CheckpointError(fmt::format("the checkpoint holds a recurrent {} {} model, not a Transformer",
                                          cell_kind_name(checkpoint.model.cell), decoder_kind_name(checkpoint.model.decoder)));
    return model_with_parameters<Transformer>(checkpoint, *checkpoint.transformer, task);
}

}  // namespace stepgrad
