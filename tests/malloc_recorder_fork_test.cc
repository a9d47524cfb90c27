// tests/malloc_recorder_fork_test.cc — the hosted recorder (record/malloc_recorder.cc) across fork(), in the window
// before its own child handler runs.
//
// pthread_atfork runs child handlers in the order they were registered, so a handler registered before the
// recorder's (a constructor's in a library the program needs, which the loader starts before a preloaded recorder)
// runs in the child while recording is still on, with the forking thread's buffer as it was in the parent: the
// parent's unflushed events in it. Each test registers such a handler first, which records enough calls to fill a
// buffer (what a library's handler that allocates does through the drop-in), then starts the recorder:
//   - ForkChildWritesNothingToTheParentsTrace: the parent's part file is open. The child's full buffer had been
//     written to it, the parent's unflushed events with it, which the parent writes again at exit: the trace held
//     duplicated call numbers and the converter refused it.
//   - ForkWhileAnotherThreadCreatesThePartFile: another thread is creating the part file (it holds the flag that
//     lets one thread create it; the part file is a FIFO here, so its open(2) waits for a reader). The child's flush
//     had waited for that flag, copied held, for ever.
// And a stop right after a flush, when a thread's buffer is empty (AStopRightAfterAFlushWritesNoEmptyChunk).
// Each scenario runs in a process of its own (a death test): recording starts once per process.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "bench/raw_trace_convert.h"
#include "record/malloc_recorder.h"

namespace {

using nostd::record::malloc_recorder_allocated;
using nostd::record::malloc_recorder_freeing;

// Calls that fill a thread's 256 KiB buffer whatever their encoding (5-8 bytes an event): 2 events per pair.
constexpr int kPairsFillingABuffer = 60'000;

// Records `pairs` allocate/free pairs at addresses from `base` on (64 live addresses, reused).
void record_pairs(std::uintptr_t base, int pairs) {
  for (int i = 0; i < pairs; ++i) {
    void* const p = reinterpret_cast<void*>(base + 16 * static_cast<std::uintptr_t>(i % 64));
    malloc_recorder_allocated(p, 16, 0);
    malloc_recorder_freeing(p);
  }
}

// The child handler registered before the recorder's: it runs in the child while recording is on.
void fill_a_buffer_in_the_child() { record_pairs(0x7000000, kPairsFillingABuffer); }

// Ends the scenario (the death test's process) with a message on stderr and exit status 1.
[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "FAIL: %s\n", what.c_str());
  std::fflush(stderr);
  _exit(1);
}

std::string trace_path(const char* name) {
  const char* const dir = std::getenv("TEST_TMPDIR");
  return std::string(dir != nullptr ? dir : "/tmp") + "/" + name + "." + std::to_string(getpid());
}

// The part file this process writes while it records into `path` (renamed to `path` at stop).
std::string part_path(const std::string& path) { return path + "." + std::to_string(getpid()) + ".part"; }

// Registers the early child handler, then starts recording into `path`.
void start_recording_after_an_early_child_handler(const std::string& path) {
  if (pthread_atfork(nullptr, nullptr, fill_a_buffer_in_the_child) != 0) fail("pthread_atfork");
  if (!nostd::record::malloc_recorder_start(path.c_str())) fail("the recorder did not start");
}

// Forks; the child (which has run the early handler by then) exits 0 at once. Fails when the child does not end
// within 10 s (it is killed) or ends otherwise.
void fork_and_wait_for_the_child() {
  const pid_t pid = fork();
  if (pid < 0) fail("fork");
  if (pid == 0) _exit(0);
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      fail("the forked child hung in its early fork handler (it waited for the lock that creates the trace file)");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail("the forked child did not exit 0");
}

// The raw trace in `bytes` converts (every call number from 0 to its count exactly once) and holds `calls` calls.
void expect_trace_of(const std::vector<char>& bytes, std::uint64_t calls) {
  const auto stats = nostd::bench::convert_raw_trace(
      std::span(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()), [](const auto&) {});
  if (!stats) fail("the trace does not convert: " + stats.error().message);
  if (stats->events != calls) {
    fail("the trace holds " + std::to_string(stats->events) + " calls, want " + std::to_string(calls));
  }
}

