// platform/malloc/malloc_door.cc — the drop-in malloc's runtime: one set of arenas per check level (the level is
// chosen once, at the first call), thread-to-arena assignment, growth and the fallback to another arena when it fails,
// huge blocks, fork handlers, the exit report.
#include "platform/malloc/malloc_door.h"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "alloc/check/basic_checks.h"
#include "alloc/check/hardened_checks.h"
#include "alloc/check/no_checks.h"
#include "alloc/heap_stats.h"
#include "alloc/internal/optimize.h"
#include "platform/getrandom_secret.h"
#include "platform/malloc/arena.h"
#include "platform/malloc/chunk_map.h"
#include "platform/malloc/errno_kept.h"
#include "platform/malloc/huge_block.h"
#include "platform/malloc/malloc_config.h"
#include "platform/malloc/malloc_heap.h"
#include "platform/malloc/malloc_hook.h"
#include "platform/malloc/report_and_abort.h"
#include "platform/malloc/stderr_line.h"
#include "record/malloc_recorder.h"

// POSIX has the program declare it (<unistd.h> does only under _GNU_SOURCE); init() reads it for misspelt names.
extern "C" char** environ;

namespace nostd::malloc_door {
namespace {

// ---- process-wide state (static storage, zero- or constant-initialised: nothing runs before the first call) ----

ChunkMap g_chunks;  // 2 MiB of .bss, touched a page at a time
constinit HugeBlocks g_huge;
constinit MallocConfig g_config;
constinit std::atomic<unsigned> g_next_arena{0};   // round-robin assignment of threads to arenas
constinit std::atomic<std::size_t> g_failures{0};  // allocations that returned nullptr
constinit std::size_t g_page_bytes = 4096;         // the system page size, read at init
constinit SavedStderr g_exit_stderr;               // where the exit lines go (kept only when one is asked for)

// 0: not initialised, 1: a thread is initialising, 2: ready.
constinit std::atomic<int> g_state{0};

// The arena this thread allocates from (kNoArena until its first allocation). initial-exec: the library is loaded
// at startup (LD_PRELOAD or linked in), so its TLS sits in the static block and is reached without
// __tls_get_addr, which could allocate.
constexpr std::uint8_t kNoArena = 0xff;
[[gnu::tls_model("initial-exec")]] constinit thread_local std::uint8_t t_arena = kNoArena;

static_assert(kMaxArenas < kNoArena, "arena indices must leave kNoArena free");

// Reports through the same path as a heap's check policy, for faults found outside a heap.
[[noreturn]] void fault(AllocError error, const void* where, const char* what) noexcept {
  ReportAndAbort::on_fault(HeapFault{error, where, what});
}

// How a call that checks a block names its misuses (checked_usable_size): a freed block, a pointer never returned,
// a block whose header was overwritten.
struct CallWords {
  AllocError freed_error;    // what a freed block is reported as: a double free for realloc, else an invalid pointer
  const char* freed;         // an arena block freed already
  const char* foreign;       // in an arena chunk, but no block starts there
  const char* unregistered;  // outside every chunk and not a live huge block: never one, or freed already
  const char* corrupted;     // a header the program overwrote
};
constexpr CallWords kUsableSizeWords{AllocError::kInvalidPointer, "malloc_usable_size of a freed block",
                                     "malloc_usable_size of a pointer malloc never returned",
                                     "malloc_usable_size of a pointer malloc never returned, or freed already",
                                     "malloc_usable_size of a block whose header was overwritten"};
constexpr CallWords kReallocWords{
    AllocError::kDoubleFree, "realloc of a freed block", "realloc of a pointer malloc never returned",
    "realloc of a pointer malloc never returned, or freed already", "realloc of a block whose header was overwritten"};

// Reports what try_usable_size found wrong with `ptr`, in `call`'s words.
[[noreturn]] void report_bad_block(AllocError error, const void* ptr, const CallWords& call) noexcept {
  switch (error) {
    case AllocError::kDoubleFree:
      fault(call.freed_error, ptr, call.freed);
    case AllocError::kCorrupted:
      fault(AllocError::kCorrupted, ptr, call.corrupted);
    default:
      fault(AllocError::kInvalidPointer, ptr, call.foreign);
  }
}

// ---- one set of arenas per check level ----

template <class Check>
struct ArenaSet {
  using Heap = MallocHeap<Check>;
  static constinit inline Arena<Heap> arenas[kMaxArenas];

