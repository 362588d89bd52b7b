// libFuzzer target for the checkpoint loader (issue 8): what `--load PATH` does with a
// file. Any bytes must either give a model or throw CheckpointError (or TaskError, when
// the task a checkpoint names cannot make its held-out set); anything else — another
// exception, a crash, a sanitizer report, a huge allocation — is a bug.
//
// An input that starts with the format line is the whole file. Any other input is taken
// as the body, and the header with its correct checksum is put in front of it, so the
// fuzzer gets past the checksum and reaches the JSON and the model behind it (a random
// change to a whole file almost never keeps the checksum right).
//
//   corpus/checkpoint/tiny.ckpt        a real checkpoint of a tiny model (E = H = A = 2)
//   corpus/checkpoint/tiny_body.json   its body alone
//
// Built and run by tests/fuzz/CMakeLists.txt (the asan preset turns it on).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "stepgrad/support/checkpoint.hpp"
#include "stepgrad/train.hpp"

namespace {

std::string scratch;  // one temporary file, rewritten for every input, removed at exit

void remove_scratch() { std::remove(scratch.c_str()); }

const std::string& scratch_path() {
    if (scratch.empty()) {
        std::string pattern = "/tmp/stepgrad_fuzz_checkpoint_XXXXXX";
        const int fd = ::mkstemp(pattern.data());
        if (fd < 0) std::abort();
        ::close(fd);
        scratch = pattern;
        std::atexit(remove_scratch);
    }
    return scratch;
}

void write_all(const std::string& path, std::string_view bytes) {
    std::FILE* file = std::fopen(path.c_str(), "wb");
    if (!file) std::abort();
    if (std::fwrite(bytes.data(), 1, bytes.size(), file) != bytes.size()) std::abort();
    std::fclose(file);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace stepgrad;
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    std::string file;
    if (input.starts_with(checkpoint_format))
        file = std::string(input);
    else
        file = fmt::format("{}\nchecksum fnv1a64 {:016x}\n{}", checkpoint_format, fnv1a64(input), input);
    write_all(scratch_path(), file);

    std::unique_ptr<TaskGenerator> task;
    std::unique_ptr<Seq2Seq> model;
    try {
        const Checkpoint checkpoint = read_checkpoint(scratch_path());
        task = std::make_unique<TaskGenerator>(checkpoint.task, 2);
        model = load_model(checkpoint, *task);
    } catch (const CheckpointError&) {
        return 0;
    } catch (const TaskError&) {
        return 0;
    }
    // What a lesson does next with a loaded model: one example through it, and greedy
    // decoding. Small models only, so the fuzzer keeps its pace.
    const ModelConfig& c = model->config();
    if (c.embed <= 16 && c.hidden <= 16 && c.attn <= 16 && task->config().max_len <= 40) {
        const Example& example = task->held_out().front();
        tape().reset();
        model->forward(make_batch(std::span<const Example>(&example, 1)));
        tape().reset();
        model->greedy_decode(make_batch(std::span<const Example>(&example, 1)), 8);
        tape().reset();
    }
    return 0;
}
