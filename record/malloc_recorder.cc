// record/malloc_recorder.cc — the hosted malloc recorder (see malloc_recorder.h for the design).
//
// Raw file (native byte order, only ever read back by the process that wrote it): chunks, each one thread's
// buffer as it was flushed, a ChunkHeader then delta-encoded events (see ChunkHeader). Finalisation: the raw file
// is mapped; every chunk is in sequence order, so a k-way merge over the chunks puts the events back in the order
// the calls happened without sorting or copying. The merged stream goes through an
// open-addressing table from live address to block id (linear probing with backward-shift deletion, so no
// tombstones) and is written as the trace through a buffer. Nothing here calls malloc: every array is mmap'd.
#include "record/malloc_recorder.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <span>

#include "record/trace_format.h"

namespace nostd::record {
namespace {

/// One event as the finaliser decodes it from the raw file.
struct RawEvent {
  char kind = 0;                // 'A', 'F' or 'R'
  std::uint8_t align_log2 = 0;  // 'A' only
  std::uint64_t seq = 0;        // global sequence number
  std::uint64_t addr = 0;       // the block ('R': its old address)
  std::uint64_t new_addr = 0;   // 'R': the new address
  std::uint64_t size = 0;       // 'A' and 'R'
};

/// The header of one thread's chunk in the raw file; the chunk's events follow, delta-encoded against the
/// previous event of the same chunk (sequence numbers from `first_seq`, addresses from 0): a kind byte ('A',
/// 'a' = aligned 'A' followed by its align_log2 byte, 'F', 'R'), varint(sequence delta), varint(zigzag(address
/// delta)), for 'R' varint(zigzag(new address - address)), for 'A' and 'R' varint(size). A chunk decodes on its
/// own, and the usual event takes 5 to 8 bytes instead of 32.
struct ChunkHeader {
  std::uint32_t magic;  // kChunkMagic: a check that the finaliser is reading what it wrote
  std::uint32_t bytes;  // event bytes that follow
  std::uint64_t first_seq;
};
constexpr std::uint32_t kChunkMagic = 0x4352534e;  // "NSRC"
constexpr std::size_t kBufferBytes = 256 * 1024;   // per thread: one write(2) per ~40,000 calls
constexpr std::size_t kMaxRawBytes = 2 + 4 * 10;   // kind, alignment, four varints
constexpr std::size_t kMaxThreads = 4096;

/// One thread's buffer. `busy` is set while its owner appends, so that stop() never flushes a half-written
/// buffer (Dekker-style with g_recording: both sides use sequentially consistent operations).
struct ThreadBuffer {
  std::atomic<int> busy{0};
  std::size_t used = 0;         // event bytes in `payload`
  std::uint64_t prev_seq = 0;   // of the last event in this chunk
  std::uint64_t prev_addr = 0;  // of the last event in this chunk
  ChunkHeader header{};         // written together with the payload that follows it
  unsigned char payload[kBufferBytes];
};
static_assert(offsetof(ThreadBuffer, payload) == offsetof(ThreadBuffer, header) + sizeof(ChunkHeader),
              "ThreadBuffer: the header must directly precede the payload (one write(2) for both)");

std::atomic<std::uint64_t> g_seq{0};
std::atomic<std::size_t> g_thread_count{0};
ThreadBuffer* g_threads[kMaxThreads];
int g_raw_fd = -1;
pid_t g_owner = 0;
char g_path[4096];
char g_raw_path[4200];
std::atomic<bool> g_stopped{false};
std::atomic<std::uint64_t> g_lost_threads{0};

__attribute__((tls_model("initial-exec"))) thread_local ThreadBuffer* t_buffer = nullptr;

void say(const char* msg) {
  const ssize_t r = write(STDERR_FILENO, msg, std::strlen(msg));
  (void)r;
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

void flush(ThreadBuffer* b) {
  if (b->used == 0) return;
  b->header.magic = kChunkMagic;
  b->header.bytes = static_cast<std::uint32_t>(b->used);
  write_all(g_raw_fd, &b->header, sizeof(ChunkHeader) + b->used);
  b->used = 0;
}

ThreadBuffer* this_thread_buffer() {
  if (t_buffer != nullptr) [[likely]]
    return t_buffer;
  void* mem = mmap(nullptr, sizeof(ThreadBuffer), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return nullptr;
  const std::size_t slot = g_thread_count.fetch_add(1);
  if (slot >= kMaxThreads) {
    munmap(mem, sizeof(ThreadBuffer));
    g_lost_threads.fetch_add(1);
    return nullptr;
  }
  auto* b = new (mem) ThreadBuffer;
  g_threads[slot] = b;
  t_buffer = b;
  return b;
}

unsigned char* put_varint(unsigned char* p, std::uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<unsigned char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<unsigned char>(v);
  return p;
}

std::uint64_t zigzag(std::uint64_t delta) {
  const auto d = static_cast<std::int64_t>(delta);
  return (static_cast<std::uint64_t>(d) << 1) ^ static_cast<std::uint64_t>(d >> 63);
}

/// Appends one raw event for this thread; the sequence number is taken here, after the caller's allocation
/// (or before its release), which is what orders events across threads.
void record(char kind, std::uint8_t align_log2, std::uint64_t addr, std::uint64_t new_addr, std::uint64_t size) {
  ThreadBuffer* b = this_thread_buffer();
  if (b == nullptr) return;
  b->busy.store(1);  // seq_cst: ordered before the re-check below
  if (!internal::g_recording.load()) {
    b->busy.store(0, std::memory_order_release);
    return;
  }
  const std::uint64_t seq = g_seq.fetch_add(1, std::memory_order_relaxed);
  if (b->used == 0) {
    b->header.first_seq = seq;
    b->prev_seq = seq;
    b->prev_addr = 0;
  }
  unsigned char* p = b->payload + b->used;
  const bool aligned = kind == 'A' && align_log2 != 0;
  *p++ = static_cast<unsigned char>(aligned ? 'a' : kind);
  if (aligned) *p++ = align_log2;
  p = put_varint(p, seq - b->prev_seq);
  p = put_varint(p, zigzag(addr - b->prev_addr));
  b->prev_addr = addr;
  if (kind == 'R') {
    p = put_varint(p, zigzag(new_addr - addr));
    b->prev_addr = new_addr;
  }
  if (kind != 'F') p = put_varint(p, size);
  b->prev_seq = seq;
  b->used = static_cast<std::size_t>(p - b->payload);
  if (b->used + kMaxRawBytes > kBufferBytes) flush(b);
  b->busy.store(0, std::memory_order_release);
}

/// Reads one chunk's events in order.
class ChunkCursor {
 public:
  ChunkCursor(const unsigned char* p, const unsigned char* end, std::uint64_t first_seq)
      : p_(p), end_(end), seq_(first_seq) {}
  /// Decodes the next event into `e`; false at the end of the chunk (or at a malformed byte).
  bool next(RawEvent& e) {
    if (p_ >= end_) return false;
    const char kind = static_cast<char>(*p_++);
    e.align_log2 = 0;
    if (kind == 'a') {
      if (p_ >= end_) return false;
      e.align_log2 = *p_++;
    }
    e.kind = kind == 'a' ? 'A' : kind;
    std::uint64_t v = 0;
    if (!get(&v)) return false;
    seq_ += v;
    e.seq = seq_;
    if (!get(&v)) return false;
    addr_ += unzigzag(v);
    e.addr = addr_;
    e.new_addr = 0;
    e.size = 0;
    if (e.kind == 'R') {
      if (!get(&v)) return false;
      addr_ += unzigzag(v);
      e.new_addr = addr_;
    }
    if (e.kind != 'F' && !get(&e.size)) return false;
    return e.kind == 'A' || e.kind == 'F' || e.kind == 'R';
  }

 private:
  static std::uint64_t unzigzag(std::uint64_t v) { return (v >> 1) ^ (~(v & 1) + 1); }
  bool get(std::uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64 && p_ < end_; shift += 7) {
      const unsigned char b = *p_++;
      *v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;
  }
  const unsigned char* p_;
  const unsigned char* end_;
  std::uint64_t seq_;
  std::uint64_t addr_ = 0;
};

void child_after_fork() { internal::g_recording.store(false); }

// ---- finalisation ----

/// Address -> block id, open addressing with linear probing; capacity a power of two, at most half full.
class AddressTable {
 public:
  bool init(std::size_t max_live) {
    capacity_ = std::bit_ceil(std::max<std::size_t>(1024, 2 * max_live + 1));
    void* m = mmap(nullptr, capacity_ * sizeof(Entry), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return false;
    entries_ = static_cast<Entry*>(m);  // zero-filled: key 0 is "empty" (malloc never returns address 0)
    return true;
  }
  ~AddressTable() {
    if (entries_ != nullptr) munmap(entries_, capacity_ * sizeof(Entry));
  }
  /// The id of live address `a`, or 0 if it is not live.
  std::uint64_t find(std::uint64_t a) const {
    for (std::size_t i = home(a);; i = (i + 1) & (capacity_ - 1)) {
      if (entries_[i].key == a) return entries_[i].id;
      if (entries_[i].key == 0) return 0;
    }
  }
  void insert(std::uint64_t a, std::uint64_t id) {
    std::size_t i = home(a);
    while (entries_[i].key != 0 && entries_[i].key != a) i = (i + 1) & (capacity_ - 1);
    entries_[i] = Entry{a, id};
  }
  /// Removes `a` and returns its id (0 if absent). Backward-shift deletion keeps every probe chain unbroken.
  std::uint64_t erase(std::uint64_t a) {
    std::size_t i = home(a);
    while (entries_[i].key != a) {
      if (entries_[i].key == 0) return 0;
      i = (i + 1) & (capacity_ - 1);
    }
    const std::uint64_t id = entries_[i].id;
    std::size_t j = i;
    while (true) {
      j = (j + 1) & (capacity_ - 1);
      if (entries_[j].key == 0) break;
      const std::size_t h = home(entries_[j].key);
      // Move entry j back into the hole at i unless its home lies cyclically in (i, j].
      const bool stays = i <= j ? (i < h && h <= j) : (i < h || h <= j);
      if (!stays) {
        entries_[i] = entries_[j];
        i = j;
      }
    }
    entries_[i] = Entry{0, 0};
    return id;
  }

 private:
  struct Entry {
    std::uint64_t key;
    std::uint64_t id;
  };
  // Keeps neighbouring addresses in neighbouring slots (malloc hands out nearby addresses in bursts, so the
  // table is walked mostly sequentially: about 4x fewer cache misses than a mixing hash on a Python trace); the
  // high bits are folded in so that heaps 2^k apart do not pile onto the same slots.
  std::size_t home(std::uint64_t a) const {
    return static_cast<std::size_t>((a >> 4) ^ (a >> 28) ^ (a >> 40)) & (capacity_ - 1);
  }
  Entry* entries_ = nullptr;
  std::size_t capacity_ = 0;
};

/// Buffered writer of trace events to a file descriptor.
class TraceWriter {
 public:
  explicit TraceWriter(int fd) : fd_(fd) {}
  ~TraceWriter() { flush(); }
  void bytes(const void* p, std::size_t n) {
    if (used_ + n > sizeof buf_) flush();
    std::memcpy(buf_ + used_, p, n);
    used_ += n;
  }
  void event(const TraceEvent& e) {
    std::byte tmp[kMaxEventBytes];
    bytes(tmp, encode(e, tmp));
    if (e.kind != EventKind::kEnd) ++events_;
  }
  void flush() {
    write_all(fd_, buf_, used_);
    total_ += used_;
    used_ = 0;
  }
  std::uint64_t events() const { return events_; }
  std::uint64_t total() const { return total_ + used_; }

 private:
  int fd_;
  std::size_t used_ = 0;
  std::uint64_t events_ = 0;
  std::uint64_t total_ = 0;
  unsigned char buf_[1 << 16];
};

std::uint8_t align_log2_of(std::size_t align) {
  if (align <= alignof(std::max_align_t)) return 0;
  return static_cast<std::uint8_t>(std::min<int>(std::countr_zero(std::bit_ceil(align)), kMaxAlignLog2));
}

double seconds_since(const timespec& t0) {
  timespec t1{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
  return static_cast<double>(t1.tv_sec - t0.tv_sec) + static_cast<double>(t1.tv_nsec - t0.tv_nsec) * 1e-9;
}

void finalise() {
  timespec t0{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
  struct stat st {};
  if (fstat(g_raw_fd, &st) != 0) return;
  const auto file_bytes = static_cast<std::size_t>(st.st_size);
  const unsigned char* raw = nullptr;
  if (file_bytes > 0) {
    void* m = mmap(nullptr, file_bytes, PROT_READ, MAP_PRIVATE | MAP_POPULATE, g_raw_fd, 0);
    if (m == MAP_FAILED) {
      say("nostd-alloc: cannot map the raw trace; it is left in place\n");
      return;
    }
    raw = static_cast<const unsigned char*>(m);
  }
  // First pass: the chunks, and the most blocks live at once (counted on addresses) to size the table.
  std::size_t chunks = 0;
  std::size_t live = 0;
  std::size_t max_live = 0;
  std::size_t pos = 0;
  while (pos + sizeof(ChunkHeader) <= file_bytes) {
    ChunkHeader h;
    std::memcpy(&h, raw + pos, sizeof h);
    if (h.magic != kChunkMagic || h.bytes > file_bytes - pos - sizeof h) break;
    ChunkCursor c(raw + pos + sizeof h, raw + pos + sizeof h + h.bytes, h.first_seq);
    RawEvent e;
    while (c.next(e)) {
      if (e.kind == 'A') max_live = std::max(max_live, ++live);
      if (e.kind == 'F' && live > 0) --live;
    }
    ++chunks;
    pos += sizeof h + h.bytes;
  }
  if (pos != file_bytes) say("nostd-alloc: the raw trace has a damaged chunk; the trace stops before it\n");
  const std::size_t runs = chunks;
  // A min-heap of chunk cursors ordered by the sequence number of the event each holds: every chunk is in
  // order, so merging them restores the global order without sorting.
  struct Cursor {
    ChunkCursor chunk;
    RawEvent current;
  };
  const std::size_t heap_bytes = std::max<std::size_t>(chunks, 1) * sizeof(Cursor);
  void* hm = mmap(nullptr, heap_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (hm == MAP_FAILED) {
    say("nostd-alloc: out of memory finalising the trace; the raw trace is left in place\n");
    return;
  }
  Cursor* heap = static_cast<Cursor*>(hm);
  std::size_t heap_size = 0;
  auto key = [&](const Cursor& c) { return c.current.seq; };
  auto sift_down = [&](std::size_t i) {
    while (true) {
      std::size_t m = i;
      const std::size_t l = 2 * i + 1;
      const std::size_t r = l + 1;
      if (l < heap_size && key(heap[l]) < key(heap[m])) m = l;
      if (r < heap_size && key(heap[r]) < key(heap[m])) m = r;
      if (m == i) return;
      std::swap(heap[i], heap[m]);
      i = m;
    }
  };
  for (std::size_t p = 0; p < pos;) {
    ChunkHeader h;
    std::memcpy(&h, raw + p, sizeof h);
    Cursor* c = new (&heap[heap_size])
        Cursor{ChunkCursor(raw + p + sizeof h, raw + p + sizeof h + h.bytes, h.first_seq), RawEvent{}};
    if (c->chunk.next(c->current)) ++heap_size;
    p += sizeof h + h.bytes;
  }
  for (std::size_t i = heap_size; i-- > 0;) sift_down(i);
  RawEvent out_event;
  auto next_event = [&]() -> const RawEvent* {
    if (heap_size == 0) return nullptr;
    out_event = heap[0].current;
    if (!heap[0].chunk.next(heap[0].current)) heap[0] = heap[--heap_size];
    sift_down(0);
    return &out_event;
  };
  AddressTable table;
  if (!table.init(max_live + 16)) {
    say("nostd-alloc: out of memory finalising the trace; the raw trace is left in place\n");
    return;
  }
  const int out = open(g_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) {
    say("nostd-alloc: cannot create the trace file\n");
    return;
  }
  std::uint64_t next_id = 1;
  std::uint64_t unmatched = 0;  // frees or reallocs of blocks allocated before recording started
  std::uint64_t reused = 0;     // an address handed out again before its free was seen
  {
    TraceWriter w(out);
    w.bytes(kTraceMagic.data(), kTraceMagic.size());
    while (const RawEvent* next = next_event()) {
      const RawEvent& e = *next;
      const char kind = e.kind;
      const std::uint8_t align = e.align_log2;
      if (kind == 'A') {
        if (const std::uint64_t old = table.erase(e.addr)) {
          ++reused;
          w.event(TraceEvent{EventKind::kFree, 0, old, 0});
        }
        table.insert(e.addr, next_id);
        w.event(TraceEvent{EventKind::kAllocate, align, next_id++, e.size});
      } else if (kind == 'F') {
        if (const std::uint64_t id = table.erase(e.addr)) {
          w.event(TraceEvent{EventKind::kFree, 0, id, 0});
        } else {
          ++unmatched;
        }
      } else if (kind == 'R') {
        std::uint64_t id = table.erase(e.addr);
        if (id == 0) {  // a block from before recording: its realloc is, for the trace, an allocation
          ++unmatched;
          if (const std::uint64_t old = table.erase(e.new_addr)) w.event(TraceEvent{EventKind::kFree, 0, old, 0});
          table.insert(e.new_addr, next_id);
          w.event(TraceEvent{EventKind::kAllocate, 0, next_id++, e.size});
          continue;
        }
        if (e.new_addr != e.addr) {
          if (const std::uint64_t old = table.erase(e.new_addr)) {
            ++reused;
            w.event(TraceEvent{EventKind::kFree, 0, old, 0});
          }
        }
        table.insert(e.new_addr, id);
        w.event(TraceEvent{EventKind::kReallocate, 0, id, e.size});
      }
    }
    w.event(TraceEvent{EventKind::kEnd, 0, w.events(), 0});
    w.flush();
    static char msg[sizeof g_path + 600];  // static: no large stack frame inside a destructor
    std::snprintf(msg, sizeof msg,
                  "nostd-alloc: trace of %llu events (%llu bytes) written to %s in %.2f CPU-s (%zu runs merged); %llu "
                  "frees/reallocs of blocks from before recording skipped, %llu reordered frees, %llu threads "
                  "unrecorded\n",
                  static_cast<unsigned long long>(w.events()), static_cast<unsigned long long>(w.total()), g_path,
                  seconds_since(t0), runs, static_cast<unsigned long long>(unmatched),
                  static_cast<unsigned long long>(reused), static_cast<unsigned long long>(g_lost_threads.load()));
    say(msg);
  }
  close(out);
  munmap(hm, heap_bytes);
  if (raw != nullptr) munmap(const_cast<unsigned char*>(raw), file_bytes);
  unlink(g_raw_path);
}

}  // namespace

bool malloc_recorder_start(const char* path) {
  if (internal::g_recording.load() || g_raw_fd >= 0) return true;
  // Expand %p into the process id.
  std::size_t o = 0;
  for (const char* p = path; *p != 0 && o + 24 < sizeof g_path; ++p) {
    if (p[0] == '%' && p[1] == 'p') {
      o += static_cast<std::size_t>(std::snprintf(g_path + o, sizeof g_path - o, "%d", static_cast<int>(getpid())));
      ++p;
    } else {
      g_path[o++] = *p;
    }
  }
  g_path[o] = 0;
  std::snprintf(g_raw_path, sizeof g_raw_path, "%s.%d.raw", g_path, static_cast<int>(getpid()));
  g_raw_fd = open(g_raw_path, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (g_raw_fd < 0) {
    say("nostd-alloc: cannot create the raw trace file next to NOSTD_ALLOC_TRACE; not recording\n");
    return false;
  }
  g_owner = getpid();
  pthread_atfork(nullptr, nullptr, child_after_fork);
  internal::g_recording.store(true);
  return true;
}

bool malloc_recorder_start_from_env() {
  const char* path = std::getenv(kTraceEnvVar);
  if (path == nullptr || *path == 0) return false;
  return malloc_recorder_start(path);
}

void malloc_recorder_allocated(void* p, std::size_t size, std::size_t align) {
  record('A', align_log2_of(align), reinterpret_cast<std::uintptr_t>(p), 0, size);
}

void malloc_recorder_freeing(void* p) { record('F', 0, reinterpret_cast<std::uintptr_t>(p), 0, 0); }

void malloc_recorder_reallocated(void* old_ptr, void* new_ptr, std::size_t new_size) {
  record('R', 0, reinterpret_cast<std::uintptr_t>(old_ptr), reinterpret_cast<std::uintptr_t>(new_ptr), new_size);
}

void malloc_recorder_stop() {
  if (g_raw_fd < 0 || getpid() != g_owner) return;
  if (g_stopped.exchange(true)) return;
  internal::g_recording.store(false);  // seq_cst: a thread that set busy before this sees it and backs off
  const std::size_t threads = std::min(g_thread_count.load(), kMaxThreads);
  for (std::size_t i = 0; i < threads; ++i) {
    ThreadBuffer* b = g_threads[i];
    if (b == nullptr) continue;
    while (b->busy.load() != 0) {
    }
    flush(b);
  }
  finalise();
  close(g_raw_fd);
}

}  // namespace nostd::record
