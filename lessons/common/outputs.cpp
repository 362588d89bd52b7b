// Checking the files a program's flags name (see outputs.hpp).
#include "common/outputs.hpp"

#include <stdexcept>

#include "stepgrad/support/files.hpp"

namespace stepgrad {

void check_output_files(const Cli& cli, std::initializer_list<FileFlag> outputs, std::initializer_list<FileFlag> inputs) {
    for (auto a = outputs.begin(); a != outputs.end(); ++a) {
        if (!cli.given(a->flag)) continue;
        for (auto b = a + 1; b != outputs.end(); ++b)
            if (cli.given(b->flag) && same_file(a->path, b->path))
                throw UsageError(fmt::format("{} and {} name the same file, {}", a->flag, b->flag, a->path));
        for (const FileFlag& input : inputs)
            if (cli.given(input.flag) && same_file(a->path, input.path))
                throw UsageError(fmt::format("{} {} would overwrite the checkpoint {} reads", a->flag, a->path, input.flag));
        try {
            check_can_write(a->path);
        } catch (const std::runtime_error& e) {
            throw UsageError(fmt::format("{}: {}", a->flag, e.what()));
        }
    }
}

}  // namespace stepgrad
