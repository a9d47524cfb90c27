// record/malloc_recorder.cc — the hosted malloc recorder (see malloc_recorder.h for the design).
//
// The file it writes is the raw form (record/raw_trace.h): each thread appends delta-encoded events to its own
// mmap'd buffer and writes a full buffer to the file as one chunk with one write(2) (O_APPEND keeps concurrent
// chunks whole); at stop the remaining buffers and the end record are written, and that is all. The merge into
// call order and the address -> id table run afterwards, in the tools that read the file
// (bench/raw_trace_convert.h): done here, at exit, they cost Python 0.9 CPU-s. Nothing here calls malloc.
//
// Per call the recorder pays: a TLS load, a flag store and load (the handshake with stop(), see `record`), one
// atomic increment of the shared sequence counter (what orders calls across threads), and 5-8 bytes of encoding.
#include "record/malloc_recorder.h"

#include <fcntl.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>

#include "platform/malloc/stderr_line.h"
#include "record/raw_trace.h"
#include "record/trace_format.h"

namespace nostd::record {
namespace {

constexpr std::size_t kBufferBytes = 256 * 1024;  // per thread: one write(2) per ~40,000 calls
constexpr std::size_t kMaxThreads = 4096;

/// One thread's buffer. `busy` is set while its owner appends, so that stop() never flushes a half-written
/// buffer (see `record` for the handshake).
struct ThreadBuffer {
  std::atomic<int> busy{0};
  std::size_t used = 0;     // event bytes in `payload`
  RawChunkState state;      // the encoder's previous sequence number and address
  RawChunkHeader header{};  // written together with the payload that follows it
  unsigned char payload[kBufferBytes];
};
static_assert(offsetof(ThreadBuffer, payload) == offsetof(ThreadBuffer, header) + sizeof(RawChunkHeader),
              "ThreadBuffer: the header must directly precede the payload (one write(2) for both)");

std::atomic<std::uint64_t> g_seq{0};
std::atomic<std::size_t> g_thread_count{0};
// Slot i holds the buffer of the thread that took number i from g_thread_count. A slot is written after its number is
// taken, so stop() may find one that is counted but still null, or just being written: an atomic, whose release store
// publishes the buffer (constructed by its thread) to stop()'s acquire load. A null slot holds no events: its thread
// publishes it before its first event, and stop()'s fence (see `record`) makes it see recording off.
std::atomic<ThreadBuffer*> g_threads[kMaxThreads];
// The file is written as g_part_path ("PATH.PID.part") and renamed to g_path when recording stops, so that
// PATH only ever holds a whole trace and processes sharing one name do not write into each other's file: a child
// that starts recording into the same name (Python starts a few to ask the system its name) has its own part file,
// and the trace with the most calls ends up under the name (malloc_recorder_stop). The part file is created at
// the first flush, or at stop: a short-lived child that leaves through _exit() (dash does) leaves nothing behind.
std::atomic<int> g_fd{-1};
std::atomic_flag g_opening = ATOMIC_FLAG_INIT;  // one thread creates the file
bool g_open_failed = false;
bool g_started = false;
pid_t g_owner = 0;
char g_path[4096];
char g_part_path[4096 + 32];
// A word, not a bool: RISC-V has no byte exchange, and GCC 12 would call libatomic, which the drop-in must not need.
std::atomic<int> g_stopped{0};
std::atomic<std::uint64_t> g_lost_threads{0};
// True when membarrier(2) can stand in for the recording threads' half of the fence in `record` (registered at
// start); false on kernels without MEMBARRIER_CMD_PRIVATE_EXPEDITED, where every call pays a full fence.
bool g_asymmetric_fence = false;

__attribute__((tls_model("initial-exec"))) thread_local ThreadBuffer* t_buffer = nullptr;

// The stderr the program had when recording started: the line that says where the trace went is written at exit,
// after programs such as ls have closed fd 2 (gnulib's close_stdout), where a write to fd 2 was lost.
constinit malloc_door::SavedStderr g_stderr;

void say(const char* msg) {
  const ssize_t r = write(g_stderr.fd(), msg, std::strlen(msg));
  (void)r;
}

// The English description of errno value `err`. strerrordesc_np returns a constant string; strerror translates
// through gettext, which may allocate, and this runs inside malloc.
const char* error_text(int err) {
  const char* text = strerrordesc_np(err);
  return text != nullptr ? text : "unknown error";
}

// What a file of mode `mode` is when it is not a regular file, for a message ("... is not a regular file (KIND)").
const char* file_kind(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFLNK:
      return "a symbolic link, which the recorder does not follow: name its target";
    case S_IFDIR:
      return "a directory";
    case S_IFCHR:
      return "a character device";
    case S_IFBLK:
      return "a block device";
    case S_IFIFO:
      return "a FIFO";
    case S_IFSOCK:
      return "a socket";
    default:
      return "a file of an unknown type";
  }
}

// Whether something other than a regular file is at `path` (a device, FIFO, socket, directory or symbolic link,
// not followed), with its mode in `mode`. Nothing there, or a path that cannot be examined, is not: creating the part
// file next to it then decides.
bool names_other_than_regular_file(const char* path, mode_t& mode) {
  struct stat st {};
  if (lstat(path, &st) != 0 || S_ISREG(st.st_mode)) return false;
  mode = st.st_mode;
  return true;
}

// Says why the part file cannot be created (errno `err`), naming it and the path it stands for.
void say_cannot_create(int err) {
  static char msg[2 * sizeof g_path + 200];  // static: this runs inside malloc, on the caller's stack
  std::snprintf(msg, sizeof msg,
                "nostd-alloc: cannot create the trace file for NOSTD_ALLOC_TRACE=%s (%s: %s); not recording\n", g_path,
                g_part_path, error_text(err));
  say(msg);
}

void write_all(int fd, const void* data, std::size_t bytes) {
  const char* p = static_cast<const char*>(data);
  while (bytes > 0) {
    const ssize_t n = write(fd, p, bytes);
    if (n <= 0) return;
    p += n;
    bytes -= static_cast<std::size_t>(n);
  }
}

// When this run started, on the clock the kernel stamps file times with (real time), so that a trace written by a
// process of this run never reads as older. A run is the processes descending from the first that recorded under the
// name: this process, and the unbroken line of its ancestors whose environment holds the same NOSTD_ALLOC_TRACE and
// LD_PRELOAD entries (run_start_of_ancestors); the run started when the oldest of them did. Without such an ancestor
// it is the moment this process started recording, on the coarse real-time clock, which is what stamps the files.
timespec g_run_start{};

// The decimal digits of `v` at `out` (at least 21 bytes), nul-terminated; returns the end.
char* put_decimal(char* out, std::uint64_t v) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n > 0) *out++ = digits[--n];
  *out = 0;
  return out;
}

