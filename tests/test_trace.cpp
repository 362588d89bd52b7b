// Traces (support/trace.hpp, SPEC §7): what seq2seq_trace and encoder_trace write, read
// back with the project's JSON reader and load_parameters, and load_parameters' errors.
#include "testing.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "stepgrad/support/checkpoint.hpp"  // defines: save_checkpoint, read_checkpoint, load_model
#include "stepgrad/support/files.hpp"  // defines: write_file_atomically
#include "stepgrad/support/trace.hpp"  // defines: seq2seq_trace, encoder_trace, load_parameters

using namespace stepgrad;
using namespace stepgrad::testing;

namespace {

const Vocab src_vocab("src", Vocab::Level::character, {"a", "b", "c", "d"});  // 7 ids
const Vocab tgt_vocab("tgt", Vocab::Level::character, {"x", "y", "z"});       // 6 ids
const Example example{{3, 4, 5, 6, 2}, {5, 3, 2}};

ModelConfig tiny_config(CellKind cell, DecoderKind decoder, ScoreKind score, bool bidirectional = false,
                        int layers = 1) {
    return {.cell = cell, .decoder = decoder, .score = score, .src_vocab = 7, .tgt_vocab = 6, .embed = 3,
            .hidden = 3, .attn = 2, .bidirectional = bidirectional, .layers = layers};
}

// The three decoders, each with a cell and a score that add keys to the trace (c and the
// LSTM gates, h̃ and W_c, a score with two matrices).
const ModelConfig configs[] = {
    tiny_config(CellKind::rnn, DecoderKind::plain, ScoreKind::none),
    tiny_config(CellKind::gru, DecoderKind::bahdanau, ScoreKind::concat),
    tiny_config(CellKind::lstm, DecoderKind::luong, ScoreKind::qk_scaled),
};

// SPEC §11's models: bidirectional, stacked, both.
const ModelConfig section11_configs[] = {
    tiny_config(CellKind::rnn, DecoderKind::bahdanau, ScoreKind::concat, true, 1),
    tiny_config(CellKind::gru, DecoderKind::luong, ScoreKind::general, false, 3),
    tiny_config(CellKind::lstm, DecoderKind::bahdanau, ScoreKind::qk, true, 2),
    tiny_config(CellKind::lstm, DecoderKind::plain, ScoreKind::none, true, 2),
};

std::string trace_of(Seq2Seq& model) {
    const TraceRun run = run_traced_example(model, example);
    return seq2seq_trace("test", model, src_vocab, tgt_vocab, run);
}

// A "params" object of the tiny GRU bahdanau model, to damage.
Json tiny_params() {
    Seq2Seq model(configs[1]);
    model.init(1);
    return parse_json(trace_of(model)).at("params");
}

void load_into_tiny_model(const Json& params) {
    Seq2Seq model(configs[1]);
    load_parameters(params, model.parameters());
}

}  // namespace

TEST_CASE("trace round trip: write, parse, load_parameters into a fresh model, the same numbers") {
    std::vector<ModelConfig> all(std::begin(configs), std::end(configs));
    all.insert(all.end(), std::begin(section11_configs), std::end(section11_configs));
    for (const ModelConfig& config : all) {
        INFO(cell_kind_name(config.cell), " ", decoder_kind_name(config.decoder), " ", score_kind_name(config.score));
        Seq2Seq model(config);
        model.init(5);
        const std::string text = trace_of(model);
        const Json trace = parse_json(text);
        CHECK(trace.at("format").as_string() == trace_format);
        CHECK(trace.at("model").at("decoder").as_string() == decoder_kind_name(config.decoder));
        CHECK(ids(trace.at("src")) == example.src);
        CHECK(ids(trace.at("tgt")) == example.tgt);
        CHECK(trace.at("decoder").size() == example.tgt.size());

        const TraceRun run = run_traced_example(model, example);
        CHECK(trace.at("loss").as_number() == run.forward.loss.value(0));  // shortest form, same bits
        for (const Parameter* p : model.parameters()) {
            check_close(read_tensor(trace.at("grads").at(p->name())).data, p->grad, "grad of " + p->name(), 0);
        }

        Seq2Seq fresh(config);
        load_parameters(trace.at("params"), fresh.parameters());
        const std::vector<Parameter*> ours = model.parameters(), theirs = fresh.parameters();
        for (std::size_t k = 0; k < ours.size(); ++k)
            check_close(theirs[k]->value, ours[k]->value, "loaded " + ours[k]->name(), 0);
        CHECK(trace_of(fresh) == text);  // the loaded model writes the very same bytes
    }
}

