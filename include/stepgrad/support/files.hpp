#pragma once
// Files the programs write: never half-written, never two outputs in one file.
#include <string>
#include <string_view>

namespace stepgrad {

// Writes `content` to `path` through a temporary file in the same folder, flushed and
// renamed over the target: a crash, a full disk or a Ctrl-C never leaves a half-written
// file nor a temporary one. A character device or FIFO (/dev/null, /dev/stdout, a pipe)
// is written through instead, a symbolic link keeps pointing at the file it names, and
// a folder, socket or block device is refused: nothing that is not a regular file is
// ever replaced. Throws std::runtime_error naming the path and the reason.
void write_file_atomically(const std::string& path, std::string_view content);

// Throws std::runtime_error ("cannot write P: reason", "P is a folder, not a file")
// unless write_file_atomically(path, …) can succeed now: checked before a long run, so
// it does not end in "cannot write". Creates nothing that stays.
void check_can_write(const std::string& path);

// Whether two paths name one file (`./a` and `a`, or two links to it), existing or not.
bool same_file(const std::string& a, const std::string& b);

// Flushes stdout and throws std::runtime_error ("cannot write to stdout: …") if anything
// written to it was lost (a full disk, a closed pipe): a program must not report
// success for output nobody received.
void check_stdout();

}  // namespace stepgrad