// "/proc/PID/NAME" at `out` (at least 64 bytes).
void proc_path(char* out, std::uint64_t pid, const char* name) {
  std::memcpy(out, "/proc/", 6);
  char* p = put_decimal(out + 6, pid);
  *p++ = '/';
  std::memcpy(p, name, std::strlen(name) + 1);
}

// The parent's pid (field 4) and the start time (field 22: clock ticks since boot) of process `pid`, from
// /proc/PID/stat; false when it cannot be read. The command name (field 2) is in parentheses and may hold spaces and
// parentheses itself: the fields after it are counted from the last ')'.
bool read_proc_stat(std::uint64_t pid, std::uint64_t& ppid, std::uint64_t& start_ticks) {
  char path[64];
  proc_path(path, pid, "stat");
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[1024];  // the line is under 400 bytes: the name is at most 64, the rest 50 numbers
  std::size_t len = 0;
  for (ssize_t n; len < sizeof buf - 1 && (n = read(fd, buf + len, sizeof buf - 1 - len)) > 0;)
    len += static_cast<std::size_t>(n);
  close(fd);
  buf[len] = 0;
  const char* p = nullptr;
  for (std::size_t i = 0; i < len; ++i)
    if (buf[i] == ')') p = buf + i + 1;
  if (p == nullptr) return false;
  // p is at " S PPID ...": field 3 (the state), then numbers separated by single spaces.
  for (int field = 3; field <= 22; ++field) {
    if (*p != ' ') return false;
    ++p;
    if (field == 3) {
      if (*p == 0 || *p == ' ') return false;
      ++p;
      continue;
    }
    if (*p == '-' && field != 4 && field != 22) ++p;  // fields between may be negative (tpgid, priority, nice)
    if (*p < '0' || *p > '9') return false;
    std::uint64_t v = 0;
    for (; *p >= '0' && *p <= '9'; ++p) v = v * 10 + static_cast<std::uint64_t>(*p - '0');
    if (field == 4) ppid = v;
    if (field == 22) start_ticks = v;
  }
  return true;
}

