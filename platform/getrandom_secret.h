// platform/getrandom_secret.h — GetrandomSecret: the key source of HardenedChecks on hosted Linux.
#pragma once

#include <sys/random.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <ctime>

namespace nostd {

/// 64 bits from the kernel's random number generator (`getrandom(2)`, which blocks only until the kernel's pool
/// is first initialised, early in boot). Use it as HardenedChecks' secret source:
/// `BasicHeap<HardenedChecks<AbortOnFault, GetrandomSecret>, ...>`. Each heap draws once, on its first use.
///
/// If getrandom is unavailable (a kernel older than 3.17, a seccomp filter), falls back to the monotonic and
/// real-time clocks: weaker, but the heap still gets a key that differs between runs.
struct GetrandomSecret {
  /// 64 unpredictable bits.
  static std::uint64_t draw() noexcept {
    std::uint64_t key = 0;
    auto* out = reinterpret_cast<unsigned char*>(&key);
    std::size_t got = 0;
    while (got < sizeof(key)) {
      const ssize_t n = ::getrandom(out + got, sizeof(key) - got, 0);
      if (n > 0) {
        got += static_cast<std::size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        return clock_fallback();
      }
    }
    return key;
  }

 private:
  static std::uint64_t clock_fallback() noexcept {
    timespec mono{}, real{};
    ::clock_gettime(CLOCK_MONOTONIC, &mono);
    ::clock_gettime(CLOCK_REALTIME, &real);
    std::uint64_t x = static_cast<std::uint64_t>(mono.tv_nsec) ^ (static_cast<std::uint64_t>(real.tv_sec) << 32) ^
                      static_cast<std::uint64_t>(real.tv_nsec);
    x *= 0xD6E8FEB86659FD93ull;  // spread the clock's low-entropy bits over the word
    return x ^ (x >> 32);
  }
};

}  // namespace nostd
