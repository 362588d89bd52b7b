#pragma once
// The files a program's flags name, checked together when the command line is read
// (a Cli check): outputs that name one file, overwrite an input or cannot be written are
// refused at once, with one line and exit code 2, before a long run.
#include <initializer_list>
#include <string>
#include <string_view>

#include "stepgrad/support/cli.hpp"

namespace stepgrad {

// A file a flag names: an output the program writes, or an input it reads.
struct FileFlag {
    std::string_view flag;
    const std::string& path;
};
// For a Cli check, over the flags the command line gave: throws UsageError when two
// outputs name one file (compared as files: `./a` is `a`), when an output would
// overwrite an input, or when an output cannot be written (checked before a long run,
// so it does not end in "cannot write").
void check_output_files(const Cli& cli, std::initializer_list<FileFlag> outputs,
                        std::initializer_list<FileFlag> inputs = {});

}  // namespace stepgrad
