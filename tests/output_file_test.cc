// tests/output_file_test.cc — the files the tools write under a name the user gives (bench/output_file.h): written
// whole or not at all. A write that fails part way (here every write fails: RLIMIT_FSIZE of 0, which the kernel
// enforces as it would a full disk, with SIGXFSZ ignored) leaves the file that was there as it was and no temporary
// behind, under every name of it (the path, a symbolic link, a hard link); a finished one replaces it with the old
// mode; devices are written in place, and a descriptor's name (/dev/stdout, /dev/fd/N) through the descriptor, at its
// offset; names that cannot be written are refused up front, leaving nothing.
#include "bench/output_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nostd::bench {
namespace {

/// A fresh empty directory for one test.
std::string fresh_dir(const char* name) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string dir = std::string(tmp != nullptr ? tmp : "/tmp") + "/" + name;
  const std::string rm = "rm -rf '" + dir + "'";
  EXPECT_EQ(std::system(rm.c_str()), 0);
  EXPECT_EQ(::mkdir(dir.c_str(), 0755), 0);
  return dir;
}

/// The whole contents of `path` ("<none>" when it cannot be opened).
std::string contents(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return "<none>";
  std::string text;
  for (int c = std::fgetc(f); c != EOF; c = std::fgetc(f)) text.push_back(static_cast<char>(c));
  std::fclose(f);
  return text;
}

/// Writes `text` to `path` the plain way (the files the tests start from).
void put(const std::string& path, std::string_view text) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  ASSERT_NE(f, nullptr) << path;
  std::fwrite(text.data(), 1, text.size(), f);
  ASSERT_EQ(std::fclose(f), 0);
}

/// Creates an empty file at `path` and opens it for writing, as a shell's `> path` would for a tool's standard
/// output: the descriptor (-1 after a test failure) and, in `*status`, the file's stat (its inode, which a write
/// through the descriptor must keep).
int open_empty_file(const std::string& path, struct stat* status) {
  put(path, "");
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  EXPECT_GE(fd, 0) << path;
  EXPECT_EQ(::stat(path.c_str(), status), 0) << path;
  return fd;
}

/// The names in `dir`, but . and .., sorted and joined by spaces (a temporary left behind shows here).
std::string listing(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return "<none>";
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (name != "." && name != "..") names.emplace_back(name);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  std::string joined;
  for (const std::string& name : names) joined += (joined.empty() ? "" : " ") + name;
  return joined;
}

std::span<const std::byte> bytes_of(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

/// write_output of `text` to `path` while no file may grow: every write fails with EFBIG, as on a full disk.
std::expected<void, std::string> write_with_no_room(const std::string& path, std::string_view text) {
  rlimit old{};
  EXPECT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  const rlimit none{0, old.rlim_max};
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  EXPECT_EQ(::setrlimit(RLIMIT_FSIZE, &none), 0);
  std::expected<void, std::string> r = write_output(path, bytes_of(text));
  EXPECT_EQ(::setrlimit(RLIMIT_FSIZE, &old), 0);
  std::signal(SIGXFSZ, old_handler);
  return r;
}

TEST(OutputFile, AFailedWriteLeavesTheFileUnderEveryNameAndNoTemporary) {
  const std::string dir = fresh_dir("failed_write");
  const std::string path = dir + "/t.trace";
  put(path, "the only copy\n");
  ASSERT_EQ(::symlink("t.trace", (dir + "/link.trace").c_str()), 0);
  ASSERT_EQ(::link(path.c_str(), (dir + "/hard.trace").c_str()), 0);
  for (const std::string& name : {path, dir + "/./t.trace", dir + "/link.trace", dir + "/hard.trace"}) {
    SCOPED_TRACE(name);
    const std::expected<void, std::string> r = write_with_no_room(name, std::string(100000, 'x'));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), "File too large (the file there is left as it was)");
    EXPECT_EQ(contents(path), "the only copy\n");
    EXPECT_EQ(contents(dir + "/hard.trace"), "the only copy\n");
    EXPECT_EQ(listing(dir), "hard.trace link.trace t.trace") << "a temporary was left behind";
  }
  // A file that was not there is not created.
  const std::expected<void, std::string> r = write_with_no_room(dir + "/new.trace", "x");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), "File too large");
  EXPECT_EQ(listing(dir), "hard.trace link.trace t.trace");
}