  // The arena for an allocation by this thread, locked: the one it used last if free, else the first free one
  // (which becomes its arena), else it waits for its own. Two threads thus settle on two arenas after at most one
  // collision, and a thread that migrates keeps its arena.
  static Arena<Heap>& lock_for_this_thread() noexcept {
    const unsigned count = g_config.arenas;
    unsigned mine = t_arena;
    if (mine >= count) [[unlikely]] {
      mine = g_next_arena.fetch_add(1, std::memory_order_relaxed) % count;
      t_arena = static_cast<std::uint8_t>(mine);
    }
    if (arenas[mine].try_lock()) [[likely]]
      return arenas[mine];
    for (unsigned step = 1; step < count; ++step) {
      const unsigned other = (mine + step) % count;
      if (arenas[other].try_lock()) {
        t_arena = static_cast<std::uint8_t>(other);
        return arenas[other];
      }
    }
    arenas[mine].lock();
    return arenas[mine];
  }

  // A block from allocate_elsewhere and the index of the arena that served it.
  struct Served {
    void* block;     // nullptr when no arena could
    unsigned arena;  // meaningful only with a block
  };

  // The fallback once arena `full` has failed a request because it could not grow (Arena::allocate or reallocate
  // gave nullptr: for a request below kHugeThreshold one fresh chunk always holds it, so the system refused the chunk,
  // e.g. under RLIMIT_AS): the first other arena that can serve it from the chunks it already has, tried in index
  // order after `full`, as glibc's arena_get_retry retries in another arena. The caller holds no arena and each is
  // locked alone, so allocation still takes one arena at a time (the fork handlers' lock-all order cannot meet it).
  // Trade-offs: no arena maps a chunk here. The system has just refused one, a chunk mapped for another arena would
  // serve no more than one for `full`, and asking again in every arena would cost 2-3 refused mmap calls per arena on
  // each call that fails. Arenas without a chunk are skipped without a call into their heap (nothing to serve,
  // and at `hardened` a heap's first use draws its key with getrandom). O(arenas) lock round trips, paid only when an
  // arena could not grow.
  static Served allocate_elsewhere(unsigned full, std::size_t size, std::size_t align) noexcept {
    const unsigned count = g_config.arenas;
    for (unsigned step = 1; step < count; ++step) {
      const unsigned other = (full + step) % count;
      Arena<Heap>& arena = arenas[other];
      arena.lock();
      void* const block = arena.chunks() != 0 ? arena.allocate_without_growth(size, align) : nullptr;
      arena.unlock();
      if (block != nullptr) return {block, other};
    }
    return {nullptr, full};
  }

  static void* allocate(std::size_t size, std::size_t align) noexcept {
    Arena<Heap>& arena = lock_for_this_thread();
    const auto mine = static_cast<unsigned>(&arena - arenas);
    void* const block = arena.allocate(size, align, g_chunks, static_cast<std::uint8_t>(mine + 1));
    arena.unlock();
    if (block != nullptr) [[likely]]
      return block;
    const Served served = allocate_elsewhere(mine, size, align);
    // The thread moves to the arena that served it, as lock_for_this_thread moves it off a busy one: staying, it would
    // repeat the refused growth (2-3 mmap calls) on every request its own heap cannot serve. Where that arena grows
    // again later, it grows as the thread's own.
    if (served.block != nullptr) t_arena = static_cast<std::uint8_t>(served.arena);
    return served.block;
  }

