// platform/malloc/thread_exit_watch.h — ThreadExitWatch<OnExit>: calls OnExit() in each thread that asked for it,
// when that thread ends, through a pthread key's destructor. The drop-in's arenas use it to stop counting an ended
// thread as one of an arena's residents (ArenaSet::leave).
//
// Trade-offs: a key destructor, not a C++ thread_local with a destructor, whose registration
// (__cxa_thread_atexit_impl) allocates on every thread and links in the C++ runtime. glibc keeps the values of the
// first 32 keys in the thread's descriptor; a later key's first value takes a calloc, a malloc call from inside
// watch(), which the caller must allow (the drop-in calls watch() holding no lock, after the thread's arena is set).
// Key destructors run in pthread_exit (the main thread's too) and when a thread function returns, not at exit():
// a main thread that returns from main is never "ended" here. A destructor whose thread asks again (watch() in a later
// destructor that allocated) is run again, for up to PTHREAD_DESTRUCTOR_ITERATIONS rounds; after those a thread stays
// counted, which overstates, as before there was a watch.
#pragma once

#include <pthread.h>

#include <atomic>

namespace nostd::malloc_door {

/// A pthread key whose destructor calls OnExit() in a thread that called watch(), when the thread ends. Static
/// storage only (constinit: nothing runs before create()). OnExit runs once per watch() whose thread then ends.
template <void (*OnExit)() noexcept>
class ThreadExitWatch {
 public:
  /// Creates the key, once per process (later calls return the first one's answer). False when the system has no key
  /// left; watch() then does nothing. Allocates nothing in glibc.
  static bool create() noexcept {
    if (!created_.load(std::memory_order_acquire))
      ::pthread_once(&once_, [] {
        if (::pthread_key_create(&key_, &ended) == 0) created_.store(true, std::memory_order_release);
      });
    return created_.load(std::memory_order_acquire);
  }

  /// Asks for OnExit() when the calling thread ends. Idempotent until then. May call calloc (see the file comment).
  static void watch() noexcept {
    if (created_.load(std::memory_order_acquire)) ::pthread_setspecific(key_, &key_);
  }

 private:
  // The key's destructor: runs only for a thread whose value is non-null (one that watched), which pthread sets to
  // null before the call.
  static void ended(void*) noexcept { OnExit(); }

  static constinit inline pthread_once_t once_ = PTHREAD_ONCE_INIT;
  static constinit inline pthread_key_t key_ = 0;
  static constinit inline std::atomic<bool> created_{false};
};

}  // namespace nostd::malloc_door
