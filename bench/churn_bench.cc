// bench/churn_bench.cc — threaded malloc/free churn: the throughput of whatever malloc the process has (glibc's,
// or the drop-in under LD_PRELOAD), with T threads working on their own slots at once.
//
//   churn_bench THREADS [OPS_PER_THREAD]   prints: threads=T ops=N seconds=S mops=M cpu_mops=C
//
// mops is total ops / wall time. cpu_mops is total ops / the largest per-thread CPU time: the throughput the
// threads would reach with a core each, which a shared, loaded machine cannot show in wall time. It does not see
// time a thread spends blocked on a lock (that costs no CPU); the drop-in's statistics count those waits
// (lock_waits), so read the two together.
//
// Each thread owns 4096 slots and repeats: pick a slot by a seeded generator, free its block, allocate a new one
// of 16..4096 bytes (log-distributed) and touch its first and last byte. Threads share nothing but the allocator,
// so with T cores free, a malloc whose threads do not serialise approaches T times the 1-thread throughput; one
// global lock gives at most 1x. The work per thread is fixed, so the throughput is total ops / wall time.
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

constexpr std::size_t kSlots = 4096;

struct Args {
  unsigned seed;
  std::size_t ops;
  std::uint64_t checksum;
  double cpu_seconds;
};

double thread_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

void* churn(void* raw) {
  auto* args = static_cast<Args*>(raw);
  const double cpu_start = thread_cpu_seconds();
  std::uint64_t state = 0x9E3779B97F4A7C15ULL * (args->seed + 1);
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  static thread_local unsigned char* slots[kSlots];
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < args->ops; ++i) {
    const std::uint64_t r = next();
    unsigned char*& slot = slots[r % kSlots];
    if (slot != nullptr) sum += slot[0];
    std::free(slot);
    const std::size_t size = std::size_t{16} << ((r >> 20) % 9);  // 16 .. 4096
    const std::size_t bytes = size - (r >> 32) % (size / 2);
    slot = static_cast<unsigned char*>(std::malloc(bytes));
    if (slot == nullptr) std::abort();
    slot[0] = static_cast<unsigned char>(i);
    slot[bytes - 1] = 1;
  }
  for (unsigned char*& slot : slots) {
    std::free(slot);
    slot = nullptr;
  }
  args->checksum = sum;
  args->cpu_seconds = thread_cpu_seconds() - cpu_start;
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  using nostd::bench::parse_whole;
  // --help: the usage on stdout, exit 0; a bad argument: the usage on stderr, exit 2.
  const bool help = argc > 1 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0);
  // cli_args.h's strict parse: digits only, so "2x", "", "-" and "+2" are refused, not read as a prefix.
  const std::optional<std::uint64_t> thread_arg = argc > 1 ? parse_whole(argv[1], 64) : std::nullopt;
  const std::optional<std::uint64_t> ops_arg = argc > 2 ? parse_whole(argv[2], 1'000'000'000'000) : 2000000;
  if (help || argc > 3 || !thread_arg || *thread_arg < 1 || !ops_arg || *ops_arg < 1) {
    std::fprintf(help ? stdout : stderr, "usage: churn_bench THREADS(1..64) [OPS_PER_THREAD > 0]\n");
    return help ? 0 : 2;
  }
  const auto threads = static_cast<long>(*thread_arg);
  const auto ops = static_cast<long>(*ops_arg);
  std::vector<pthread_t> ids(static_cast<std::size_t>(threads));
  std::vector<Args> args(static_cast<std::size_t>(threads));
  const auto start = std::chrono::steady_clock::now();
  for (long t = 0; t < threads; ++t) {
    args[t] = Args{static_cast<unsigned>(t), static_cast<std::size_t>(ops), 0, 0.0};
    pthread_create(&ids[t], nullptr, churn, &args[t]);
  }
  std::uint64_t checksum = 0;
  double max_cpu = 0;
  for (long t = 0; t < threads; ++t) {
    pthread_join(ids[t], nullptr);
    checksum += args[t].checksum;
    max_cpu = std::max(max_cpu, args[t].cpu_seconds);
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double total = static_cast<double>(threads) * static_cast<double>(ops);
  std::printf("threads=%ld ops=%.0f seconds=%.3f mops=%.2f cpu_mops=%.2f checksum=%llu\n", threads, total, seconds,
              total / seconds / 1e6, total / max_cpu / 1e6, static_cast<unsigned long long>(checksum));
  return 0;
}