  NOSTD_HOT static void deallocate(std::uint8_t owner, void* ptr) noexcept {
    // The size read below comes before the heap's pointer check, and reads the header in front of `ptr`: for a
    // pointer in a chunk's first bytes that is the page before the chunk, which may be unmapped. No block starts
    // there (the region header comes first), so such a pointer is refused before anything is read.
    if ((reinterpret_cast<std::uintptr_t>(ptr) & (kChunkBytes - 1)) < Heap::Tags::kHeaderSize) [[unlikely]] {
      fault(AllocError::kInvalidPointer, ptr, "free of a pointer malloc never returned (the start of an arena chunk)");
    }
    Arena<Heap>& arena = arenas[owner - 1];
    arena.lock();
    // The block's size, for the release interval: a header read the free is about to make anyway. (A bad pointer
    // yields a meaningless size here, at worst an early release; the free below then reports it.)
    const std::size_t bytes = arena.heap().usable_size(ptr);
    arena.heap().deallocate(ptr);
    arena.note_freed(bytes, g_page_bytes);
    arena.unlock();
  }

  // malloc_trim: every arena gives back the pages of its large free blocks now.
  static std::size_t release_all() noexcept {
    std::size_t bytes = 0;
    for (unsigned i = 0; i < g_config.arenas; ++i) {
      arenas[i].lock();
      if (arenas[i].chunks() != 0) bytes += arenas[i].release_pages(g_page_bytes);
      arenas[i].unlock();
    }
    return bytes;
  }

  // realloc of a block of arena `owner` to an arena size: in its own arena (in place or moved there, growing it if
  // needed); when that arena cannot grow, moved to another arena that has room (allocate_elsewhere), then freed. The
  // move keeps malloc's alignment only, as glibc's realloc and the moves between arena and mapping do; a block from
  // memalign keeps its alignment only within its own arena. nullptr when no arena can: the block is then untouched.
  static void* reallocate(std::uint8_t owner, void* ptr, std::size_t size) noexcept {
    Arena<Heap>& arena = arenas[owner - 1];
    arena.lock();
    void* const block = arena.reallocate(ptr, size, g_chunks, owner);
    // A failed reallocate has checked `ptr` (at `basic` and `hardened`) and left it as it was: its size is read now,
    // under the same lock, for the copy below.
    const std::size_t old_usable = block == nullptr ? arena.heap().usable_size(ptr) : 0;
    arena.unlock();
    if (block != nullptr) [[likely]]
      return block;
    const Served moved = allocate_elsewhere(owner - 1u, size, kMallocAlignment);
    if (moved.block == nullptr) return nullptr;
    std::memcpy(moved.block, ptr, std::min(old_usable, size));
    deallocate(owner, ptr);
    return moved.block;
  }

  // malloc_usable_size, and realloc's moves: the pointer is checked first (try_usable_size, at every level), since a
  // program may pass any pointer: an interior or freed one is reported, not answered with a size read from payload
  // bytes. `call` words the report.
  static std::size_t usable_size(std::uint8_t owner, void* ptr, const CallWords& call) noexcept {
    Arena<Heap>& arena = arenas[owner - 1];
    arena.lock();
    const Result<std::size_t> bytes = arena.heap().try_usable_size(ptr);
    arena.unlock();
    if (!bytes) report_bad_block(bytes.error(), ptr, call);
    return *bytes;
  }

  // Fork: the child must not inherit an arena locked by a thread that does not exist there. Locks in index order
  // (allocation takes one arena at a time, so no order can deadlock against it), each held for the fork
  // (ArenaLock::lock_for_fork: the forking thread's own mallocs pass them until the parent or child handler).
  static void lock_all() noexcept {
    for (unsigned i = 0; i < g_config.arenas; ++i) arenas[i].lock_for_fork();
  }
  static void unlock_all() noexcept {
    for (unsigned i = 0; i < g_config.arenas; ++i) arenas[i].unlock_after_fork();
  }
  static void reset_all() noexcept {
    for (unsigned i = 0; i < g_config.arenas; ++i) arenas[i].reset_lock();
  }

