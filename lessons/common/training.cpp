// Building, training or loading the model a lesson is about (see training.hpp).
#include "common/training.hpp"

#include "common/run.hpp"
#include "stepgrad/support/checkpoint.hpp"

namespace stepgrad {

namespace {

// The model of --load: read by add_lesson_flags' check, or here when the flags were set
// in code.
void load(const LessonFlags& f, Trained& trained, Printer& out) {
    const auto checkpoint = f.checkpoint ? f.checkpoint : std::make_shared<const Checkpoint>(read_checkpoint(f.load));
    trained.task = std::make_unique<TaskGenerator>(checkpoint->task, f.held_out);
    trained.model = load_model(*checkpoint, *trained.task);
    const ModelConfig& c = checkpoint->model;
    out.text(fmt::format("Loaded {} (step {}): {}{}{} cell, {} decoder, score {}, E = {}, H = {}, task {}.", f.load,
                         checkpoint->step, c.bidirectional ? "bidirectional " : "",
                         c.layers > 1 ? fmt::format("{}-layer ", c.layers) : "", cell_kind_name(c.cell),
                         decoder_kind_name(c.decoder), score_kind_name(c.score), c.embed, c.hidden, checkpoint->task.name));
}

// "bidirectional 2-layer ", or nothing for the one forward layer of §4.
std::string encoder_words(const LessonFlags& f) {
    return fmt::format("{}{}", f.bidirectional ? "bidirectional " : "", f.layers > 1 ? fmt::format("{}-layer ", f.layers) : "");
}

// ", each decoder input the gold token with probability P = 0.75, else the model's own
// previous argmax", or nothing for teacher forcing (P = 1).
std::string scheduled_sampling_words(double P) {
    if (P == 1) return "";
    return fmt::format(", each decoder input the gold token with probability P = {}, else the model's own previous "
                       "argmax", P);
}

void train_from_scratch(const LessonFlags& f, Trained& trained, Printer& out) {
    trained.task = std::make_unique<TaskGenerator>(task_config(f), f.held_out);
    trained.model = std::make_unique<Seq2Seq>(model_config(f, *trained.task));
    trained.model->init(f.seed);
    const TaskConfig& task = trained.task->config();
    out.text(fmt::format("Training a {}{} {} model ({} parameters) on '{}', sources of {}–{} tokens: {} steps of "
                         "{} examples, {}, lr {} with cosine decay, {}{}.",
                         encoder_words(f), f.cell,
                         trained.model->config().decoder == DecoderKind::plain ? "plain" : f.decoder + "/" + f.score,
                         trained.model->parameter_count(), f.task, task.min_len, task.max_len, f.steps, f.batch,
                         f.optimizer == "adam" ? "Adam" : "SGD", f.lr,
                         f.clip > 0 ? fmt::format("gradient norm clipped at {}", f.clip) : "no clipping",
                         scheduled_sampling_words(f.teacher_forcing)));
    trained.training = train_for_lesson(*trained.model, *trained.task, f, out);
}

}  // namespace

ModelConfig model_config(const LessonFlags& f, const TaskGenerator& task) {
    ModelConfig config;
    config.cell = parse_cell_kind(f.cell);
    config.decoder = parse_decoder_kind(f.decoder);
    config.score = config.decoder == DecoderKind::plain ? ScoreKind::none : parse_score_kind(f.score);
    config.src_vocab = task.src_vocab().size();
    config.tgt_vocab = task.tgt_vocab().size();
    config.embed = f.embed;
    config.hidden = f.hidden;
    config.attn = f.attn;
    config.bidirectional = f.bidirectional;
    config.layers = f.layers;
    return config;
}

TrainOptions train_options(const LessonFlags& f) {
    TrainOptions options;
    options.steps = f.steps;
    options.batch_size = f.batch;
    options.lr = f.lr;
    options.optimizer = f.optimizer;
    options.clip = f.clip;
    options.threads = f.threads;
    options.teacher_forcing = f.teacher_forcing;
    return options;
}

EvaluateOptions evaluate_options(const LessonFlags& f, const TaskGenerator& task) {
    EvaluateOptions options;
    options.beam_width = f.beam;
    options.length_penalty = f.length_penalty;
    options.target = &task.tgt_vocab();  // BLEU when it is word level
    return options;
}

std::string decoding_words(const EvaluateOptions& options) {
    if (options.beam_width == 1) return "greedy decoding";
    return fmt::format("beam search, K = {}{}", options.beam_width,
                       options.length_penalty > 0 ? fmt::format(", length penalty a = {}", options.length_penalty) : "");
}

std::optional<AlignmentAccuracy> held_out_alignment(Seq2Seq& model, const TaskGenerator& task) {
    if (!model.score) return std::nullopt;
    return alignment_accuracy(model, task.held_out());
}

Trained train_or_load(const LessonFlags& f, Printer& out) {
    Trained trained;
    if (f.checkpoint || !f.load.empty())
        load(f, trained, out);
    else
        train_from_scratch(f, trained, out);
    trained.accuracy = held_out_accuracy(*trained.model, *trained.task, f, out);
    trained.alignment = held_out_alignment(*trained.model, *trained.task);
    return trained;
}

TrainResult train_for_lesson(Model& model, TaskGenerator& task, const LessonFlags& f, Printer& out) {
    TrainOptions options = train_options(f);
    options.save_path = f.save;
    const TrainResult training = train(model, task, options);
    if (training.interrupted)
        throw Interrupted(fmt::format("interrupted at step {}{}", training.steps,
                                      f.save.empty() ? "" : fmt::format("; checkpoint saved to {}", f.save)),
                          interrupt_signal());
    if (!training.losses.empty())
        out.line("Loss: {:.4f} after the first step, {:.4f} after the last.", training.losses.front(),
                 training.losses.back());
    if (!f.save.empty()) out.line("Saved the model to {}.", f.save);
    return training;
}

Accuracy held_out_accuracy(Model& model, const TaskGenerator& task, const LessonFlags& f, Printer& out) {
    const EvaluateOptions decoding = evaluate_options(f, task);
    Accuracy accuracy = evaluate(model, task.held_out(), decoding);
    const std::optional<double>& bleu = accuracy.bleu;  // word-level tasks only
    out.text(fmt::format("Held-out accuracy ({} examples never trained on, {}): {:.1f}% of target "
                         "tokens, {:.1f}% of whole sequences{}.",
                         accuracy.examples, decoding_words(decoding), 100 * accuracy.token_accuracy,
                         100 * accuracy.sequence_accuracy, bleu ? fmt::format(", BLEU {:.1f}", *bleu) : ""));
    return accuracy;
}

TrainResult train_quietly(Model& model, TaskGenerator& task, const LessonFlags& f, const std::string& label) {
    TrainOptions options = train_options(f);
    options.label = label;
    return train(model, task, options);
}

TaskConfig fixed_length_task(const LessonFlags& f, int length) {
    TaskConfig config = default_task_config(f.task);
    config.min_len = config.max_len = length;
    config.seed = f.seed;
    return config;
}

Trained train_at_length(const LessonFlags& f, int length, const std::string& label) {
    return train_quietly(f, fixed_length_task(f, length), label);
}

Trained train_quietly(const LessonFlags& f, const TaskConfig& task, const std::string& label) {
    Trained trained;
    trained.task = std::make_unique<TaskGenerator>(task, f.held_out);
    trained.model = std::make_unique<Seq2Seq>(model_config(f, *trained.task));
    trained.model->init(f.seed);
    trained.training = train_quietly(*trained.model, *trained.task, f, label);
    if (trained.training.steps == f.steps) {
        trained.accuracy = evaluate(*trained.model, trained.task->held_out(), evaluate_options(f, *trained.task));
        trained.alignment = held_out_alignment(*trained.model, *trained.task);
    }
    return trained;
}

}  // namespace stepgrad
