// tests/preload/cancel_program.cc — malloc and free are no cancellation points, also while the drop-in records, for
// //tests/preload:cancel_test. A worker thread runs 200,000 malloc/free pairs and calls nothing else; the main thread
// cancels it (deferred, the default) right after starting it and joins it. A cancellation request takes effect only at
// a cancellation point; glibc's malloc and free contain none, so the worker finishes its pairs and returns. The
// recorder writes its buffer with write(2), a cancellation point, every ~20,000 pairs: a worker cancelled there would
// end inside free, its buffer marked busy (malloc_recorder_stop at exit then waits for it for ever) or, at the first
// flush, holding the lock that creates the trace file. C library calls only, linked --as-needed like the programs next
// to it.
//
//   cancel_program     prints "worker finished 200000 pairs" (or "worker cancelled") and exits 0
#include <pthread.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace {

constexpr int kPairs = 200'000;

void* volatile g_sink;  // volatile: the compiler may not drop a malloc/free pair

void* worker(void*) {
  // Sized so that the blocks come from the arenas (the usual path), each pair recorded as two events.
  for (int i = 0; i < kPairs; ++i) {
    g_sink = std::malloc(static_cast<std::size_t>(16 + i % 512));
    std::free(g_sink);
  }
  return reinterpret_cast<void*>(static_cast<std::intptr_t>(kPairs));
}

}  // namespace

int main() {
  pthread_t thread;
  if (::pthread_create(&thread, nullptr, worker, nullptr) != 0) return 2;
  if (::pthread_cancel(thread) != 0) return 3;
  void* result = nullptr;
  if (::pthread_join(thread, &result) != 0) return 4;
  char line[80];
  const int n = result == PTHREAD_CANCELED ? std::snprintf(line, sizeof line, "worker cancelled\n")
                                           : std::snprintf(line, sizeof line, "worker finished %d pairs\n",
                                                           static_cast<int>(reinterpret_cast<std::intptr_t>(result)));
  if (n > 0) (void)!::write(STDOUT_FILENO, line, static_cast<std::size_t>(n));
  return 0;
}