TEST_CASE("a one-layer forward model's trace has SPEC 7's layout, without SPEC 11's keys") {
    for (const ModelConfig& config : configs) {
        Seq2Seq model(config);
        model.init(5);
        const Json trace = parse_json(trace_of(model));
        CHECK_FALSE(trace.at("model").contains("bidirectional"));
        CHECK_FALSE(trace.at("model").contains("layers"));
        CHECK_FALSE(trace.contains("decoder_init"));
        CHECK_FALSE(trace.at("encoder").at(0).contains("layers"));
        CHECK_FALSE(trace.at("decoder").at(0).contains("layers"));
    }
}

TEST_CASE("a bidirectional stacked model's trace has SPEC 11's layout") {
    for (const ModelConfig& config : section11_configs) {
        INFO(cell_kind_name(config.cell), " ", decoder_kind_name(config.decoder), " layers ", config.layers);
        Seq2Seq model(config);
        model.init(5);
        const Json trace = parse_json(trace_of(model));
        const std::size_t H = 3, H_k = config.bidirectional ? 6 : 3, L = static_cast<std::size_t>(config.layers);
        CHECK(trace.at("model").at("bidirectional").as_bool() == config.bidirectional);
        CHECK(trace.at("model").at("layers").as_int() == config.layers);
        const Json& step = trace.at("encoder").at(2);
        CHECK(step.at("h").size() == H_k);  // the annotation [→h; ←h]
        REQUIRE(step.at("layers").size() == L);
        for (std::size_t l = 0; l < L; ++l) {
            CHECK(step.at("layers").at(l).at("h").size() == H);
            CHECK(step.at("layers").at(l).contains("reverse") == config.bidirectional);
            CHECK(step.at("layers").at(l).contains("c") == (config.cell == CellKind::lstm));
        }
        // the annotation is the top layer's →h then ←h
        std::vector<double> annotation = numbers(step.at("layers").at(L - 1).at("h"));
        if (config.bidirectional) {
            const std::vector<double> back = numbers(step.at("layers").at(L - 1).at("reverse").at("h"));
            annotation.insert(annotation.end(), back.begin(), back.end());
        }
        CHECK(numbers(step.at("h")) == annotation);
        REQUIRE(trace.at("decoder_init").size() == L);
        const Json& decoder = trace.at("decoder").at(1);
        REQUIRE(decoder.at("layers").size() == L);
        CHECK(numbers(decoder.at("s")) == numbers(decoder.at("layers").at(L - 1).at("s")));
        if (decoder.contains("context")) CHECK(decoder.at("context").size() == H_k);
    }
}

namespace {
// Writes the trace of `config` where the CTest fixture named by STEPGRAD_TRACE_OUT wants it
// (tests/CMakeLists.txt: check_trace.py then recomputes it); run alone, it just writes one.
void write_trace_for_check(const ModelConfig& config) {
    Seq2Seq model(config);
    model.init(9);
    const char* path = std::getenv("STEPGRAD_TRACE_OUT");
    const std::string text = trace_of(model);
    CHECK(parse_json(text).at("model").at("layers").as_int() == config.layers);
    if (path) write_file_atomically(path, text);
}
}  // namespace

TEST_CASE("written for check_trace.py: LSTM luong bidirectional 2 layers") {
    write_trace_for_check(tiny_config(CellKind::lstm, DecoderKind::luong, ScoreKind::concat, true, 2));
}

TEST_CASE("written for check_trace.py: GRU bahdanau forward 3 layers") {
    write_trace_for_check(tiny_config(CellKind::gru, DecoderKind::bahdanau, ScoreKind::qk_scaled, false, 3));
}

