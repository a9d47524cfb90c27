// bench/churn_bench.cc — threaded malloc/free churn: the throughput of whatever malloc the process has (glibc's,
// or the drop-in under LD_PRELOAD), with T threads working on their own slots at once, over a live heap of any size.
//
//   churn_bench THREADS [OPS_PER_THREAD [SLOTS_PER_THREAD]]
//   prints: threads=T ops=N slots=S seconds=W mops=M cpu_mops=C checksum=X
//
// mops is total ops / wall time, from the first thread's start to the last one's end. cpu_mops is total ops / the
// largest per-thread CPU time: the throughput the threads would reach with a core each, which a shared, loaded
// machine cannot show in wall time. It does not see time a thread spends blocked on a lock (that costs no CPU); the
// drop-in's statistics count those waits (lock_waits), so read the two together.
//
// Each thread owns SLOTS_PER_THREAD slots (default 4096, at most 2^27; their array comes from the process's malloc)
// and first fills every one with a block drawn as below: a live heap of about 690 B per slot (3,500,000 slots: a
// maximum resident set of 2.3 GiB, glibc's and the drop-in's alike). Then the threads meet at a barrier, and only what
// follows it is timed (wall time and each thread's CPU time): each thread, OPS_PER_THREAD times, picks a slot by a
// seeded generator, frees its block, allocates a new one of 16..4096 bytes (log-distributed) and touches its first
// and last byte. A thread's timing stops when it has done its ops; the threads meet again before freeing their
// blocks, so that no thread's frees share the allocator with another's timed ops. Threads share nothing but the
// allocator, so with T cores free, a malloc whose threads do not serialise approaches T times the 1-thread
// throughput; one global lock gives at most 1x. The work per thread is fixed, so the throughput is total ops / wall
// time.
//
// The fill (and the final frees) are untimed since 2026-12-06. Before, the slots started empty, the timed loop's
// early frees were of empty slots (free(NULL)) and its allocations grew the heap. With the default 4096 slots the
// timed loop makes the same picks and sizes as before (the fill draws from a generator of its own), so the figures
// stay comparable to earlier ones, except that the earlier ones also timed the heap's first growth (its ~700 page
// faults and the thread's first arena). On the 2-vCPU KVM guest of README's "Measured", that was ~14 ms of a thread's
// CPU time; 1 thread, 1,000,000 ops, medians of 7 interleaved runs, old → new: glibc 14.2 → 18.3 Mops/s, the
// drop-in 14.7 → 17.0. Compare runs of one version with each other.
#include <pthread.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

#include "bench/cli_args.h"

namespace {

constexpr std::size_t kDefaultSlots = 4096;
constexpr std::uint64_t kMaxSlots = std::uint64_t{1} << 27;  // 1 GiB of slot pointers per thread

struct Args {
  unsigned seed;
  std::size_t ops;
  std::size_t slots;
  pthread_barrier_t* barrier;  // waited on twice: slots filled (the timing starts), ops done (the frees may start)
  std::uint64_t checksum;
  double cpu_seconds;
  std::chrono::steady_clock::time_point wall_start;
  std::chrono::steady_clock::time_point wall_end;
};

double thread_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

/// A seeded xorshift64 stream.
struct Xorshift {
  std::uint64_t state;
  std::uint64_t next() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  }
};

/// The request size drawn from `r`: a power of two from 16 to 4096 (log-distributed), less up to half of it.
std::size_t draw_bytes(std::uint64_t r) {
  const std::size_t size = std::size_t{16} << ((r >> 20) % 9);  // 16 .. 4096
  return size - (r >> 32) % (size / 2);
}

/// A block of `bytes` from the process's malloc, its first byte set to `first` and its last to 1 (the touches that
/// make a block's pages and lines the program's own); aborts, saying `what`, when malloc fails.
unsigned char* allocate_touched(std::size_t bytes, unsigned char first, const char* what) {
  auto* const block = static_cast<unsigned char*>(std::malloc(bytes));
  if (block == nullptr) {
    std::fprintf(stderr, "churn_bench: out of memory %s\n", what);
    std::abort();
  }
  block[0] = first;
  block[bytes - 1] = 1;
  return block;
}

