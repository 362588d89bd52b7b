// Hardening II (issue 13), the library's side: outputs that are not regular files are
// never replaced, temporary names stay short, checkpoints that are not regular files or
// hold absurd numbers are refused, and user text in messages is escaped and valid UTF-8.
// Each case failed before its fix.
#include <doctest/doctest.h>
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <string>

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "stepgrad/seq2seq.hpp"
#include "stepgrad/support/checkpoint.hpp"
#include "stepgrad/support/files.hpp"
#include "stepgrad/support/text.hpp"
#include "stepgrad/tasks.hpp"

using namespace stepgrad;
namespace fs = std::filesystem;

namespace {

// A fresh, empty folder for one test case.
fs::path scratch(const std::string& name) {
    const fs::path folder = fs::temp_directory_path() / fmt::format("stepgrad_hardening_{}_{}", ::getpid(), name);
    fs::remove_all(folder);
    fs::create_directories(folder);
    return folder;
}

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// Every entry of a folder but `keep`: what a write left behind.
std::vector<std::string> leftovers(const fs::path& folder, const std::vector<std::string>& keep) {
    std::vector<std::string> extra;
    for (const auto& entry : fs::directory_iterator(folder))
        if (std::find(keep.begin(), keep.end(), entry.path().filename().string()) == keep.end())
            extra.push_back(entry.path().filename().string());
    return extra;
}

bool is_character_device(const fs::path& path) {
    struct stat info {};
    return ::lstat(path.c_str(), &info) == 0 && S_ISCHR(info.st_mode);
}

// A copy of /dev/null or /dev/full in `folder` (root only, as in a container): the real
// nodes are never put at risk by a test.
bool make_device(const fs::path& path, unsigned minor) {
    return ::mknod(path.c_str(), S_IFCHR | 0666, makedev(1, minor)) == 0;
}

}  // namespace

TEST_CASE("--json to a character device writes through it and leaves the node in place (case 1)") {
    const fs::path folder = scratch("device");
    const fs::path null_copy = folder / "null", full_copy = folder / "full";
    if (!make_device(null_copy, 3) || !make_device(full_copy, 7)) {
        MESSAGE("not root: device nodes cannot be made here; the FIFO case covers writing through");
        return;
    }
    write_file_atomically(null_copy.string(), "{}\n");
    CHECK(is_character_device(null_copy));
    // /dev/full: the write fails as a full disk does, and the error says so
    CHECK_THROWS_WITH(write_file_atomically(full_copy.string(), "{}\n"), doctest::Contains("No space left on device"));
    CHECK(is_character_device(full_copy));
    CHECK(leftovers(folder, {"null", "full"}).empty());
    fs::remove_all(folder);
}

TEST_CASE("a FIFO is written through, not replaced by a regular file (case 1)") {
    const fs::path folder = scratch("fifo");
    const fs::path fifo = folder / "pipe";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    auto reader = std::async(std::launch::async, [&] { return read_text(fifo); });
    write_file_atomically(fifo.string(), "through the pipe\n");
    CHECK(reader.get() == "through the pipe\n");
    CHECK(fs::is_fifo(fs::symlink_status(fifo)));
    fs::remove_all(folder);
}

TEST_CASE("a symbolic link keeps pointing at the file, which gets the new content (case 1)") {
    const fs::path folder = scratch("symlink");
    { std::ofstream(folder / "real.json") << "old"; }
    fs::create_symlink("real.json", folder / "link.json");
    write_file_atomically((folder / "link.json").string(), "new");
    CHECK(fs::is_symlink(fs::symlink_status(folder / "link.json")));
    CHECK(read_text(folder / "real.json") == "new");
    CHECK(leftovers(folder, {"real.json", "link.json"}).empty());
    fs::remove_all(folder);
}

TEST_CASE("a folder is refused by name, and an empty path is an error (cases 1 and 5)") {
    const fs::path folder = scratch("folder");
    CHECK_THROWS_WITH(write_file_atomically(folder.string(), "x"), doctest::Contains("is a folder"));
    CHECK_THROWS_WITH(write_file_atomically("", "x"), doctest::Contains("empty name"));
    fs::remove_all(folder);
}

TEST_CASE("a legal 255-byte file name can be written: the temporary name stays short (case 13)") {
    const fs::path folder = scratch("long_name");
    const std::string name(255, 'n');
    write_file_atomically((folder / name).string(), "fits");
    CHECK(read_text(folder / name) == "fits");
    CHECK(leftovers(folder, {name}).empty());
    fs::remove_all(folder);
}

TEST_CASE("replacing a file keeps its permissions") {
    const fs::path folder = scratch("mode");
    const fs::path path = folder / "shared.json";
    { std::ofstream(path) << "old"; }
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
    write_file_atomically(path.string(), "new");
    CHECK((fs::status(path).permissions() & fs::perms::others_read) == fs::perms::others_read);
    fs::remove_all(folder);
}