TEST(OutputFile, AWriteReplacesTheTargetOfANameAndKeepsItsMode) {
  const std::string dir = fresh_dir("replace");
  const std::string path = dir + "/t.trace";
  put(path, "old\n");
  ASSERT_EQ(::chmod(path.c_str(), 0640), 0);
  ASSERT_TRUE(write_output(path, bytes_of("new\n")));
  EXPECT_EQ(contents(path), "new\n");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  // Through a symbolic link: the file it names gets the contents, and the link stays a link.
  ASSERT_EQ(::symlink("t.trace", (dir + "/link.trace").c_str()), 0);
  ASSERT_TRUE(write_output(dir + "/link.trace", bytes_of("through the link\n")));
  EXPECT_EQ(contents(path), "through the link\n");
  ASSERT_EQ(::lstat((dir + "/link.trace").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  // A dangling link: the file is created where it points, as open(2) would.
  ASSERT_EQ(::symlink("made.trace", (dir + "/dangling.trace").c_str()), 0);
  ASSERT_TRUE(write_output(dir + "/dangling.trace", bytes_of("made\n")));
  EXPECT_EQ(contents(dir + "/made.trace"), "made\n");
  // A hard link is a name of its own: only that name gets the new file.
  ASSERT_EQ(::link(path.c_str(), (dir + "/hard.trace").c_str()), 0);
  ASSERT_TRUE(write_output(dir + "/hard.trace", bytes_of("hard\n")));
  EXPECT_EQ(contents(dir + "/hard.trace"), "hard\n");
  EXPECT_EQ(contents(path), "through the link\n");
  // A new file gets 0666 less the umask, as open(2) would give it.
  const mode_t mask = ::umask(022);
  ASSERT_TRUE(write_output(dir + "/fresh.trace", bytes_of("fresh\n")));
  ::umask(mask);
  ASSERT_EQ(::stat((dir + "/fresh.trace").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  EXPECT_EQ(listing(dir), "dangling.trace fresh.trace hard.trace link.trace made.trace t.trace");
  // A name of 255 bytes: the temporary's name is cut to fit.
  const std::string longest = dir + "/" + std::string(255, 'n');
  ASSERT_TRUE(write_output(longest, bytes_of("long\n"))) << write_output(longest, bytes_of("long\n")).error();
  EXPECT_EQ(contents(longest), "long\n");
}

TEST(OutputFile, AnUncommittedFileLeavesTheNameAsItWas) {
  const std::string dir = fresh_dir("abandoned");
  const std::string path = dir + "/data.dat";
  put(path, "earlier run\n");
  {
    std::expected<OutputFile, std::string> f = OutputFile::open(path);
    ASSERT_TRUE(f) << f.error();
    std::fputs("half of a new run", f->stream());
  }
  EXPECT_EQ(contents(path), "earlier run\n");
  EXPECT_EQ(listing(dir), "data.dat");
}

TEST(OutputFile, ACommittedFileForgetsItsTemporary) {
  const std::string dir = fresh_dir("committed");
  const std::string path = dir + "/x.dat";
  std::string temporary;
  {
    std::expected<OutputFile, std::string> f = OutputFile::open(path);
    ASSERT_TRUE(f) << f.error();
    temporary = f->writing_path();
    EXPECT_NE(temporary, path);
    std::fputs("new\n", f->stream());
    ASSERT_TRUE(f->commit());
    EXPECT_EQ(f->writing_path(), path);
    // Another file takes the temporary's old name: destroying the committed file must not remove it.
    put(temporary, "someone else's\n");
  }
  EXPECT_EQ(contents(path), "new\n");
  EXPECT_EQ(contents(temporary), "someone else's\n");
}

// The real devices: the tests run as root, where a write_output that took them for regular files would rename its
// temporary over /dev/null and /dev/full for the whole machine (a mutation did). So the target is checked first, and
// the test stops before writing when either is not taken as written in place; and both are devices still after.
TEST(OutputFile, DevicesAreWrittenInPlace) {
  for (const char* device : {"/dev/null", "/dev/full"}) {
    const std::expected<internal::OutputTarget, std::string> target = internal::output_target(device);
    ASSERT_TRUE(target) << device << ": " << target.error();
    ASSERT_TRUE(target->in_place) << device << " would be replaced, not written in place";
  }
  EXPECT_TRUE(write_output("/dev/null", bytes_of("gone\n")));
  const std::expected<void, std::string> full = write_output("/dev/full", bytes_of("no room\n"));
  ASSERT_FALSE(full);
  EXPECT_EQ(full.error(), "No space left on device");
  for (const char* device : {"/dev/null", "/dev/full"}) {
    struct stat st {};
    ASSERT_EQ(::stat(device, &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode)) << device << " is no longer a device";
  }
}

TEST(OutputFile, ADescriptorsNameIsWrittenThroughTheDescriptorAtItsOffset) {
  const std::string dir = fresh_dir("descriptor");
  const std::string path = dir + "/out.txt";
  struct stat before {};
  const int fd = open_empty_file(path, &before);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "display\n", 8), 8);  // the tool's own output, before the file's
  // As `tool --plot_data=/dev/fd/N > out.txt`: the file's bytes follow it, and the descriptor goes on after them.
  for (const std::string& name : {"/dev/fd/" + std::to_string(fd), "/proc/self/fd/" + std::to_string(fd)}) {
    EXPECT_EQ(output_problem(name), std::nullopt) << name;
    ASSERT_TRUE(write_output(name, bytes_of("file\n"))) << name;
  }
  ASSERT_EQ(::write(fd, "more\n", 5), 5);
  EXPECT_EQ(contents(path), "display\nfile\nfile\nmore\n");
  struct stat after {};
  ASSERT_EQ(::stat(path.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino) << "the file behind the descriptor was replaced";
  EXPECT_EQ(listing(dir), "out.txt");
  // /dev/stdout is descriptor 1: standard output redirected to the file, the process's buffered output first.
  const int saved = ::dup(1);
  ASSERT_GE(saved, 0);
  std::fflush(stdout);
  ASSERT_EQ(::dup2(fd, 1), 1);
  std::fputs("buffered\n", stdout);
  const std::expected<void, std::string> out = write_output("/dev/stdout", bytes_of("stdout\n"));
  std::fflush(stdout);
  ASSERT_EQ(::dup2(saved, 1), 1);
  ::close(saved);
  ASSERT_TRUE(out) << out.error();
  EXPECT_EQ(contents(path), "display\nfile\nfile\nmore\nbuffered\nstdout\n");
  ASSERT_EQ(::stat(path.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino) << "the file behind standard output was replaced";
  // A descriptor open for reading only, or not open, is refused up front and when written.
  const int reading = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(reading, 0);
  EXPECT_EQ(output_problem("/dev/fd/" + std::to_string(reading)), "Bad file descriptor");
  ::close(reading);
  ::close(fd);
  EXPECT_EQ(output_problem("/dev/fd/" + std::to_string(fd)), "Bad file descriptor");
  const std::expected<void, std::string> closed = write_output("/proc/self/fd/" + std::to_string(fd), bytes_of("x"));
  ASSERT_FALSE(closed);
  EXPECT_EQ(closed.error(), "Bad file descriptor");
  EXPECT_EQ(contents(path), "display\nfile\nfile\nmore\nbuffered\nstdout\n");
  // A descriptor on /dev/full: the write's failure is reported, with nothing said of a file kept.
  const int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(full, 0);
  const std::expected<void, std::string> no_room = write_output("/dev/fd/" + std::to_string(full), bytes_of("x\n"));
  ::close(full);
  ASSERT_FALSE(no_room);
  EXPECT_EQ(no_room.error(), "No space left on device");
  // Names that only look like a descriptor's are names of files.
  for (const char* name : {"/dev/fd/", "/dev/fd/1x", "/dev/fd/-1", "/dev/fd/+7", "/dev/fd/7/", "/dev/stdoutx",
                           "/proc/self/fd/1234567890"}) {
    EXPECT_EQ(internal::named_descriptor(name), -1) << name;
  }
  EXPECT_EQ(internal::named_descriptor("/dev/stderr"), 2);
  EXPECT_EQ(internal::named_descriptor("/dev/fd/0"), 0);
}

TEST(OutputFile, ADescriptorsNumberWithALeadingZeroNamesNothing) {
  // procfs reads /proc/self/fd/007 (and a PID of 0007) as no number at all: opening it fails with ENOENT. Such a
  // name had been taken for descriptor 7 and written through it; it is refused as the kernel refuses it.
  const std::string dir = fresh_dir("leading_zero");
  const std::string path = dir + "/out.txt";
  struct stat before {};
  const int fd = open_empty_file(path, &before);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::write(fd, "display\n", 8), 8);
  const std::string n = "0" + std::to_string(fd);
  ASSERT_EQ(::symlink(("/dev/fd/" + n).c_str(), (dir + "/to_fd").c_str()), 0);
  for (const std::string& name : {"/dev/fd/" + n, "/proc/self/fd/" + n, "/dev/./fd/" + n, "/proc/thread-self/fd/" + n,
                                  "/proc/" + std::to_string(::getpid()) + "/fd/" + n,
                                  "/proc/0" + std::to_string(::getpid()) + "/fd/" + n.substr(1), dir + "/to_fd"}) {
    ASSERT_EQ(::open(name.c_str(), O_WRONLY | O_CLOEXEC), -1) << name << ": the kernel opened it";
    EXPECT_EQ(internal::descriptor_behind(name), -1) << name;
    EXPECT_EQ(output_problem(name), "No such file or directory") << name;
    const std::expected<void, std::string> written = write_output(name, bytes_of("file\n"));
    ASSERT_FALSE(written) << name;
    EXPECT_EQ(written.error(), "No such file or directory") << name;
  }
  ::close(fd);
  EXPECT_EQ(contents(path), "display\n");
  EXPECT_EQ(listing(dir), "out.txt to_fd");
}

TEST(OutputFile, ANameLeadingToADescriptorByLinksIsWrittenThroughTheDescriptor) {
  // A descriptor's name spelt otherwise, or reached through symbolic links (`ln -s /dev/stdout out`), leads to the
  // file behind the descriptor as surely as /dev/stdout does: that file had been replaced by rename, and what the
  // process wrote through the descriptor went to the file unlinked.
  const std::string dir = fresh_dir("descriptor_links");
  const std::string path = dir + "/out.txt";
  struct stat before {};
  const int fd = open_empty_file(path, &before);
  ASSERT_GE(fd, 0);
  const std::string n = std::to_string(fd);
  ASSERT_EQ(::symlink(("/dev/fd/" + n).c_str(), (dir + "/to_fd").c_str()), 0);
  ASSERT_EQ(::symlink("to_fd", (dir + "/to_link").c_str()), 0);  // relative, and a link to a link
  ASSERT_EQ(::symlink("/dev/fd", (dir + "/fds").c_str()), 0);    // a link to the directory
  std::string expected;
  for (const std::string& name : {dir + "/to_fd", dir + "/to_link", dir + "/fds/" + n, "/dev/./fd/" + n,
                                  "/proc/thread-self/fd/" + n, "/proc/" + std::to_string(::getpid()) + "/fd/" + n}) {
    ASSERT_EQ(::write(fd, "display\n", 8), 8);
    EXPECT_EQ(output_problem(name), std::nullopt) << name;
    const std::expected<void, std::string> written = write_output(name, bytes_of(name + "\n"));
    ASSERT_TRUE(written) << name << ": " << written.error();
    expected += "display\n" + name + "\n";
    EXPECT_EQ(contents(path), expected) << name;
    struct stat after {};
    ASSERT_EQ(::stat(path.c_str(), &after), 0);
    EXPECT_EQ(after.st_ino, before.st_ino) << name << ": the file behind the descriptor was replaced";
  }
  ::close(fd);
  // Closed, the descriptor is refused through the link as by its name (it had been "No such file or directory").
  EXPECT_EQ(output_problem(dir + "/to_link"), "Bad file descriptor");
  EXPECT_EQ(contents(path), expected);
  EXPECT_EQ(listing(dir), "fds out.txt to_fd to_link");
}

TEST(OutputFile, NamesThatCannotBeWrittenAreRefusedLeavingNothing) {
  const std::string dir = fresh_dir("refused");
  const std::expected<void, std::string> missing = write_output(dir + "/no/such/dir/x.dat", bytes_of("x"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), "No such file or directory");
  const std::expected<void, std::string> is_dir = write_output(dir, bytes_of("x"));
  ASSERT_FALSE(is_dir);
  EXPECT_EQ(is_dir.error(), "Is a directory");
  // Checked up front too: a directory is not a device to write in place, though access(2) lets one write it.
  EXPECT_EQ(output_problem(dir), "Is a directory");
  EXPECT_EQ(listing(dir), "");
}

TEST(OutputFile, AChainOfLinksToNothingIsFollowedToTheEnd) {
  const std::string dir = fresh_dir("chain");
  ASSERT_EQ(::symlink("b", (dir + "/a").c_str()), 0);
  ASSERT_EQ(::symlink("c", (dir + "/b").c_str()), 0);
  ASSERT_EQ(::symlink("d", (dir + "/c").c_str()), 0);
  ASSERT_TRUE(write_output(dir + "/a", bytes_of("end\n")));
  EXPECT_EQ(contents(dir + "/d"), "end\n");
  EXPECT_EQ(listing(dir), "a b c d");
}

TEST(OutputFile, OptionsAreCheckedUpFrontLeavingTheFileAsItWas) {
  const std::string dir = fresh_dir("checked");
  EXPECT_EQ(check_output("output_file_test", "--plot_data", ""), std::nullopt);  // --plot_data= with no file name
  EXPECT_EQ(check_output("output_file_test", "--plot_data", dir + "/no/such/dir/x.dat"), std::nullopt);
  EXPECT_EQ(output_problem(dir + "/no/such/dir/x.dat"), "No such file or directory");
  EXPECT_EQ(output_problem("/dev/null"), std::nullopt);
  const std::string path = dir + "/x.dat";
  put(path, "earlier run\n");
  // Checked, then abandoned (a later option refused, the run failed or was interrupted): the earlier file stays.
  EXPECT_EQ(check_output("output_file_test", "--plot_data", path), path);
  EXPECT_EQ(contents(path), "earlier run\n");
  EXPECT_EQ(listing(dir), "x.dat");
  // Written at the end: the new contents replace the old ones.
  std::optional<OutputFile> f = open_output("output_file_test", "--plot_data", path);
  ASSERT_TRUE(f);
  std::fputs("new\n", f->stream());
  EXPECT_TRUE(close_output("output_file_test", "--plot_data", path, *f));
  EXPECT_EQ(contents(path), "new\n");
  EXPECT_EQ(listing(dir), "x.dat");
}

TEST(OutputFile, ARelativeNameIsCheckedWhereBazelRunStarted) {
  const std::string dir = fresh_dir("relative");
  const char* old = std::getenv("BUILD_WORKING_DIRECTORY");
  const std::optional<std::string> saved = old != nullptr ? std::optional<std::string>(old) : std::nullopt;
  ASSERT_EQ(::setenv("BUILD_WORKING_DIRECTORY", dir.c_str(), 1), 0);
  EXPECT_EQ(check_output("output_file_test", "--plot_data", "x.dat"), dir + "/x.dat");
  EXPECT_EQ(check_output("output_file_test", "--plot_data", "no/such/dir/x.dat"), std::nullopt);
  if (saved) {
    ::setenv("BUILD_WORKING_DIRECTORY", saved->c_str(), 1);
  } else {
    ::unsetenv("BUILD_WORKING_DIRECTORY");
  }
  EXPECT_EQ(listing(dir), "");
}

}  // namespace
}  // namespace nostd::bench