// One environment entry "NAME=value" looked for in a stream of nul-separated entries, the way getenv finds it: the
// first entry named NAME decides. `want` null: the environment must not hold NAME.
struct EnvEntryMatch {
  const char* name;  // "NAME="
  const char* want;  // the value, or null
  std::size_t name_len = 0, want_len = 0;
  bool decided = false, same = false;
  // The entry being read: how many of its bytes matched "NAME=" then the value; a mismatch stops counting.
  std::size_t at = 0;
  bool named = false, mismatch = false;

  EnvEntryMatch(const char* n, const char* w)
      : name(n), want(w), name_len(std::strlen(n)), want_len(w == nullptr ? 0 : std::strlen(w)) {}

  void byte(char c) {
    if (decided) return;
    if (c == 0) {
      if (named) {
        decided = true;
        same = want != nullptr && !mismatch && at == name_len + want_len;
      }
      at = 0;
      named = mismatch = false;
      return;
    }
    if (mismatch) return;
    if (at < name_len) {
      if (c != name[at]) mismatch = true;
      if (++at == name_len && !mismatch) named = true;
      return;
    }
    if (want == nullptr || at - name_len >= want_len || c != want[at - name_len]) mismatch = true;
    ++at;
  }
  /// Whether the environment holds what this looks for (the last entry ended with its nul).
  bool holds() const { return decided ? same : want == nullptr; }
};

// Whether process `pid`'s environment (/proc/PID/environ: what it was started with) holds the same NOSTD_ALLOC_TRACE
// and LD_PRELOAD entries as `trace` and `preload` (null: no LD_PRELOAD). False when it cannot be read (another
// user's process, or one that has exited).
bool same_recording_environment(std::uint64_t pid, const char* trace, const char* preload) {
  char path[64];
  proc_path(path, pid, "environ");
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  EnvEntryMatch t{"NOSTD_ALLOC_TRACE=", trace};
  EnvEntryMatch l{"LD_PRELOAD=", preload};
  char buf[4096];
  ssize_t n;
  bool read_any = false;
  while ((n = read(fd, buf, sizeof buf)) > 0) {
    read_any = true;
    for (ssize_t i = 0; i < n; ++i) {
      t.byte(buf[i]);
      l.byte(buf[i]);
    }
  }
  close(fd);
  t.byte(0);  // an environment whose last entry lacks its nul (rewritten by the process): end it
  l.byte(0);
  return n == 0 && read_any && t.holds() && l.holds();
}

// The moment the oldest of this process's recording ancestors started (see g_run_start), taken early by one tick of
// the coarse clock so that a file it stamps at that moment does not read as older; false when the parent is not one
// (or cannot be read), and the run is this process's alone.
//
// The walk follows the parent of each process (field 4 of /proc/PID/stat) while its environment holds the same
// entries, at most 64 levels, up to pid 1. A process whose parent has exited has been handed to an ancestor (pid 1 or
// a subreaper) that does not record: the walk stops there, as it does at an ancestor that cannot be read. Each
// ancestor's start must not be later than its child's: a parent that exits while it is read may have its pid reused.
// The start times count clock ticks (10 ms) since boot, rounded down; CLOCK_BOOTTIME is that clock, read
// together with the real-time clock here to convert them.
bool run_start_of_ancestors(const char* trace, timespec& out) {
  const char* preload = std::getenv("LD_PRELOAD");
  std::uint64_t pid = 0, ppid = 0, start_ticks = 0;
  if (!read_proc_stat(static_cast<std::uint64_t>(getpid()), ppid, start_ticks)) return false;
  std::uint64_t oldest = 0;
  bool found = false;
  for (int level = 0; level < 64 && ppid != 0; ++level) {
    pid = ppid;
    std::uint64_t parent_start = 0;
    if (!read_proc_stat(pid, ppid, parent_start) || parent_start > start_ticks ||
        !same_recording_environment(pid, trace, preload))
      break;
    start_ticks = oldest = parent_start;
    found = true;
  }
  if (!found) return false;
  const long ticks_per_second = sysconf(_SC_CLK_TCK);
  if (ticks_per_second <= 0) return false;
  // Real time first: a later boot-time reading makes the ancestor older, the safe side.
  timespec real{}, boot{}, coarse_resolution{};
  if (clock_gettime(CLOCK_REALTIME, &real) != 0 || clock_gettime(CLOCK_BOOTTIME, &boot) != 0) return false;
  if (clock_getres(CLOCK_REALTIME_COARSE, &coarse_resolution) != 0) coarse_resolution = timespec{0, 10'000'000};
  constexpr std::int64_t kNs = 1'000'000'000;
  const auto tps = static_cast<std::uint64_t>(ticks_per_second);
  const auto started_ns = static_cast<std::int64_t>(oldest / tps) * kNs +
                          static_cast<std::int64_t>((oldest % tps) * static_cast<std::uint64_t>(kNs) / tps);
  const std::int64_t boot_ns = static_cast<std::int64_t>(boot.tv_sec) * kNs + boot.tv_nsec;
  if (started_ns > boot_ns) return false;
  const std::int64_t run_ns = static_cast<std::int64_t>(real.tv_sec) * kNs + real.tv_nsec - (boot_ns - started_ns) -
                              (static_cast<std::int64_t>(coarse_resolution.tv_sec) * kNs + coarse_resolution.tv_nsec);
  if (run_ns < 0) return false;
  out = timespec{static_cast<time_t>(run_ns / kNs), static_cast<long>(run_ns % kNs)};
  return true;
}

