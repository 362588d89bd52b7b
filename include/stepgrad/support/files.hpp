#pragma once
// Files the programs write: never half-written, never two outputs in one file.
#include <string>
#include <string_view>

namespace stepgrad {

// Writes `content` to `path` through a temporary file in the same folder, flushed and
// renamed over the target: a crash or a full disk never leaves a half-written file.
void write_file_atomically(const std::string& path, std::string_view content);

// Whether two paths name one file (`./a` and `a`, or two links to it), existing or not.
bool same_file(const std::string& a, const std::string& b);

}  // namespace stepgrad