// Checkpoints hold the model's config beside its params, as traces do (SPEC §10, §11).
TEST_CASE("checkpoints carry bidirectional and layers, and one written without them is one forward layer") {
    const TaskGenerator task{TaskConfig{"reverse", 3, 5, 6, 4}, 20};
    ModelConfig config = tiny_config(CellKind::lstm, DecoderKind::bahdanau, ScoreKind::general, true, 2);
    config.src_vocab = task.src_vocab().size();
    config.tgt_vocab = task.tgt_vocab().size();
    Seq2Seq model(config);
    model.init(4);
    const std::string path = (std::filesystem::temp_directory_path() / "stepgrad_test_section11.ckpt").string();
    save_checkpoint(path, model, task, 3);
    const Checkpoint checkpoint = read_checkpoint(path);
    CHECK(checkpoint.model.bidirectional);
    CHECK(checkpoint.model.layers == 2);
    const auto loaded = load_model(checkpoint, task);
    CHECK(loaded->parameter("bridge.l2.W").value == model.parameter("bridge.l2.W").value);

    // The same file as a checkpoint written before SPEC §11: no "bidirectional", no "layers".
    config.bidirectional = false;
    config.layers = 1;
    Seq2Seq forward(config);
    forward.init(4);
    save_checkpoint(path, forward, task, 3);
    std::ifstream in(path, std::ios::binary);
    std::string text{std::istreambuf_iterator<char>(in), {}};
    in.close();
    const std::string fields = R"(, "bidirectional": false, "layers": 1)";
    REQUIRE(text.find(fields) != std::string::npos);
    text.erase(text.find(fields), fields.size());
    const std::size_t body = text.find('\n', text.find('\n') + 1) + 1;  // after the format and checksum lines
    std::uint64_t hash = 0xcbf29ce484222325ULL;                           // FNV-1a 64, as the file's checksum
    for (std::size_t i = body; i < text.size(); ++i) hash = (hash ^ static_cast<unsigned char>(text[i])) * 0x100000001b3ULL;
    text.replace(text.find('\n') + 1, body - text.find('\n') - 2, fmt::format("checksum fnv1a64 {:016x}", hash));
    write_file_atomically(path, text);
    const Checkpoint old = read_checkpoint(path);
    CHECK_FALSE(old.model.bidirectional);
    CHECK(old.model.layers == 1);
    CHECK(load_model(old, task)->parameter("encoder.W_ih").value == forward.parameter("encoder.W_ih").value);
    std::filesystem::remove(path);
}

TEST_CASE("encoder trace round trip: the loaded cell writes the very same bytes") {
    for (const CellKind kind : {CellKind::rnn, CellKind::gru, CellKind::lstm}) {
        INFO(cell_kind_name(kind));
        auto write = [&](Cell& cell, Parameter& src_embed) {
            const EncoderRun run = run_encoder(cell, src_embed, example.src);
            return encoder_trace("test", cell, src_embed, src_vocab, run);
        };
        auto cell = make_cell(kind, "encoder", 3, 4);
        Parameter src_embed("src_embed", 7, 3);
        Rng rng(2);
        src_embed.init_uniform(rng, 1.0);
        for (Parameter* p : cell->parameters()) p->init_uniform(rng, 0.5);
        const std::string text = write(*cell, src_embed);
        const Json trace = parse_json(text);
        CHECK(trace.at("loss_definition").as_string() == "sum_last_h");
        CHECK(trace.at("encoder").size() == example.src.size());

        auto fresh = make_cell(kind, "encoder", 3, 4);
        Parameter fresh_embed("src_embed", 7, 3);
        std::vector<Parameter*> parameters = {&fresh_embed};
        for (Parameter* p : fresh->parameters()) parameters.push_back(p);
        load_parameters(trace.at("params"), parameters);
        check_close(fresh_embed.value, src_embed.value, "loaded src_embed", 0);
        CHECK(write(*fresh, fresh_embed) == text);
    }
}

TEST_CASE("our own trace of a golden example reproduces the golden numbers") {
    const Json golden = read_json_file(golden_path("gru-bahdanau-concat"));
    const Json& dims = golden.at("model");
    Seq2Seq model({.cell = CellKind::gru, .decoder = DecoderKind::bahdanau, .score = ScoreKind::concat,
                   .src_vocab = static_cast<int>(golden.at("src_vocab").size()),
                   .tgt_vocab = static_cast<int>(golden.at("tgt_vocab").size()),
                   .embed = dims.at("embed_dim").as_int(), .hidden = dims.at("hidden_dim").as_int(),
                   .attn = dims.at("attn_dim").as_int()});
    load_parameters(golden.at("params"), model.parameters());
    Vocab golden_src, golden_tgt;
    for (const Json& t : golden.at("src_vocab").as_array()) golden_src.tokens.push_back(t.as_string());
    for (const Json& t : golden.at("tgt_vocab").as_array()) golden_tgt.tokens.push_back(t.as_string());
    const TraceRun run = run_traced_example(model, {ids(golden.at("src")), ids(golden.at("tgt"))});
    const Json ours = parse_json(seq2seq_trace("test", model, golden_src, golden_tgt, run));
    CHECK(ours.at("format").as_string() == "stepgrad-trace/1");
    CHECK(ours.at("model").at("score").as_string() == "concat");
    check_close({ours.at("loss").as_number()}, {golden.at("loss").as_number()}, "loss");
    for (const char* key : {"scores", "alpha", "context", "s", "logits"})
        check_close(numbers(ours.at("decoder").at(2).at(key)), numbers(golden.at("decoder").at(2).at(key)), key);
    check_close(read_tensor(ours.at("grads").at("attention.W")).data,
                read_tensor(golden.at("grads").at("attention.W")).data, "grad attention.W");
    CHECK(ours.at("params").at("decoder.b_ih").at("shape").size() == 1);
}