// The number of calls in the finished raw trace at `path` (its end record's count), or -1 when there is no regular
// file there, it is not a whole raw trace, or it was written before this run started (a trace left by an earlier run,
// not by a process of this one): the name may then be taken. It never blocks: a FIFO put at `path` opens at once
// (O_NONBLOCK; a plain read-only open waits for a writer, which hung the program at exit), a symbolic link is not
// followed, and only a regular file is read.
std::int64_t calls_in_finished_trace(const char* path) {
  const int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return -1;
  std::int64_t calls = -1;
  char magic[8];
  RawChunkHeader end{};
  struct stat st {};
  const bool this_run = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
                        (st.st_mtim.tv_sec > g_run_start.tv_sec ||
                         (st.st_mtim.tv_sec == g_run_start.tv_sec && st.st_mtim.tv_nsec >= g_run_start.tv_nsec));
  const off_t size = lseek(fd, 0, SEEK_END);
  if (this_run && size >= static_cast<off_t>(sizeof magic + sizeof end) &&
      pread(fd, magic, sizeof magic, 0) == sizeof magic && is_raw_trace(magic, sizeof magic) &&
      pread(fd, &end, sizeof end, size - static_cast<off_t>(sizeof end)) == sizeof end && end.magic == kRawEndMagic &&
      end.bytes == 0 && end.first_seq <= static_cast<std::uint64_t>(INT64_MAX)) {
    calls = static_cast<std::int64_t>(end.first_seq);
  }
  close(fd);
  return calls;
}

// The part file, created (with the magic) by the first caller; -1 when it cannot be created.
[[gnu::noinline]] int open_part_file() {
  while (g_opening.test_and_set(std::memory_order_acquire)) {
  }
  int fd = g_fd.load(std::memory_order_relaxed);
  if (fd < 0 && !g_open_failed) {
    fd = open(g_part_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
      g_open_failed = true;
      say_cannot_create(errno);
      internal::g_recording.store(false, std::memory_order_relaxed);
    } else {
      write_all(fd, kRawMagic.data(), kRawMagic.size());
      g_fd.store(fd, std::memory_order_release);
    }
  }
  g_opening.clear(std::memory_order_release);
  return fd;
}

int part_file() {
  const int fd = g_fd.load(std::memory_order_acquire);
  return fd >= 0 ? fd : open_part_file();
}

