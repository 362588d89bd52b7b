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
    out.line("Loaded {} (step {}): {} cell, {} decoder, score {}, E = {}, H = {}, task {}.", f.load, checkpoint->step,
             cell_kind_name(c.cell), decoder_kind_name(c.decoder), score_kind_name(c.score), c.embed, c.hidden,
             checkpoint->task.name);
}

void train_from_scratch(const LessonFlags& f, Trained& trained, Printer& out) {
    trained.task = std::make_unique<TaskGenerator>(task_config(f), f.held_out);
    trained.model = std::make_unique<Seq2Seq>(model_config(f, *trained.task));
    trained.model->init(f.seed);
    const TaskConfig& task = trained.task->config();
    out.text(fmt::format("Training a {} {} model ({} parameters) on '{}', sources of {}–{} tokens: {} steps of "
                         "{} examples, {}, lr {} with cosine decay, {}.",
                         f.cell, trained.model->config().decoder == DecoderKind::plain ? "plain" : f.decoder + "/" + f.score,
                         trained.model->parameter_count(), f.task, task.min_len, task.max_len, f.steps, f.batch,
                         f.optimizer == "adam" ? "Adam" : "SGD", f.lr,
                         f.clip > 0 ? fmt::format("gradient norm clipped at {}", f.clip) : "no clipping"));
    TrainOptions options = train_options(f);
    options.save_path = f.save;
    trained.training = train(*trained.model, *trained.task, options);
    if (trained.training.interrupted)
        throw Interrupted(fmt::format("interrupted at step {}{}", trained.training.steps,
                                      f.save.empty() ? "" : fmt::format("; checkpoint saved to {}", f.save)),
                          interrupt_signal());
    if (!trained.training.losses.empty())
        out.line("Loss: {:.4f} after the first step, {:.4f} after the last.", trained.training.losses.front(),
                 trained.training.losses.back());
    if (!f.save.empty()) out.line("Saved the model to {}.", f.save);
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
    return config;
}

TrainOptions train_options(const LessonFlags& f) {
    TrainOptions options;
    options.steps = f.steps;
    options.batch_size = f.batch;
    options.lr = f.lr;
    options.optimizer = f.optimizer;
    options.clip = f.clip;
    return options;
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
    trained.accuracy = evaluate(*trained.model, trained.task->held_out());
    out.text(fmt::format("Held-out accuracy ({} examples never trained on, greedy decoding): {:.1f}% of target "
                         "tokens, {:.1f}% of whole sequences.",
                         trained.accuracy.examples, 100 * trained.accuracy.token_accuracy,
                         100 * trained.accuracy.sequence_accuracy));
    trained.alignment = held_out_alignment(*trained.model, *trained.task);
    return trained;
}

TaskConfig fixed_length_task(const LessonFlags& f, int length) {
    TaskConfig config = default_task_config(f.task);
    config.min_len = config.max_len = length;
    config.seed = f.seed;
    return config;
}

Trained train_at_length(const LessonFlags& f, int length, const std::string& label) {
    Trained trained;
    trained.task = std::make_unique<TaskGenerator>(fixed_length_task(f, length), f.held_out);
    trained.model = std::make_unique<Seq2Seq>(model_config(f, *trained.task));
    trained.model->init(f.seed);
    TrainOptions options = train_options(f);
    options.label = label;
    trained.training = train(*trained.model, *trained.task, options);
    if (trained.training.steps == f.steps) {
        trained.accuracy = evaluate(*trained.model, trained.task->held_out());
        trained.alignment = held_out_alignment(*trained.model, *trained.task);
    }
    return trained;
}

}  // namespace stepgrad
