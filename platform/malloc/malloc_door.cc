// platform/malloc/malloc_door.cc — the drop-in malloc's runtime: one set of arenas per check level (the level is
// chosen once, at the first call), thread-to-arena assignment, growth and the fallback to another arena when it fails,
// huge blocks, fork handlers, the exit report.
#include "platform/malloc/malloc_door.h"

#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "alloc/check/basic_checks.h"
#include "alloc/check/hardened_checks.h"
#include "alloc/check/no_checks.h"
#include "platform/getrandom_secret.h"
#include "platform/malloc/arena_set.h"
#include "platform/malloc/chunk_map.h"
#include "platform/malloc/errno_kept.h"
#include "platform/malloc/huge_block.h"
#include "platform/malloc/malloc_config.h"
#include "platform/malloc/malloc_heap.h"
#include "platform/malloc/malloc_hook.h"
#include "platform/malloc/report_and_abort.h"
#include "platform/malloc/stderr_line.h"
#include "platform/malloc/thread_exit_watch.h"
#include "record/malloc_recorder.h"

// POSIX has the program declare it (<unistd.h> does only under _GNU_SOURCE); init() reads it for misspelt names.
extern "C" char** environ;

namespace nostd::malloc_door {
namespace {

// A partial chunk (Arena::grow) must hold any request an arena serves, at its largest alignment, with room for the
// region header and block tags: the retry after a growth then always succeeds, as with a whole chunk.
// Above kHugeThreshold, once the threshold has risen, a partial chunk may be too small: allocate then maps the request
// on its own (allocate_large).
static_assert(kMinChunkBytes >= kHugeThreshold + 2 * kMaxArenaAlignment,
              "kMinChunkBytes: the smallest partial chunk must hold any arena request below kHugeThreshold (aligned to "
              "kMaxArenaAlignment) with its overhead");

// ---- process-wide state (static storage, zero- or constant-initialised: nothing runs before the first call) ----

ChunkMap g_chunks;  // 2 MiB of .bss, touched a page at a time
constinit HugeBlocks g_huge;
constinit MallocConfig g_config;
constinit std::atomic<std::size_t> g_failures{0};  // allocations that returned nullptr
// The huge threshold (huge_threshold() in malloc_door.h): kHugeThreshold..kMaxHugeThreshold, only ever raised
// (raise_huge_threshold) until mallopt fixes it (fix_huge_threshold), which also sets kThresholdFixed in the same word:
// a raise's compare-exchange then fails, so that a free running beside mallopt cannot overwrite the fixed value (a
// separate flag, read before the exchange, left that window open). Relaxed: it steers where a block goes, never whether
// it is valid (every free finds its block's owner through the chunk map, whatever the threshold was when it was
// allocated). Read through threshold_bytes, which clears the flag; only requests of kHugeThreshold or more read it.
constexpr std::size_t kThresholdFixed = ~(~std::size_t{0} >> 1);  // the word's top bit
static_assert(kMaxHugeThreshold < kThresholdFixed, "kThresholdFixed: a bit no threshold uses");
constinit std::atomic<std::size_t> g_huge_threshold{kHugeThreshold};
std::size_t threshold_bytes(std::size_t word) noexcept { return word & ~kThresholdFixed; }
constinit std::size_t g_page_bytes = 4096;  // the system page size, read at init
constinit SavedStderr g_exit_stderr;        // where the exit lines go (kept only when one is asked for)

// 0: not initialised, 1: a thread is initialising, 2: ready.
constinit std::atomic<int> g_state{0};

// The arena this thread allocates from (kNoArena until its first allocation). initial-exec: the library is loaded
// at startup (LD_PRELOAD or linked in), so its TLS sits in the static block and is reached without
// __tls_get_addr, which could allocate.
[[gnu::tls_model("initial-exec")]] constinit thread_local std::uint8_t t_arena = kNoArena;

// Reports through the same path as a heap's check policy, for faults found outside a heap.
[[noreturn]] void fault(AllocError error, const void* where, const char* what) noexcept {
  ReportAndAbort::on_fault(HeapFault{error, where, what});
}

// How malloc_usable_size and realloc word the misuses they find in a block (CallWords, arena_set.h).
constexpr CallWords kUsableSizeWords{AllocError::kInvalidPointer, "malloc_usable_size of a freed block",
                                     "malloc_usable_size of a pointer malloc never returned",
                                     "malloc_usable_size of a pointer malloc never returned, or freed already",
                                     "malloc_usable_size of a block whose header was overwritten"};
constexpr CallWords kReallocWords{
    AllocError::kDoubleFree, "realloc of a freed block", "realloc of a pointer malloc never returned",
    "realloc of a pointer malloc never returned, or freed already", "realloc of a block whose header was overwritten"};

// ---- one set of arenas per check level (arena_set.h) ----

// A thread's end, in the arena set of the chosen check level (ArenaSet::leave): below, after with_arenas.
void thread_ended() noexcept;
// Calls thread_ended in a thread that ends after its first allocation (ArenaSet::adopt asks); the key is created at
// init.
using ExitWatch = ThreadExitWatch<&thread_ended>;

// What the arena sets read of the process-wide state above. Each member is inlined into ArenaSet's, so the drop-in's
// hot path loads these globals directly, as when ArenaSet lived here (t_arena stays initial-exec TLS).
struct DoorEnvironment {
  static unsigned arena_count() noexcept { return g_config.arenas; }
  static ChunkMap& chunk_map() noexcept { return g_chunks; }
  static std::size_t page_bytes() noexcept { return g_page_bytes; }
  static std::uint8_t& thread_arena() noexcept { return t_arena; }
  static void watch_thread_exit() noexcept { ExitWatch::watch(); }
  [[noreturn]] static void fault(AllocError error, const void* where, const char* what) noexcept {
    malloc_door::fault(error, where, what);
  }
};

using NoCheckArenas = ArenaSet<NoChecks, DoorEnvironment>;
using BasicArenas = ArenaSet<BasicChecks<ReportAndAbort>, DoorEnvironment>;
// The key of each arena's check words comes from getrandom(2) (a system call: no allocation), drawn on the arena's
// first use.
using HardenedArenas = ArenaSet<HardenedChecks<ReportAndAbort, GetrandomSecret>, DoorEnvironment>;

// Calls `f.template operator()<Set>()` with the ArenaSet of the chosen check level. The level is fixed after
// init, so the branch is always predicted. Always inlined: malloc's instance (allocate_placed's) was a function of
// its own, a call and a return on every malloc (cachegrind, churn_bench: 5 instructions per malloc + free).
template <class F>
[[gnu::always_inline]] inline decltype(auto) with_arenas(F&& f) {
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

void thread_ended() noexcept {
  with_arenas([]<class Set>() { Set::leave(); });
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
  // No key left (a program that created PTHREAD_KEYS_MAX): ended threads stay counted in their arenas, which only
  // overstates (ArenaSet::residents).
  ExitWatch::create();
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
  // Trace recording (issue 14): NOSTD_ALLOC_TRACE names the trace file (record/malloc_recorder.h). Unset, the observer
  // is nullptr: malloc, free and operator new/delete tail-call the door, the other calls pay observe()'s one load.
  // Until now it was observer_not_started (malloc_hook.h), so that every call so far took the observed path.
  set_malloc_observer(record::malloc_recorder_start_from_env() ? &record_call : nullptr);
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
  if (g_config.print_stats) write_statistics(fd);
}

// The slow path of owner_of, for a pointer whose owner byte is above the arena count: a partial chunk's slot gives its
// arena for a pointer inside the chunk and kNoOwner for one in the unmapped tail, which a huge block or the program's
// own mmap may occupy (ChunkMap::owner_in_partial_slot); any other byte belongs to no arena and is reported. Out of
// line: only processes under an address-space limit have partial chunks. It reads the byte again rather than take it
// as an argument: passing it cost free's fast path a register copy.
[[gnu::noinline, gnu::cold]] std::uint8_t owner_beyond_arenas(const void* ptr) noexcept {
  const std::uint8_t owner = g_chunks.owner_in_partial_slot(ptr, g_chunks.owner(ptr));
  if (owner > g_config.arenas) fault(AllocError::kInvalidPointer, ptr, "pointer in a chunk of no arena");
  return owner;
}

// The arena owner (1..arenas) of the chunk holding `ptr`, or kNoOwner when no arena chunk holds it (a huge block, or
// memory malloc never returned). The fast path is the one load and compare that checked the byte before partial chunks
// existed: a partial slot's byte (ChunkMap::kPartialSlot or more) exceeds every arena count.
std::uint8_t owner_of(const void* ptr) noexcept {
  const std::uint8_t raw = g_chunks.owner(ptr);
  if (raw > g_config.arenas) [[unlikely]]
    return owner_beyond_arenas(ptr);
  return raw;
}

// The bytes usable at `ptr` (not nullptr), any misuse reported in `call`'s words: arena blocks through the heap's
// pointer check, huge blocks through the registry.
std::size_t checked_usable_size(void* ptr, const CallWords& call) noexcept {
  if (const std::uint8_t owner = owner_of(ptr); owner != ChunkMap::kNoOwner) {
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

// allocate_or_enomem's failure: errno ENOMEM, and nullptr counted by note(). Out of line, so that the allocation's own
// path needs no frame.
[[gnu::noinline, gnu::cold]] void* failed_with_enomem() noexcept {
  errno = ENOMEM;
  return note(nullptr);
}

// glibc's dynamic mmap threshold (its free of an mmapped chunk): a freed huge block whose extent (header to mapping
// end, what an arena would need for it) lies above the threshold and at most at kMaxHugeThreshold raises the threshold
// to that extent, so that the next request of the freed block's size comes from an arena. A block above the cap leaves
// it alone. Called before the unmap (the header is still readable).
void raise_huge_threshold(const HugeHeader* huge) noexcept {
  const std::size_t extent = huge->usable + sizeof(HugeHeader);
  if (extent > kMaxHugeThreshold) return;
  // A fixed threshold (kThresholdFixed set) compares above every extent: the loop ends without an exchange.
  std::size_t threshold = g_huge_threshold.load(std::memory_order_relaxed);
  while (extent > threshold && !g_huge_threshold.compare_exchange_weak(threshold, extent, std::memory_order_relaxed)) {
  }
}

// Unmaps live huge block `ptr`: takes it out of the registry (a pointer the registry does not hold is reported in the
// words of `unregistered`), checks its header and, when `raise` is set, raises the threshold (raise_huge_threshold).
// free raises it; realloc's move of a huge block does not: glibc's realloc unmaps the old chunk with munmap_chunk, and
// only its free adjusts the threshold (malloc/malloc.c, __libc_realloc and __libc_free). A block resized to another
// size tells nothing of a request of its old size to come. Always inlined, `raise` a constant at each call: free's code
// is the same as when this was written out in deallocate.
[[gnu::always_inline]] inline void free_huge(void* ptr, bool raise, const char* unregistered) noexcept {
  HugeHeader* const huge = g_huge.claim(ptr);
  if (huge == nullptr) fault(AllocError::kInvalidPointer, ptr, unregistered);
  intact_or_fault(huge, ptr);
  if (raise) raise_huge_threshold(huge);
  g_huge.free(huge);
}

// Requests of kHugeThreshold or more, or over-aligned. Below the raised threshold and at an arena alignment: from an
// arena, else (or when no arena can serve it: under RLIMIT_AS no arena may be able to grow, or the partial chunk it
// maps may be smaller than such a request, and before the threshold rose the request would have been mapped anyway) its
// own mapping (MallocDoorDeathTest.RequestNoArenaCanServeBelowTheRaisedThresholdIsMapped).
// kZeroed: calloc's; an arena's heap clears what it may have written (BasicHeap::allocate_zeroed), and a fresh
// mapping is zero already.
template <bool kZeroed>
[[gnu::noinline]] void* allocate_large(std::size_t size, std::size_t align) noexcept {
  if (align <= kMaxArenaAlignment && size < threshold_bytes(g_huge_threshold.load(std::memory_order_relaxed))) {
    if (void* const block = with_arenas([=]<class Set>() { return Set::template allocate<kZeroed>(size, align); })) {
      return block;
    }
  }
  return g_huge.allocate(size, align);
}

// Where allocate and allocate_zeroed find a block: the constant first, so that requests below kHugeThreshold never read
// the raised threshold.
template <bool kZeroed = false>
[[gnu::always_inline]] inline void* allocate_placed(std::size_t size, std::size_t align) noexcept {
  if (size >= kHugeThreshold || align > kMaxArenaAlignment) [[unlikely]]
    return allocate_large<kZeroed>(size, align);
  return with_arenas([=]<class Set>() { return Set::template allocate<kZeroed>(size, align); });
}

// free of a pointer no arena chunk holds: a huge block, or a misuse. Out of line: inlined, its registry lookup made
// every free of an arena block save and restore five registers.
[[gnu::noinline]] void deallocate_huge(void* ptr) noexcept {
  free_huge(ptr, /*raise=*/true,
            "free of a pointer malloc never returned (stack, global or foreign memory?) or of a huge block freed "
            "already");
}

}  // namespace

void* allocate(std::size_t size, std::size_t align) noexcept {
  ensure_init();
  return note(allocate_placed(size, align));
}

void* allocate_or_enomem(std::size_t size, std::size_t align) noexcept {
  ensure_init();
  if (void* const block = allocate_placed(size, align)) [[likely]]
    return block;
  return failed_with_enomem();
}

void* allocate_zeroed(std::size_t size) noexcept {
  ensure_init();
  // Below a page the block is cleared whole, after the arena's lock: the heap's plan would not pay there, and the
  // heap's allocate_zeroed (which clears under the lock) measured 647 M instructions against 613 M this way
  // (cachegrind, 2,000,000 calloc(64) + free pairs).
  if (size < MallocHeap<NoChecks>::kPlannedZeroingBytes) [[likely]] {
    void* const block = allocate_placed(size, kMallocAlignment);
    if (block != nullptr) std::memset(block, 0, size);
    return note(block);
  }
  // A fresh mapping is zero already; an arena's heap clears only what it handed out or wrote before, so the pages of
  // its chunk that no block has reached stay untouched (not resident), as glibc's calloc leaves its heap's fresh top.
  return note(allocate_placed<true>(size, kMallocAlignment));
}

std::size_t huge_threshold() noexcept { return threshold_bytes(g_huge_threshold.load(std::memory_order_relaxed)); }

bool fix_huge_threshold(std::size_t bytes) noexcept {
  if (bytes < kHugeThreshold || bytes > kMaxHugeThreshold) return false;
  g_huge_threshold.store(bytes | kThresholdFixed, std::memory_order_relaxed);
  return true;
}

bool huge_threshold_fixed() noexcept {
  return (g_huge_threshold.load(std::memory_order_relaxed) & kThresholdFixed) != 0;
}

HugeBlocks::Counts huge_counts() noexcept { return g_huge.counts(); }

void deallocate(void* ptr) noexcept {
  if (ptr == nullptr) return;
  ensure_init();
  if (const std::uint8_t owner = owner_of(ptr); owner != ChunkMap::kNoOwner) [[likely]] {
    with_arenas([=]<class Set>() { Set::deallocate(owner, ptr); });
    return;
  }
  deallocate_huge(ptr);
}

void* reallocate(void* ptr, std::size_t size) noexcept {
  if (ptr == nullptr) return allocate(size, kMallocAlignment);
  ensure_init();
  const std::uint8_t owner = owner_of(ptr);
  if (owner != ChunkMap::kNoOwner && size < kHugeThreshold) [[likely]] {
    return note(with_arenas([=]<class Set>() { return Set::reallocate(owner, ptr, size); }));
  }
  // An arena block to a size the raised threshold keeps in the arenas: resized there; when no arena can (none can grow,
  // or a partial chunk is too small for it), moved to a mapping below.
  if (owner != ChunkMap::kNoOwner && size < threshold_bytes(g_huge_threshold.load(std::memory_order_relaxed))) {
    if (void* const block = with_arenas([=]<class Set>() { return Set::reallocate(owner, ptr, size); })) return block;
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
  if (huge != nullptr) {
    free_huge(ptr, /*raise=*/false, kReallocWords.unregistered);  // the threshold stays (free_huge)
  } else {
    with_arenas([=]<class Set>() { Set::deallocate(owner, ptr); });  // its owner, found above
  }
  return moved;
}

std::size_t usable_size(void* ptr) noexcept {
  if (ptr == nullptr) return 0;
  ensure_init();
  return checked_usable_size(ptr, kUsableSizeWords);
}

HugeUsage huge_usage() noexcept {
  ensure_init();
  return HugeUsage{g_huge.registry().size(), g_huge.counts().live_bytes};
}

Usage usage() noexcept {
  ensure_init();
  Usage usage;
  usage.arenas = with_arenas([]<class Set>() { return Set::totals().heap; });
  const HugeUsage huge = huge_usage();
  usage.huge_blocks = huge.blocks;
  usage.huge_bytes = huge.bytes;
  return usage;
}

bool arena_usage(unsigned* position, ArenaUsage* out) noexcept {
  ensure_init();
  return with_arenas([=]<class Set>() {
    for (; *position < g_config.arenas; ++*position) {
      Set::usage_of(*position, out->stats, out->sizes);
      if (out->stats.capacity == 0) continue;  // never mapped a chunk
      out->index = (*position)++;
      return true;
    }
    return false;
  });
}

void write_statistics(int fd) noexcept {
  ensure_init();
  StderrLine line;
  line << "nostd-malloc: check=" << to_string(g_config.check);
  with_arenas([&line]<class Set>() { Set::report(line); });
  const HugeBlocks::Counts huge = g_huge.counts();
  line << " huge_maps=" << huge.maps << " huge_unmaps=" << huge.unmaps << " huge_peak_bytes=" << huge.peak_bytes
       << " huge_unmap_failures=" << huge.unmap_failures << " huge_threshold=" << huge_threshold()
       << " failed=" << g_failures.load(std::memory_order_relaxed);
  line.write(fd);
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