// Writes `b`'s events as one chunk. Cancellation is off meanwhile: write(2), and open(2) at the first flush, are
// cancellation points, and this runs inside malloc and free, which are none (glibc's contain none, and programs rely on
// it). A thread cancelled here ended inside free with its buffer marked busy, so malloc_recorder_stop waited for it for
// ever at exit, or, at the first flush, with the lock that creates the file held (//tests/preload:cancel_test). Two
// calls per flush (one per ~40,000 events); a request that arrives meanwhile takes effect at the thread's next
// cancellation point.
//
// Only the process that started recording writes: in a forked child the buffer is dropped and recording turned off
// (a forked child records nothing, and the events the fork copied into its buffers are the parent's, which the parent
// writes itself). The child handler turns recording off too, but it cannot be relied on to come first: handlers
// registered before the recorder's (a constructor's in a library the program needs, which the loader starts before a
// preloaded recorder) run in the child before it, with recording on, and a fork made by a system call runs none. A
// child whose buffer filled there had written the parent's unflushed events into the parent's part file a second
// time (the trace held duplicated call numbers), or, when another thread of the parent was creating that file at the
// fork, waited for ever for g_opening, which the fork copied held (//tests:malloc_recorder_fork_test). The check
// here, one getpid(2) per flush next to a 256 KiB write(2), covers every such fork and keeps `record` as it was; a
// prepare handler that held g_opening across the fork would instead have blocked a later prepare handler whose
// allocations fill a buffer (prepare handlers run in the reverse order: such a handler runs after the recorder's),
// unless the forking thread could pass the flag as it passes the arenas' locks (platform/malloc/arena_lock.h).
void flush(ThreadBuffer* b) {
  if (b->used == 0) return;
  if (getpid() != g_owner) [[unlikely]] {
    b->used = 0;
    internal::g_recording.store(false, std::memory_order_relaxed);
    return;
  }
  b->header.magic = kRawChunkMagic;
  b->header.bytes = static_cast<std::uint32_t>(b->used);
  int cancel_state = PTHREAD_CANCEL_ENABLE;
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
  const int fd = part_file();
  if (fd >= 0) write_all(fd, &b->header, sizeof(RawChunkHeader) + b->used);
  pthread_setcancelstate(cancel_state, nullptr);
  b->used = 0;
}

[[gnu::noinline]] ThreadBuffer* new_thread_buffer() {
  void* mem = mmap(nullptr, sizeof(ThreadBuffer), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return nullptr;
  const std::size_t slot = g_thread_count.fetch_add(1);
  if (slot >= kMaxThreads) {
    munmap(mem, sizeof(ThreadBuffer));
    g_lost_threads.fetch_add(1);
    return nullptr;
  }
  auto* b = new (mem) ThreadBuffer;
  g_threads[slot].store(b, std::memory_order_release);
  t_buffer = b;
  return b;
}

long membarrier(int command) { return syscall(__NR_membarrier, command, 0, 0); }

/// Appends one raw event for this thread. The sequence number is taken here, after the caller's allocation (or
/// before its release), which is what orders events across threads.
///
/// The handshake with stop(), which flushes every thread's buffer: the owner sets `busy`, then reads
/// g_recording; stop() clears g_recording, then reads each `busy` and waits for it to clear. One side must see
/// the other's store (Dekker), which needs a full fence between the store and the load on both sides. On the
/// owner's side, called millions of times, that fence (an xchg, ~20 cycles) was the dearest part of a call; so
/// the owner only keeps the compiler from reordering, and stop() runs membarrier(PRIVATE_EXPEDITED), which
/// executes a full fence on every CPU running one of our threads: the asymmetric fence of userspace RCU and
/// folly. Where the kernel lacks it, the owner's store and load are sequentially consistent, as are stop()'s: the
/// same full fence (an xchg on x86), in a form ThreadSanitizer follows (GCC's TSan does not support
/// std::atomic_thread_fence and refuses to compile it).
void record(const RawEvent& event) {
  ThreadBuffer* b = t_buffer;
  if (b == nullptr) [[unlikely]] {
    b = new_thread_buffer();
    if (b == nullptr) return;
  }
  bool recording;
  if (g_asymmetric_fence) [[likely]] {
    b->busy.store(1, std::memory_order_relaxed);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    recording = internal::g_recording.load(std::memory_order_relaxed);
  } else {
    b->busy.store(1, std::memory_order_seq_cst);
    recording = internal::g_recording.load(std::memory_order_seq_cst);
  }
  if (!recording) [[unlikely]] {
    b->busy.store(0, std::memory_order_release);
    return;
  }
  RawEvent e = event;
  e.seq = g_seq.fetch_add(1, std::memory_order_relaxed);
  if (b->used == 0) {
    b->header.first_seq = e.seq;
    b->state = RawChunkState{e.seq, 0};
  }
  unsigned char* const end = append_raw_event(b->payload + b->used, e, b->state);
  b->used = static_cast<std::size_t>(end - b->payload);
  if (b->used + kMaxRawEventBytes > kBufferBytes) [[unlikely]]
    flush(b);
  b->busy.store(0, std::memory_order_release);
}

// A forked child records nothing (its calls would be numbered like the parent's, and the parent's trace is no place for
// them): from here on its calls return at `record`'s first test. What it recorded before this handler ran stays in its
// copies of the buffers, which it never writes (`flush`; malloc_recorder_stop returns in any process but the owner).
void child_after_fork() { internal::g_recording.store(false); }

std::uint8_t align_log2_of(std::size_t align) {
  if (align <= alignof(std::max_align_t)) return 0;
  return static_cast<std::uint8_t>(std::min<int>(std::countr_zero(std::bit_ceil(align)), kMaxAlignLog2));
}

// The directory that holds g_path, opened and locked with flock(2): the processes of one run that record under one
// name take it around the "which trace keeps the name" check and the rename, so that two finishing at the same moment
// cannot both read the name's old count and both rename (the later rename won, whatever it held). A lock on the
// directory, not a lock file beside the trace, so that nothing is left behind; advisory, so only recorders wait for it.
// A recorder holds it for a stat, a read of 16 bytes and a rename, so the wait is bounded: LOCK_NB, tried every
// millisecond, kDirectoryLockTries times. A lock held longer is not a recorder's — `flock DIR program`, a program that
// locks its own directory, a child that inherited the descriptor — and waiting for it had hung the program at exit
// (found in review); the check and rename then run unlocked, as they did before the lock. -1 when the directory cannot
// be opened or locked (also on NFS, where flock on a read-only descriptor fails): unlocked too.
int lock_trace_directory() {
  static constexpr int kDirectoryLockTries = 20;  // about 20 ms: hundreds of times a recorder's hold
  static char dir[sizeof g_path];
  const char* const slash = std::strrchr(g_path, '/');
  if (slash == nullptr) {
    dir[0] = '.';
    dir[1] = 0;
  } else {
    const std::size_t n = slash == g_path ? 1 : static_cast<std::size_t>(slash - g_path);  // "/t.trace": "/"
    std::memcpy(dir, g_path, n);
    dir[n] = 0;
  }
  const int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -1;
  for (int attempt = 0; attempt < kDirectoryLockTries; ++attempt) {
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) return fd;
    if (errno != EWOULDBLOCK && errno != EINTR) break;
    const timespec millisecond{0, 1'000'000};
    nanosleep(&millisecond, nullptr);
  }
  close(fd);
  return -1;
}