void* churn(void* raw) {
  auto* args = static_cast<Args*>(raw);
  const std::size_t count = args->slots;
  auto** slots = static_cast<unsigned char**>(std::malloc(count * sizeof(unsigned char*)));
  if (slots == nullptr) {
    std::fprintf(stderr, "churn_bench: no memory for %zu slots\n", count);
    std::abort();
  }
  // The fill draws from a stream of its own, so that the timed loop's picks and sizes are those of the runs before
  // the fill existed.
  Xorshift fill{0xD1B54A32D192ED03ULL * (args->seed + 1)};
  for (std::size_t s = 0; s < count; ++s) {
    slots[s] = allocate_touched(draw_bytes(fill.next()), static_cast<unsigned char>(s), "filling the slots");
  }
  pthread_barrier_wait(args->barrier);
  args->wall_start = std::chrono::steady_clock::now();
  const double cpu_start = thread_cpu_seconds();
  Xorshift rng{0x9E3779B97F4A7C15ULL * (args->seed + 1)};
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < args->ops; ++i) {
    const std::uint64_t r = rng.next();
    unsigned char*& slot = slots[r % count];  // filled: every slot holds a block
    sum += slot[0];
    std::free(slot);
    slot = allocate_touched(draw_bytes(r), static_cast<unsigned char>(i), "in the churn");
  }
  args->cpu_seconds = thread_cpu_seconds() - cpu_start;
  args->wall_end = std::chrono::steady_clock::now();
  // No thread frees its heap while another still churns: the frees would share the allocator with timed ops.
  pthread_barrier_wait(args->barrier);
  for (std::size_t s = 0; s < count; ++s) std::free(slots[s]);
  std::free(slots);
  args->checksum = sum;
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  using nostd::bench::parse_whole;
  // --help: the usage on stdout, exit 0; a bad argument: the usage on stderr, exit 2.
  const bool help = argc > 1 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0);
  // cli_args.h's strict parse: digits only, so "2x", "", "-" and "+2" are refused, not read as a prefix. A refused
  // value reads 0, which no argument takes. (Kept as plain numbers: GCC 12's -O2 warns that an optional tested in
  // one long condition "may be used uninitialized".)
  const std::uint64_t thread_arg = argc > 1 ? parse_whole(argv[1], 64).value_or(0) : 0;
  const std::uint64_t ops_arg = argc > 2 ? parse_whole(argv[2], 1'000'000'000'000).value_or(0) : 2000000;
  const std::uint64_t slots_arg = argc > 3 ? parse_whole(argv[3], kMaxSlots).value_or(0) : kDefaultSlots;
  if (help || argc > 4 || thread_arg == 0 || ops_arg == 0 || slots_arg == 0) {
    std::fprintf(help ? stdout : stderr,
                 "usage: churn_bench THREADS(1..64) [OPS_PER_THREAD > 0 [SLOTS_PER_THREAD(1..%llu, default %zu)]]\n",
                 static_cast<unsigned long long>(kMaxSlots), kDefaultSlots);
    return help ? 0 : 2;
  }
  const auto threads = static_cast<long>(thread_arg);
  const auto ops = static_cast<long>(ops_arg);
  const auto slots = static_cast<std::size_t>(slots_arg);
  std::vector<pthread_t> ids(static_cast<std::size_t>(threads));
  std::vector<Args> args(static_cast<std::size_t>(threads));
  // The wall time runs from the first thread's start after the fill to the last one's end, each read by the thread
  // itself. Read in main around its own barrier waits, it had missed the churn: a main thread woken late started the
  // clock after a short run had ended (20,000 ops: 3.3 ms of CPU, 12 us of "wall time").
  pthread_barrier_t barrier;
  pthread_barrier_init(&barrier, nullptr, static_cast<unsigned>(threads));
  for (long t = 0; t < threads; ++t) {
    args[t] = Args{static_cast<unsigned>(t), static_cast<std::size_t>(ops), slots, &barrier, 0, 0.0, {}, {}};
    if (const int error = pthread_create(&ids[t], nullptr, churn, &args[t]); error != 0) {
      std::fprintf(stderr, "churn_bench: cannot start thread %ld: %s\n", t, std::strerror(error));
      std::abort();
    }
  }
  std::uint64_t checksum = 0;
  double max_cpu = 0;
  for (long t = 0; t < threads; ++t) pthread_join(ids[t], nullptr);
  auto first_start = args[0].wall_start;
  auto last_end = args[0].wall_end;
  for (const Args& done : args) {
    checksum += done.checksum;
    max_cpu = std::max(max_cpu, done.cpu_seconds);
    first_start = std::min(first_start, done.wall_start);
    last_end = std::max(last_end, done.wall_end);
  }
  pthread_barrier_destroy(&barrier);
  const double seconds = std::chrono::duration<double>(last_end - first_start).count();
  const double total = static_cast<double>(threads) * static_cast<double>(ops);
  std::printf("threads=%ld ops=%.0f slots=%zu seconds=%.3f mops=%.2f cpu_mops=%.2f checksum=%llu\n", threads, total,
              slots, seconds, total / seconds / 1e6, total / max_cpu / 1e6, static_cast<unsigned long long>(checksum));
  return 0;
}
