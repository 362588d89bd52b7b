#include "stepgrad/support/files.hpp"

#include <fmt/format.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

namespace stepgrad {

namespace {

[[noreturn]] void cannot_write(const std::string& path, int error) {
    throw std::runtime_error(fmt::format("cannot write {}: {}", path, std::strerror(error)));
}

// Writes all of `content` to an open descriptor; false (errno set) on any failure.
bool write_all(int fd, std::string_view content) {
    while (!content.empty()) {
        const ssize_t n = ::write(fd, content.data(), content.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        content.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

// A character device (/dev/null, a terminal) or a FIFO is written through: there is
// nothing to replace, and replacing it would destroy it.
void write_through(const std::string& path, std::string_view content) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) cannot_write(path, errno);
    const bool written = write_all(fd, content);
    const int error = errno;
    if (::close(fd) != 0 && written) cannot_write(path, errno);
    if (!written) cannot_write(path, error);
}

// While a finished file is renamed into place, the signals that stop a program wait:
// Ctrl-C, SIGTERM or SIGHUP then arrive after the rename, never between the write and
// the rename (which would leave a temporary file and no target).
class StopSignalsDeferred {
public:
    StopSignalsDeferred() {
        sigset_t stop;
        sigemptyset(&stop);
        for (const int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT}) sigaddset(&stop, s);
        pthread_sigmask(SIG_BLOCK, &stop, &previous_);
    }
    ~StopSignalsDeferred() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }
    StopSignalsDeferred(const StopSignalsDeferred&) = delete;
    StopSignalsDeferred& operator=(const StopSignalsDeferred&) = delete;

private:
    sigset_t previous_;
};

// A temporary name in the target's folder, short whatever the target's name is (a legal
// 255-byte name plus a suffix would not be).
std::string temporary_name(const std::filesystem::path& target, int attempt) {
    static std::atomic<unsigned> counter{0};
    const std::string name = fmt::format(".stepgrad-{}-{}-{}.tmp", ::getpid(), counter++, attempt);
    return (target.parent_path() / name).string();
}

// The file a write to `path` must replace: `path` itself, or the file its chain of
// symbolic links ends at (created if the last link dangles), so a link stays a link.
// A link that resolves to no path (/dev/stdout → pipe:[…]) is written through as is.
std::filesystem::path resolve_target(const std::string& path) {
    std::filesystem::path target = path;
    std::error_code error;
    for (int hop = 0; hop < 40 && std::filesystem::is_symlink(target, error); ++hop) {
        const std::filesystem::path next = std::filesystem::read_symlink(target, error);
        if (error) break;
        const std::filesystem::path resolved = next.is_absolute() ? next : target.parent_path() / next;
        struct stat info {};
        if (::lstat(resolved.c_str(), &info) != 0 && ::stat(path.c_str(), &info) == 0) return path;
        target = resolved;
    }
    return target;
}

}  // namespace

void write_file_atomically(const std::string& path, std::string_view content) {
    if (path.empty()) throw std::runtime_error("cannot write a file with an empty name");
    const std::filesystem::path target = resolve_target(path);
    struct stat existing {};
    const bool exists = ::stat(target.c_str(), &existing) == 0;
    if (exists && (S_ISCHR(existing.st_mode) || S_ISFIFO(existing.st_mode))) return write_through(target.string(), content);
    if (exists && S_ISDIR(existing.st_mode))
        throw std::runtime_error(fmt::format("cannot write {}: it is a folder, not a file", path));
    if (exists && !S_ISREG(existing.st_mode))
        throw std::runtime_error(fmt::format("cannot write {}: it is not a regular file (a socket or a block device)", path));
    // a replaced file keeps its permissions; a new one gets 0666 less the umask, as fopen
    const mode_t mode = exists ? (existing.st_mode & 07777) : 0666;

    const StopSignalsDeferred deferred;
    std::string temporary;
    int fd = -1;
    for (int attempt = 0; fd < 0 && attempt < 100; ++attempt) {
        temporary = temporary_name(target, attempt);
        fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (fd < 0 && errno != EEXIST) cannot_write(path, errno);
    }
    if (fd < 0) cannot_write(path, EEXIST);
    if (exists) ::fchmod(fd, mode);  // the umask must not narrow an existing file's mode
    const bool written = write_all(fd, content) && ::fsync(fd) == 0;
    int saved_errno = errno;
    const bool closed = ::close(fd) == 0;
    if (written && !closed) saved_errno = errno;
    if (!written || !closed || std::rename(temporary.c_str(), target.c_str()) != 0) {
        const int reason = written && closed ? errno : saved_errno;
        ::unlink(temporary.c_str());
        cannot_write(path, reason);
    }
}

void check_can_write(const std::string& path) {
    if (path.empty()) throw std::runtime_error("cannot write a file with an empty name");
    const std::filesystem::path target = resolve_target(path);
    struct stat existing {};
    if (::stat(target.c_str(), &existing) == 0) {
        if (S_ISDIR(existing.st_mode)) throw std::runtime_error(fmt::format("{} is a folder, not a file", path));
        if (S_ISFIFO(existing.st_mode)) return;  // opening it to try would wait for a reader
        if (S_ISCHR(existing.st_mode)) {
            if (::access(target.c_str(), W_OK) != 0) cannot_write(path, errno);
            return;
        }
        if (!S_ISREG(existing.st_mode))
            throw std::runtime_error(fmt::format("cannot write {}: it is not a regular file (a socket or a block device)", path));
    }
    // The write creates a temporary file beside the target: try exactly that.
    const std::string probe = temporary_name(target, 0);
    const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) cannot_write(path, errno);
    ::close(fd);
    ::unlink(probe.c_str());
}

bool same_file(const std::string& a, const std::string& b) {
    if (a.empty() || b.empty()) return false;
    std::error_code error;
    if (std::filesystem::exists(a, error) && std::filesystem::exists(b, error))
        return std::filesystem::equivalent(a, b, error);
    // not both there yet: compare the absolute, normalised spellings (`x` is `./x`)
    auto spelled = [&](const std::string& path) {
        return std::filesystem::weakly_canonical(std::filesystem::absolute(path, error), error);
    };
    return spelled(a) == spelled(b);
}

void check_stdout() {
    if (std::fflush(stdout) == 0 && !std::ferror(stdout)) return;
    const int error = errno;
    std::clearerr(stdout);
    throw std::runtime_error(fmt::format("cannot write to stdout: {}", error ? std::strerror(error) : "write error"));
}

}  // namespace stepgrad