namespace {

struct SavedModel {
    TaskConfig config{"reverse", 3, 5, 10, 1};
    TaskGenerator task{config, 10};
    Seq2Seq model{[&] {
        ModelConfig c;
        c.src_vocab = task.src_vocab().size();
        c.tgt_vocab = task.tgt_vocab().size();
        c.embed = c.hidden = c.attn = 4;
        return c;
    }()};
};

}  // namespace

TEST_CASE("a checkpoint with a valid checksum and absurd numbers is refused, naming the parameter (case 7)") {
    const fs::path folder = scratch("absurd");
    SavedModel saved;
    saved.model.init(1);
    for (Parameter* p : saved.model.parameters())
        if (p->name() == "decoder.W_hh") std::fill(p->value.begin(), p->value.end(), 1e200);
    const std::string path = (folder / "absurd.ckpt").string();
    save_checkpoint(path, saved.model, saved.task, 1);
    CHECK_THROWS_WITH_AS(read_checkpoint(path), doctest::Contains("parameter 'decoder.W_hh' holds 1e+200"), CheckpointError);
    fs::remove_all(folder);
}

TEST_CASE("--load of a FIFO or a device is refused at once, never read forever (case 10)") {
    const fs::path folder = scratch("load_fifo");
    const fs::path fifo = folder / "model.ckpt";
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    // Before the fix this call blocked forever: nobody writes to the FIFO.
    CHECK_THROWS_WITH_AS(read_checkpoint(fifo.string()), doctest::Contains("not a regular file"), CheckpointError);
    CHECK_THROWS_WITH_AS(read_checkpoint("/dev/zero"), doctest::Contains("not a regular file"), CheckpointError);
    fs::remove_all(folder);
}

TEST_CASE("a large file that is not a checkpoint is refused by its first line") {
    const fs::path folder = scratch("not_checkpoint");
    const fs::path path = folder / "big.bin";
    { std::ofstream(path) << std::string(1 << 20, 'x'); }
    CHECK_THROWS_WITH_AS(read_checkpoint(path.string()), doctest::Contains("is not a stepgrad checkpoint"), CheckpointError);
    fs::remove_all(folder);
}

TEST_CASE("control and invisible characters are escaped in messages (case 11)") {
    CHECK(escaped("gru\nfake: all good") == "gru\\x0afake: all good");
    CHECK(escaped("\x1b[2J") == "\\x1b[2J");
    CHECK(escaped("a\u200bb") == "a\\u{200b}b");      // zero-width space
    CHECK(escaped("\u202Eevil") == "\\u{202e}evil");  // right-to-left override
    CHECK(escaped("no\u00a0break") == "no\\u{00a0}break");
    CHECK(escaped("我爱中国 é") == "我爱中国 é");      // visible text is left alone
    CHECK(quoted("say \"hi\"\\") == "\"say \\\"hi\\\"\\\\\"");
}

TEST_CASE("ill-formed UTF-8 is not read as characters, and its escape is valid UTF-8 (case 12)") {
    const std::string surrogate = "\xed\xa0\x80", overlong = "\xc0\xaf", overlong3 = "\xe0\x80\xaf",
                      too_high = "\xf4\x90\x80\x80", cut = "\xe4\xb8";
    for (const std::string& bad : {surrogate, overlong, overlong3, too_high, cut}) {
        CAPTURE(escaped(bad));
        CHECK_FALSE(is_valid_utf8(bad));
        CHECK(utf8_chars(bad).size() == bad.size());  // one stray byte each
        CHECK(is_valid_utf8(escaped(bad)));
        CHECK(escaped(bad).find('\\') != std::string::npos);
    }
    CHECK(is_valid_utf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF itself is fine
    CHECK(utf8_chars("中国").size() == 2);
    // An unknown-token error about such text is valid UTF-8 and names the bytes.
    const Vocab vocab("test", Vocab::Level::character, {"a", "b"});
    try {
        vocab.encode("a" + surrogate);
        FAIL("expected an unknown token");
    } catch (const UnknownToken& e) {
        CHECK(is_valid_utf8(e.what()));
        CHECK(std::string(e.what()).find("\\xed") != std::string::npos);
    }
}

TEST_CASE("two spellings of one file are one file, whether it exists yet or not (case 6)") {
    const fs::path folder = scratch("same_file");
    const std::string plain = (folder / "r.out").string(), dotted = (folder / "." / "r.out").string();
    CHECK(same_file(plain, dotted));  // neither exists yet
    { std::ofstream(plain) << "x"; }
    CHECK(same_file(plain, dotted));
    CHECK_FALSE(same_file(plain, (folder / "other.out").string()));
    const fs::path here = fs::current_path();
    fs::current_path(folder);
    CHECK(same_file("new.out", "./new.out"));  // relative, and not there
    fs::current_path(here);
    fs::remove_all(folder);
}