// Closes (and so unlocks) what lock_trace_directory returned.
void unlock_trace_directory(int fd) {
  if (fd >= 0) close(fd);
}

// malloc_recorder_stop's last step, under the directory lock: the name goes to the trace with the most calls of the
// run (see there), and one line on stderr says where the trace went.
void finish_under_name(std::uint64_t events, char* msg, std::size_t msg_size) {
  // Something other than a regular file put at PATH while the program ran (start refuses one that was there) is left
  // alone, as start would have: the rename would replace it.
  mode_t mode = 0;
  if (names_other_than_regular_file(g_path, mode)) {
    std::snprintf(msg, msg_size,
                  "nostd-alloc: NOSTD_ALLOC_TRACE=%s is no longer a regular file (%s); the raw trace of %llu calls "
                  "is left as %s\n",
                  g_path, file_kind(mode), static_cast<unsigned long long>(events), g_part_path);
    say(msg);
    return;
  }
  const std::int64_t named_calls = calls_in_finished_trace(g_path);
  if (named_calls >= 0 && events < static_cast<std::uint64_t>(named_calls)) {
    unlink(g_part_path);
    std::snprintf(msg, msg_size,
                  "nostd-alloc: raw trace of %llu calls discarded: %s holds one of %lld calls from another process "
                  "recording under that name (%%p in NOSTD_ALLOC_TRACE keeps each process's)\n",
                  static_cast<unsigned long long>(events), g_path, static_cast<long long>(named_calls));
    say(msg);
    return;
  }
  if (rename(g_part_path, g_path) != 0) {
    const int err = errno;
    std::snprintf(msg, msg_size,
                  "nostd-alloc: cannot rename the raw trace of %llu calls to NOSTD_ALLOC_TRACE=%s (%s: %s)%s\n",
                  static_cast<unsigned long long>(events), g_path, g_part_path, error_text(err),
                  err == ENOENT ? "" : "; it is left under that name");
    say(msg);
    return;
  }
  const std::uint64_t lost = g_lost_threads.load();
  std::snprintf(msg, msg_size, "nostd-alloc: raw trace of %llu calls written to %s%s\n",
                static_cast<unsigned long long>(events), g_path,
                lost == 0 ? "" : " (some threads unrecorded: more than 4096)");
  say(msg);
}