  // The exit report: sums over the arenas that ever mapped a chunk.
  static void report(StderrLine& line) noexcept {
    HeapStats sum;
    std::size_t used_arenas = 0, chunks = 0, waits = 0, releases = 0;
    for (unsigned i = 0; i < g_config.arenas; ++i) {
      waits += arenas[i].waits();  // before our own lock() below, which may add one
      arenas[i].lock();
      if (arenas[i].chunks() != 0) {
        const HeapStats s = arenas[i].heap().stats();
        ++used_arenas;
        chunks += arenas[i].chunks();
        releases += arenas[i].releases();
        sum.capacity += s.capacity;
        sum.bytes_in_use += s.bytes_in_use;
        sum.peak_bytes_in_use += s.peak_bytes_in_use;
        sum.live_allocations += s.live_allocations;
        sum.free_blocks += s.free_blocks;
        sum.cached_blocks += s.cached_blocks;
        sum.total_allocations += s.total_allocations;
        sum.total_frees += s.total_frees;
      }
      arenas[i].unlock();
    }
    line << " arenas=" << used_arenas << "/" << std::size_t{g_config.arenas} << " chunks=" << chunks
         << " allocations=" << sum.total_allocations << " frees=" << sum.total_frees << " live=" << sum.live_allocations
         << " in_use_bytes=" << sum.bytes_in_use << " peak_bytes_sum=" << sum.peak_bytes_in_use
         << " free_blocks=" << sum.free_blocks << " cached_blocks=" << sum.cached_blocks << " lock_waits=" << waits
         << " page_releases=" << releases;
  }

