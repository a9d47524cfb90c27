// bench/fork_bench.cc — fork latency while threads allocate: the time of fork() + waitpid() of a child that only
// calls _exit(0), measured in the main thread while THREADS other threads run malloc/free in a tight loop, against
// whatever malloc the process has (glibc's, or the drop-in under LD_PRELOAD; //bench:fork_latency runs both).
//
//   fork_bench THREADS [FORKS]   prints: threads=T forks=N median_ms=M p90_ms=P max_ms=X
//
// What it shows: a malloc whose fork prepare handler takes every arena lock (the drop-in's) makes fork() wait for
// each lock a looping thread holds; with an unfair lock the looping threads re-take it right after releasing it, and
// the forking thread waits many rounds (README, "The drop-in malloc (Linux)", *fork*). The child does nothing, so the
// rest of the figure is the kernel's fork and exit and the process's other fork handlers.
//
// Each looping thread owns 64 slots and repeats: pick a slot by a seeded generator, free its block, allocate one of
// 16..1024 bytes (log-distributed): small blocks only, so that every call takes an arena lock (no huge blocks).
#include <pthread.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

#include "bench/cli_args.h"

namespace {

constexpr std::size_t kSlots = 64;

std::atomic<bool> g_stop{false};
std::atomic<long> g_started{0};

void* churn(void* raw) {
  std::uint64_t state = 0x9E3779B97F4A7C15ULL * (reinterpret_cast<std::uintptr_t>(raw) + 1);
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  unsigned char* slots[kSlots] = {};
  bool counted = false;
  while (!g_stop.load(std::memory_order_relaxed)) {
    const std::uint64_t r = next();
    unsigned char*& slot = slots[r % kSlots];
    std::free(slot);
    const std::size_t bytes = std::size_t{16} << ((r >> 20) % 7);  // 16 .. 1024
    slot = static_cast<unsigned char*>(std::malloc(bytes));
    if (slot == nullptr) std::abort();
    slot[0] = 1;
    if (!counted) {
      counted = true;
      g_started.fetch_add(1);
    }
  }
  for (unsigned char* slot : slots) std::free(slot);
  return nullptr;
}

}  // namespace

int main(int argc, char** argv) {
  using nostd::bench::parse_whole;
  // --help: the usage on stdout, exit 0; a bad argument: the usage on stderr, exit 2.
  const bool help = argc > 1 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0);
  // cli_args.h's strict parse: digits only, so "2x", "", "-" and "+2" are refused, not read as a prefix.
  const std::optional<std::uint64_t> thread_arg = argc > 1 ? parse_whole(argv[1], 64) : std::nullopt;
  const std::optional<std::uint64_t> fork_arg = argc > 2 ? parse_whole(argv[2], 1000000) : 200;
  if (help || argc > 3 || !thread_arg || !fork_arg || *fork_arg < 1) {
    std::fprintf(help ? stdout : stderr, "usage: fork_bench THREADS(0..64) [FORKS(1..1000000), default 200]\n");
    return help ? 0 : 2;
  }
  const auto threads = static_cast<long>(*thread_arg);
  const auto forks = static_cast<long>(*fork_arg);
  std::vector<pthread_t> ids(static_cast<std::size_t>(threads));
  for (long t = 0; t < threads; ++t) {
    if (pthread_create(&ids[t], nullptr, churn, reinterpret_cast<void*>(static_cast<std::uintptr_t>(t))) != 0) {
      std::fprintf(stderr, "fork_bench: pthread_create failed\n");
      return 1;
    }
  }
  // Every thread is in its loop before the first fork (each has allocated once).
  while (g_started.load() < threads) sched_yield();

  std::vector<double> ms(static_cast<std::size_t>(forks));
  for (double& sample : ms) {
    const auto start = std::chrono::steady_clock::now();
    const pid_t child = fork();
    if (child == 0) _exit(0);
    if (child < 0) {
      std::perror("fork_bench: fork");
      return 1;
    }
    int status = 0;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      std::fprintf(stderr, "fork_bench: the child did not exit with 0\n");
      return 1;
    }
    sample = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  }
  g_stop.store(true);
  for (pthread_t id : ids) pthread_join(id, nullptr);

  std::sort(ms.begin(), ms.end());
  // The sample at `fraction` of the sorted list (nearest rank below).
  const auto at = [&ms](double fraction) {
    return ms[static_cast<std::size_t>(fraction * static_cast<double>(ms.size() - 1))];
  };
  std::printf("threads=%ld forks=%ld median_ms=%.3f p90_ms=%.3f max_ms=%.3f\n", threads, forks, at(0.5), at(0.9),
              ms.back());
  return 0;
}