// Writes `path` into g_path with each "%p" replaced by the process id and, when it is relative, the working directory
// in front; false when the name itself, %p expanded, does not fit g_path (with its nul). Such a name had been cut short
// without a word, and the trace written under the shorter name: in another file, or in a directory whose name the cut
// ended in. A relative name is made absolute here, once, because the program may change directory while it runs
// (git, make -C, a shell's cd): the part file, created at the first flush, and the rename at exit followed it, so that
// the trace went to the new directory, or, after a first flush in the old one, the rename failed and left the part
// file there. Where the working directory cannot be read (removed, or 4096 bytes or longer: getcwd's ERANGE) or the
// two do not fit 4095 bytes together, the name stays relative, as it was before: a short name in a deep directory is
// recorded (a review found the joined name refused), and only a change of directory can then lose its trace. getcwd
// with a buffer of ours allocates nothing.
bool expand_trace_path(const char* path) {
  static char name[sizeof g_path];  // static: this runs inside malloc (the drop-in's start), on its stack
  char pid[24];
  const std::size_t pid_length = static_cast<std::size_t>(put_decimal(pid, static_cast<std::uint64_t>(getpid())) - pid);
  std::size_t n = 0;
  for (const char* p = path; *p != 0; ++p) {
    const bool is_pid = p[0] == '%' && p[1] == 'p';
    const std::size_t k = is_pid ? pid_length : 1;
    if (k >= sizeof name - n) return false;
    std::memcpy(name + n, is_pid ? pid : p, k);
    n += k;
    if (is_pid) ++p;
  }
  name[n] = 0;
  std::size_t o = 0;
  if (name[0] != '/' && getcwd(g_path, sizeof g_path) != nullptr && g_path[0] == '/') {
    o = std::strlen(g_path);
    if (g_path[o - 1] != '/') g_path[o++] = '/';  // o < sizeof g_path: getcwd fit the name and its nul
    if (n >= sizeof g_path - o) o = 0;            // with the directory in front it would not fit: keep it relative
  }
  std::memcpy(g_path + o, name, n + 1);
  return true;
}

}  // namespace

bool malloc_recorder_start(const char* path) {
  if (g_started) return true;
  static char msg[sizeof g_path + 200];  // static: this runs inside malloc (the drop-in's start), on its stack
  if (!expand_trace_path(path)) {
    std::snprintf(msg, sizeof msg,
                  "nostd-alloc: NOSTD_ALLOC_TRACE=%.100s%s is too long (more than %zu bytes with %%p expanded); not "
                  "recording\n",
                  path, std::strlen(path) > 100 ? "..." : "", sizeof g_path - 1);
    say(msg);
    return false;
  }
  std::snprintf(g_part_path, sizeof g_part_path, "%s.%d.part", g_path, static_cast<int>(getpid()));
  // The finished trace is renamed onto PATH, which replaces whatever is there: a device (/dev/null, /dev/full), a
  // FIFO or a symbolic link there would become a regular file. Only a regular file or nothing is recorded to; for
  // anything else the program runs unrecorded, and nothing is created.
  mode_t mode = 0;
  if (names_other_than_regular_file(g_path, mode)) {
    std::snprintf(msg, sizeof msg, "nostd-alloc: NOSTD_ALLOC_TRACE=%s is not a regular file (%s); not recording\n",
                  g_path, file_kind(mode));
    say(msg);
    return false;
  }
  // Fail now, not at the first flush, when the directory does not take files: create the part file and remove it.
  const int probe = open(g_part_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (probe < 0) {
    say_cannot_create(errno);
    return false;
  }
  close(probe);
  unlink(g_part_path);
  clock_gettime(CLOCK_REALTIME_COARSE, &g_run_start);
  // The run began earlier when this process's parent records under the same name, as `timeout` or a shell does. With
  // "%p" every process has a name of its own, and the run is this process alone, as before; so it is when the name
  // was not taken from the environment (malloc_recorder_start called with another).
  const char* env_path = std::getenv(kTraceEnvVar);
  timespec ancestors{};
  if (env_path != nullptr && std::strcmp(env_path, path) == 0 && std::strstr(path, "%p") == nullptr &&
      run_start_of_ancestors(env_path, ancestors) &&
      (ancestors.tv_sec < g_run_start.tv_sec ||
       (ancestors.tv_sec == g_run_start.tv_sec && ancestors.tv_nsec < g_run_start.tv_nsec)))
    g_run_start = ancestors;
  g_started = true;
  g_stderr.keep();
  g_asymmetric_fence = membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
  g_owner = getpid();
  pthread_atfork(nullptr, nullptr, child_after_fork);
  internal::g_recording.store(true);
  return true;
}

// Says, one line each, which environment variables are named NOSTD_ALLOC_ and something other than the one the
// recorder reads: a misspelt NOSTD_ALLOC_TRACE (NOSTD_ALLOC_TRAC=t.trace) left the program unrecorded without a word.
// The entry is cut to 100 bytes. No std::string_view::substr: its out-of-range throw would link libstdc++'s exception
// machinery into the drop-in, which must need libc only (//tests/preload:libc_only_test).
void report_unknown_variables() {
  constexpr std::string_view kPrefix = "NOSTD_ALLOC_";
  const std::string_view known(kTraceEnvVar);
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const char* e = *entry;
    if (std::strncmp(e, kPrefix.data(), kPrefix.size()) != 0) continue;
    const std::size_t name_length = std::strcspn(e, "=");
    if (std::string_view(e, name_length) == known) continue;
    static char msg[300];  // static: this runs inside malloc, on the caller's stack
    std::snprintf(msg, sizeof msg, "nostd-alloc: ignoring %.100s%s (unknown variable; the recorder reads %s)\n", e,
                  std::strlen(e) > 100 ? "..." : "", kTraceEnvVar);
    say(msg);
  }
}