std::vector<char> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read " + path);
  return std::vector<char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void child_writes_nothing_to_the_parents_trace() {
  const std::string path = trace_path("fork_dup.trace");
  start_recording_after_an_early_child_handler(path);
  // Enough calls for several flushes (the part file is open), then some left in the buffer when the fork copies it.
  record_pairs(0x1000000, 100'000);
  record_pairs(0x2000000, 1'000);
  fork_and_wait_for_the_child();
  record_pairs(0x3000000, 10);
  nostd::record::malloc_recorder_stop();
  expect_trace_of(read_file(path), 2 * (100'000 + 1'000 + 10));
  std::remove(path.c_str());
  _exit(0);
}

// The state (field 3) of thread `tid` of this process, from /proc/self/task/TID/stat; 0 when it cannot be read.
char thread_state(pid_t tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/stat");
  const std::string line((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t paren = line.rfind(')');
  return paren == std::string::npos || paren + 2 >= line.size() ? 0 : line[paren + 2];
}

void fork_while_another_thread_creates_the_part_file() {
  const std::string path = trace_path("fork_opening.trace");
  const std::string part = part_path(path);
  start_recording_after_an_early_child_handler(path);
  // The part file is created at the first flush; a FIFO there makes that open(2) wait, with the flag held, until a
  // reader opens it.
  if (mkfifo(part.c_str(), 0600) != 0) fail("mkfifo " + part);
  std::atomic<pid_t> tid{0};
  std::atomic<int> progress{0};
  std::thread writer([&] {
    tid = gettid();
    for (int i = 0; i < kPairsFillingABuffer; ++i) {
      record_pairs(0x4000000, 1);
      progress.fetch_add(1, std::memory_order_relaxed);
    }
  });
  // The writer is inside the open: asleep, and its count has not moved for 50 ms.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (int last = -1, still = 0; still < 10;) {
    if (std::chrono::steady_clock::now() > deadline) fail("the recording thread never waited in open(2)");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    const int now = progress.load(std::memory_order_relaxed);
    still = now == last && now > 0 && tid != 0 && thread_state(tid) == 'S' ? still + 1 : 0;
    last = now;
  }
  fork_and_wait_for_the_child();
  // Read the FIFO (which lets the writer's open return) until the recorder closes it at stop.
  std::vector<char> bytes;
  std::thread reader([&] {
    const int fd = open(part.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail("open " + part);
    char buf[65536];
    for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) bytes.insert(bytes.end(), buf, buf + n);
    close(fd);
  });
  writer.join();
  nostd::record::malloc_recorder_stop();
  reader.join();
  expect_trace_of(bytes, 2 * kPairsFillingABuffer);
  std::remove(path.c_str());  // stop renamed the FIFO to the trace's name
  _exit(0);
}

// A stop right after a flush: the thread's buffer is empty then, and stop writes no chunk for it (an empty chunk is
// malformed, and the converter refused the trace). The calls are recorded one at a time until the part file exists,
// which the first flush creates, inside the call that filled the buffer.
void stop_right_after_a_flush_writes_no_empty_chunk() {
  const std::string path = trace_path("flushed.trace");
  const std::string part = part_path(path);
  if (!nostd::record::malloc_recorder_start(path.c_str())) fail("the recorder did not start");
  std::uint64_t calls = 0;
  struct stat st {};
  while (stat(part.c_str(), &st) != 0 || st.st_size == 0) {
    if (calls > 2 * kPairsFillingABuffer) fail("no flush after " + std::to_string(calls) + " calls");
    malloc_recorder_allocated(reinterpret_cast<void*>(0x5000000 + 16 * (calls % 64)), 16, 0);
    ++calls;
  }
  nostd::record::malloc_recorder_stop();
  expect_trace_of(read_file(path), calls);
  std::remove(path.c_str());
  _exit(0);
}

TEST(MallocRecorderFork, ForkChildWritesNothingToTheParentsTrace) {
  EXPECT_EXIT(child_writes_nothing_to_the_parents_trace(), testing::ExitedWithCode(0), "");
}

TEST(MallocRecorderFork, ForkWhileAnotherThreadCreatesThePartFile) {
  EXPECT_EXIT(fork_while_another_thread_creates_the_part_file(), testing::ExitedWithCode(0), "");
}

TEST(MallocRecorderStop, AStopRightAfterAFlushWritesNoEmptyChunk) {
  EXPECT_EXIT(stop_right_after_a_flush_writes_no_empty_chunk(), testing::ExitedWithCode(0), "");
}

}  // namespace