TEST_CASE("run_traced_example zeroes the grads first: twice gives the same grads, not double") {
    Seq2Seq model(configs[2]);
    model.init(3);
    run_traced_example(model, example);
    const std::vector<double> first = model.output_W.grad;
    run_traced_example(model, example);
    check_close(model.output_W.grad, first, "output.W's grad after a second run", 0);
    CHECK(std::any_of(first.begin(), first.end(), [](double g) { return g != 0.0; }));
}

TEST_CASE("a held-out summary goes into the trace as \"eval\", and a batch of two is refused") {
    Seq2Seq model(configs[1]);
    model.init(4);
    const TraceRun run = run_traced_example(model, example);
    EvalSummary eval{"reverse", 40, 0.75, 0.5, {}, {}};
    Json trace = parse_json(seq2seq_trace("test", model, src_vocab, tgt_vocab, run, &eval));
    CHECK_FALSE(trace.at("eval").contains("alignment_accuracy"));  // written only when measured
    eval.alignment_accuracy = 0.25;
    eval.alignment_accuracy_shifted = 0.625;
    trace = parse_json(seq2seq_trace("test", model, src_vocab, tgt_vocab, run, &eval));
    CHECK(trace.at("eval").at("alignment_accuracy").as_number() == 0.25);
    CHECK(trace.at("eval").at("alignment_accuracy_shifted").as_number() == 0.625);
    CHECK(trace.at("eval").at("task").as_string() == "reverse");
    CHECK(trace.at("eval").at("examples").as_int() == 40);
    CHECK(trace.at("eval").at("token_accuracy").as_number() == 0.75);
    CHECK(trace.at("eval").at("sequence_accuracy").as_number() == 0.5);
    CHECK_FALSE(parse_json(trace_of(model)).contains("eval"));

    const std::vector<Example> two{example, example};
    tape().reset();
    const Batch batch = make_batch(two);
    const TraceRun batch_run{batch, model.forward(batch), {}};
    CHECK_THROWS_WITH(seq2seq_trace("test", model, src_vocab, tgt_vocab, batch_run),
                      "seq2seq_trace: a trace holds one example (batch 1)");
}

TEST_CASE("load_parameters: an unknown or missing name is an error naming it") {
    Json params = tiny_params();
    CHECK_NOTHROW(load_into_tiny_model(params));

    Json extra = params;
    extra.set("attention.W_Q", params.at("attention.W"));
    CHECK_THROWS_WITH(load_into_tiny_model(extra), "parameter 'attention.W_Q' does not belong to this model");

    Json missing = params;
    Json::Object& members = missing.as_object();
    members.erase(std::find_if(members.begin(), members.end(), [](const auto& m) { return m.first == "output.b"; }));
    CHECK_THROWS_WITH(load_into_tiny_model(missing), "parameter 'output.b' is missing");
}

TEST_CASE("load_parameters: a wrong shape or a damaged tensor is an error naming the parameter") {
    const Json params = tiny_params();
    Json wrong = params;
    wrong.set("output.W", params.at("attention.W"));  // (2, 6) where the model needs (6, 6)
    CHECK_THROWS_WITH(load_into_tiny_model(wrong), "parameter 'output.W' has shape [2, 6], the model needs [6, 6]");

    // a bias is 1-D: the same numbers as a (1, 9) matrix are refused
    wrong = params;
    wrong.set("decoder.b_ih", parse_json(R"({"shape": [1, 9], "data": [0, 0, 0, 0, 0, 0, 0, 0, 0]})"));
    CHECK_THROWS_WITH(load_into_tiny_model(wrong), doctest::Contains("parameter 'decoder.b_ih' has shape [1, 9]"));

    wrong = params;
    wrong.set("src_embed", parse_json(R"({"shape": [7, 3], "data": [1, 2, 3]})"));
    CHECK_THROWS_WITH_AS(load_into_tiny_model(wrong), "src_embed: data has 3 numbers but the shape needs 21",
                         JsonError);
}