bool malloc_recorder_start_from_env() {
  report_unknown_variables();
  const char* path = std::getenv(kTraceEnvVar);
  if (path == nullptr) return false;
  if (*path == 0) {
    // Set but empty, as `NOSTD_ALLOC_TRACE=$TRACE program` leaves it with TRACE unset: there is no file to name, and
    // a user who meant to record is told so rather than find no trace afterwards.
    say("nostd-alloc: NOSTD_ALLOC_TRACE is empty; not recording\n");
    return false;
  }
  return malloc_recorder_start(path);
}

void malloc_recorder_allocated(void* p, std::size_t size, std::size_t align) {
  record(RawEvent{'A', align_log2_of(align), 0, reinterpret_cast<std::uintptr_t>(p), 0, size});
}

void malloc_recorder_freeing(void* p) { record(RawEvent{'F', 0, 0, reinterpret_cast<std::uintptr_t>(p), 0, 0}); }

void malloc_recorder_reallocated(void* old_ptr, void* new_ptr, std::size_t new_size) {
  record(RawEvent{'R', 0, 0, reinterpret_cast<std::uintptr_t>(old_ptr), reinterpret_cast<std::uintptr_t>(new_ptr),
                  new_size});
}

void malloc_recorder_stop() {
  if (!g_started || getpid() != g_owner) return;
  if (g_stopped.exchange(1) != 0) return;
  internal::g_recording.store(false);  // seq_cst
  // The heavy half of `record`'s handshake: every thread running now passes a full fence, so either it sees
  // recording off, or this thread sees its `busy` below.
  if (g_asymmetric_fence) membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED);
  const std::size_t threads = std::min(g_thread_count.load(), kMaxThreads);
  for (std::size_t i = 0; i < threads; ++i) {
    ThreadBuffer* b = g_threads[i].load(std::memory_order_acquire);
    if (b == nullptr) continue;
    while (b->busy.load() != 0) {
    }
    flush(b);
  }
  // Every number below g_seq is in some chunk now: a thread that took one finished its append first.
  const std::uint64_t events = g_seq.load();
  const int fd = part_file();
  if (fd < 0) return;
  const RawChunkHeader end{kRawEndMagic, 0, events};
  write_all(fd, &end, sizeof end);
  close(fd);
  // Among the processes of one run recording under one name, the name goes to the trace with the most calls, and a
  // smaller one is discarded: a wrapper (`timeout 60 program`, a shell) records too and usually finishes after the
  // program it started, and renaming its few calls over the program's trace lost that trace after the program had
  // said it was written. Before, the last process to finish took the name whatever it held. A trace written before
  // this run started (g_run_start: when the oldest of this process's ancestors recording under the name started) is
  // an earlier run's and is replaced whatever its size; the run's start had been this process's own, so a child that
  // a shell started after another child's larger trace was written took that trace for an earlier run's and replaced
  // it. ("%p" in the name keeps every process's trace.) The check and the rename run under a lock on the trace's
  // directory (lock_trace_directory), so that of two processes finishing at the same moment the second sees the
  // first's trace; without it both could take the name and the later rename won.
  static char msg[2 * sizeof g_path + 300];  // static: no large stack frame inside a destructor
  const int dir_lock = lock_trace_directory();
  finish_under_name(events, msg, sizeof msg);
  unlock_trace_directory(dir_lock);
}

}  // namespace nostd::record