  // validate() on every arena; the first fault found.
  static ValidateResult validate_all() noexcept {
    for (unsigned i = 0; i < g_config.arenas; ++i) {
      arenas[i].lock();
      const ValidateResult result = arenas[i].heap().validate();
      arenas[i].unlock();
      if (!result) return result;
    }
    return {};
  }
};

using NoCheckArenas = ArenaSet<NoChecks>;
using BasicArenas = ArenaSet<BasicChecks<ReportAndAbort>>;
// The key of each arena's check words comes from getrandom(2) (a system call: no allocation), drawn on the arena's
// first use.
using HardenedArenas = ArenaSet<HardenedChecks<ReportAndAbort, GetrandomSecret>>;

// Calls `f.template operator()<Set>()` with the ArenaSet of the chosen check level. The level is fixed after
// init, so the branch is always predicted.
template <class F>
decltype(auto) with_arenas(F&& f) {
  switch (g_config.check) {
    case CheckChoice::kNone:
      return f.template operator()<NoCheckArenas>();
    case CheckChoice::kHardened:
      return f.template operator()<HardenedArenas>();
    case CheckChoice::kBasic:
      break;
  }
  return f.template operator()<BasicArenas>();
}

inline void ensure_init() noexcept;  // below: starts the drop-in at the first call

// The huge blocks' registry is locked after the arenas: nothing takes an arena while holding it. The drop-in is started
// first if no call has started it yet (ensure_init; an initialisation running in another thread is waited for there):
// a prepare that found it not started and locked nothing could meet another thread starting it and taking an arena
// before the fork, and a child forked in the middle of an initialisation would find it unfinished for ever.
// Once every lock is held, the forking thread passes them (ArenaLock::begin_fork) until its parent or child handler:
// the handlers pthread_atfork runs in between, those registered before ours, may call malloc. Ours register from a
// constructor (below), but a library the program needs is started before the drop-in, and a handler its constructor
// registers runs after our prepare handler and before our parent and child handlers (//tests/preload:atfork_test).
void fork_prepare() noexcept {
  ensure_init();
  with_arenas([]<class Set>() { Set::lock_all(); });
  g_huge.registry().lock_for_fork();
  ArenaLock::begin_fork();
}
void fork_parent() noexcept {
  ArenaLock::end_fork();
  g_huge.registry().unlock_after_fork();
  with_arenas([]<class Set>() { Set::unlock_all(); });
}
void fork_child() noexcept {
  ArenaLock::end_fork();
  g_huge.registry().reset_lock();
  with_arenas([]<class Set>() { Set::reset_all(); });
}

// The fork handlers are registered when the library is loaded, before the program's constructors and main run, not at
// the first call. pthread_atfork runs prepare handlers in the reverse order of registration and parent and child
// handlers in that order, so ours, registered before the program's, lock the arenas after every handler the program
// registers and release them before any of its handlers runs: each of those may call malloc (glibc's malloc allows
// it). Registered at the first call, ours came after a handler that the program registered before its first malloc
// (from a constructor), whose malloc then waited for ever for an arena the same thread held
// (//tests/preload:atfork_test). Priority 101, the first a program may use: linked in statically, this object comes
// after the program's own in the link, and its constructor would run after theirs (the linker keeps unprioritised
// constructors in input order and runs prioritised ones first). Registering allocates nothing here (glibc keeps the
// first 48 handlers in place); if it did, that malloc would start the drop-in, which registers nothing itself.
[[gnu::constructor(101)]] void register_fork_handlers() noexcept {
  ::pthread_atfork(fork_prepare, fork_parent, fork_child);
}

// The header of live huge block `ptr` (registered, so its pages are mapped), checked for the program's writes; an
// overwritten header is reported as `what`.
HugeHeader* intact_or_fault(HugeHeader* huge, void* ptr,
                            const char* what = "huge block's header was overwritten") noexcept {
  if (!HugeBlocks::intact(huge, ptr)) fault(AllocError::kCorrupted, ptr, what);
  return huge;
}

// The observer that records (installed only when NOSTD_ALLOC_TRACE is set). The hook reports a free after the block
// was released, so in a multi-threaded program another thread's allocation of the same address can be numbered
// first; the recorder's finaliser keeps the trace valid then and counts it ("reordered frees").
// The recorder makes system calls (open of its part file at the first flush, write, and what it says when they fail):
// their errno must not reach the program, which may just have been given ENOMEM by the call being recorded.
void record_call(const MallocEvent& e) noexcept {
  const ErrnoKept kept;
  void* const in = const_cast<void*>(e.in);
  void* const out = const_cast<void*>(e.out);
  switch (e.call) {
    case MallocCall::kFree:
    case MallocCall::kOperatorDelete:
      if (in != nullptr) record::malloc_recorder_freeing(in);
      return;
    case MallocCall::kRealloc:
    case MallocCall::kReallocArray:
      if (in == nullptr) {
        if (out != nullptr) record::malloc_recorder_allocated(out, e.size, 0);
      } else if (out != nullptr) {
        record::malloc_recorder_reallocated(in, out, e.size);
      } else if (e.size == 0) {
        record::malloc_recorder_freeing(in);
      }
      return;
    default:
      if (out != nullptr) record::malloc_recorder_allocated(out, e.size, e.align);
      return;
  }
}

// First call: read the settings, then (with the state already "ready", since the recorder's start may allocate and
// must find a working malloc) start the recorder. A second thread arriving meanwhile waits; the same
// thread cannot re-enter before "ready" because getenv does not allocate. errno is kept: the call that starts it
// succeeds or sets errno itself, but init makes system calls that can fail on the way (the write of an "ignoring"
// line to a closed stderr: EBADF; the recorder's stat of a trace path that does not exist yet: ENOENT).
[[gnu::noinline, gnu::cold]] void init() noexcept {
  const ErrnoKept kept;
  int expected = 0;
  if (!g_state.compare_exchange_strong(expected, 1, std::memory_order_acquire)) {
    while (g_state.load(std::memory_order_acquire) != 2) {
    }
    return;
  }
  g_config = read_malloc_config([](const char* name) { return static_cast<const char*>(::getenv(name)); });
  // The program may close fd 2 before the exit lines are written (ls, cat, sort do): keep the stderr it started
  // with, but only when there is a line to write, so that a process that asked for none has no extra descriptor.
  if (g_config.validate_at_exit || g_config.print_stats) g_exit_stderr.keep();
  g_page_bytes = page_size();
  g_state.store(2, std::memory_order_release);
  for (unsigned i = 0; i < g_config.ignored_count; ++i) {
    const IgnoredVariable& ignored = g_config.ignored[i];
    StderrLine line;
    line << "nostd-malloc: ignoring " << ignored.name << "=" << ::getenv(ignored.name)
         << " (accepted: " << ignored.accepted << ")";
    line.write();
  }
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view unknown = unknown_malloc_variable(*entry);
    if (unknown.empty()) continue;
    // The value is cut to 64 bytes so that the line keeps its explanation (StderrLine holds 512). `unknown` is a
    // prefix of the entry: remove_prefix, not substr(unknown.size()), whose out-of-range throw linked libstdc++'s
    // exception machinery into the library and made it need libgcc_s (//tests/preload:libc_only_test).
    std::string_view value(*entry);
    value.remove_prefix(unknown.size());
    StderrLine line;
    line << "nostd-malloc: ignoring " << unknown << value.substr(0, 64) << (value.size() > 64 ? "..." : "")
         << " (unknown variable; " << kKnownVariables << ")";
    line.write();
  }
  // Trace recording (issue 14): NOSTD_ALLOC_TRACE names the trace file (record/malloc_recorder.h). Unset, no
  // observer is installed and every call pays only observe()'s one load.
  if (record::malloc_recorder_start_from_env()) set_malloc_observer(&record_call);
}

inline void ensure_init() noexcept {
  if (g_state.load(std::memory_order_acquire) != 2) [[unlikely]]
    init();
}

// At exit (the library's destructor runs after the program's own atexit handlers and static destructors).
[[gnu::destructor]] void report_at_exit() noexcept {
  if (g_state.load(std::memory_order_acquire) != 2) return;
  record::malloc_recorder_stop();  // writes the trace, if recording (nothing otherwise)
  // The stderr the program started with, even if it closed fd 2 since (fd 2 itself if none was kept).
  const int fd = g_exit_stderr.fd();
  if (g_config.validate_at_exit) {
    const ValidateResult result = validate();
    if (!result) ReportAndAbort::on_fault(result.error(), fd);
    StderrLine line;
    line << "nostd-malloc: validate ok (" << std::size_t{g_config.arenas} << " arenas)";
    line.write(fd);
  }
  if (g_config.print_stats) {
    StderrLine line;
    line << "nostd-malloc: check=" << to_string(g_config.check);
    with_arenas([&line]<class Set>() { Set::report(line); });
    const HugeBlocks::Counts huge = g_huge.counts();
    line << " huge_maps=" << huge.maps << " huge_unmaps=" << huge.unmaps << " huge_peak_bytes=" << huge.peak_bytes
         << " failed=" << g_failures.load(std::memory_order_relaxed);
    line.write(fd);
  }
}

// The bytes usable at `ptr` (not nullptr), any misuse reported in `call`'s words: arena blocks through the heap's
// pointer check, huge blocks through the registry.
std::size_t checked_usable_size(void* ptr, const CallWords& call) noexcept {
  if (const std::uint8_t owner = g_chunks.owner(ptr); owner != ChunkMap::kNoOwner) {
    if (owner > g_config.arenas) fault(AllocError::kInvalidPointer, ptr, "pointer in a chunk of no arena");
    return with_arenas([=, &call]<class Set>() { return Set::usable_size(owner, ptr, call); });
  }
  HugeHeader* const huge = g_huge.header_of(ptr);
  if (huge == nullptr) fault(AllocError::kInvalidPointer, ptr, call.unregistered);
  return intact_or_fault(huge, ptr, call.corrupted)->usable;
}

void* note(void* block) noexcept {
  if (block == nullptr) [[unlikely]]
    g_failures.fetch_add(1, std::memory_order_relaxed);
  return block;
}

}  // namespace

void* allocate(std::size_t size, std::size_t align) noexcept {
  ensure_init();
  if (size >= kHugeThreshold || align > kMaxArenaAlignment) [[unlikely]]
    return note(g_huge.allocate(size, align));
  return note(with_arenas([=]<class Set>() { return Set::allocate(size, align); }));
}

void deallocate(void* ptr) noexcept {
  if (ptr == nullptr) return;
  ensure_init();
  if (const std::uint8_t owner = g_chunks.owner(ptr); owner != ChunkMap::kNoOwner) [[likely]] {
    if (owner > g_config.arenas) fault(AllocError::kInvalidPointer, ptr, "pointer in a chunk of no arena");
    with_arenas([=]<class Set>() { Set::deallocate(owner, ptr); });
    return;
  }
  HugeHeader* const huge = g_huge.claim(ptr);
  if (huge == nullptr)
    fault(AllocError::kInvalidPointer, ptr,
          "free of a pointer malloc never returned (stack, global or foreign memory?) or of a huge block freed "
          "already");
  g_huge.free(intact_or_fault(huge, ptr));
}

void* reallocate(void* ptr, std::size_t size) noexcept {
  if (ptr == nullptr) return allocate(size, kMallocAlignment);
  ensure_init();
  const std::uint8_t owner = g_chunks.owner(ptr);
  if (owner != ChunkMap::kNoOwner && size < kHugeThreshold) [[likely]] {
    if (owner > g_config.arenas) fault(AllocError::kInvalidPointer, ptr, "pointer in a chunk of no arena");
    return note(with_arenas([=]<class Set>() { return Set::reallocate(owner, ptr, size); }));
  }
  HugeHeader* const huge = owner == ChunkMap::kNoOwner ? g_huge.header_of(ptr) : nullptr;
  if (owner == ChunkMap::kNoOwner && huge == nullptr) {
    fault(AllocError::kInvalidPointer, ptr, kReallocWords.unregistered);
  }
  if (huge != nullptr) intact_or_fault(huge, ptr, kReallocWords.corrupted);
  if (huge != nullptr && size >= kHugeThreshold && HugeBlocks::default_aligned(huge)) {
    return note(g_huge.resize(ptr, huge, size));  // mremap: no copy
  }
  // Between an arena and a mapping (either way), or a huge block with a large alignment: move. A huge block was
  // looked up and checked above; only an arena block is looked up here.
  const std::size_t old_usable = huge != nullptr ? huge->usable : checked_usable_size(ptr, kReallocWords);
  void* const moved = allocate(size, kMallocAlignment);
  if (moved == nullptr) return nullptr;
  std::memcpy(moved, ptr, std::min(old_usable, size));
  deallocate(ptr);
  return moved;
}

std::size_t usable_size(void* ptr) noexcept {
  if (ptr == nullptr) return 0;
  ensure_init();
  return checked_usable_size(ptr, kUsableSizeWords);
}

std::size_t release_free_memory() noexcept {
  ensure_init();
  return with_arenas([]<class Set>() { return Set::release_all(); });
}

ValidateResult validate() noexcept {
  ensure_init();
  return with_arenas([]<class Set>() { return Set::validate_all(); });
}

std::size_t page_size() noexcept { return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)); }

}  // namespace nostd::malloc_door
