// platform/riscv32_virt/new_handler_test.cc — the board's operator new follows the new-handler protocol
// (cxx_runtime.cc): std::set_new_handler and std::get_new_handler exchange and read the handler; with the arena full,
// every form, throwing and nothrow, plain and aligned, calls the installed handler and retries, so a handler that
// frees memory lets the request succeed; a handler that installs another hands over to it; a handler that installs
// none makes a nothrow form return nullptr after exactly one call. The program links only if the board defines
// set_new_handler and get_new_handler (libc++'s headers declare them; no library here defines them).
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <new>

#include "tests/check.h"

namespace {

/// Sizes pass through here so that the compiler cannot see (or remove) the requests.
volatile std::size_t g_block = std::size_t{1} << 20;
void* volatile g_pointer = nullptr;

constexpr int kMaxBlocks = 64;  // the arena is under 28 MiB
void* g_ballast[kMaxBlocks] = {};
int g_ballast_count = 0;
int g_calls = 0;  // handler calls since the last reset

/// Frees one ballast block per call (the protocol's "make more memory available"); with none left it gives up, so
/// that a retry that never succeeds ends the request (a failure the test reports) instead of looping for ever.
void release_one() {
  ++g_calls;
  if (g_ballast_count > 0) {
    ::operator delete(g_ballast[--g_ballast_count]);
  } else {
    std::set_new_handler(nullptr);
  }
}

/// Gives up: the protocol's "install no handler", after which the request fails.
void give_up() {
  ++g_calls;
  std::set_new_handler(nullptr);
}

/// Hands over to release_one without freeing anything itself.
void hand_over() {
  ++g_calls;
  std::set_new_handler(release_one);
}

/// Fills the arena with 1 MiB blocks, with no handler installed, until a block is refused.
void fill_arena() {
  std::set_new_handler(nullptr);
  while (g_ballast_count < kMaxBlocks) {
    void* p = ::operator new(g_block, std::nothrow);
    if (p == nullptr) break;
    std::memset(p, 0x5a, g_block);
    g_ballast[g_ballast_count++] = p;
  }
  NOSTD_CHECK(g_ballast_count > 0 && g_ballast_count < kMaxBlocks);  // the arena ran out, not before a block
  NOSTD_CHECK(::operator new(g_block, std::nothrow) == nullptr);
  g_calls = 0;
}

void empty_arena() {
  std::set_new_handler(nullptr);
  while (g_ballast_count > 0) ::operator delete(g_ballast[--g_ballast_count]);
}

void exchanges_and_reads_the_handler() {
  NOSTD_CHECK(std::get_new_handler() == nullptr);  // none at startup
  NOSTD_CHECK(std::set_new_handler(release_one) == nullptr);
  NOSTD_CHECK(std::get_new_handler() == release_one);
  NOSTD_CHECK(std::set_new_handler(give_up) == release_one);
  NOSTD_CHECK(std::set_new_handler(nullptr) == give_up);
  NOSTD_CHECK(std::get_new_handler() == nullptr);
}

/// `allocate` (one operator new form) on a full arena with release_one installed: it must succeed after at least one
/// handler call, and the block must be whole and writable.
template <class Allocate, class Free>
void handler_frees_memory_for(const char* form, Allocate allocate, Free free) {
  fill_arena();
  std::set_new_handler(release_one);
  void* p = allocate();
  g_pointer = p;
  if (!NOSTD_CHECK(p != nullptr && g_calls >= 1)) std::printf("  form: %s, calls: %d\n", form, g_calls);
  if (p != nullptr) {
    std::memset(p, 0xa5, g_block);
    free(p);
  }
  empty_arena();
}

void every_form_calls_the_handler() {
  const auto plain_free = [](void* p) { ::operator delete(p); };
  const auto array_free = [](void* p) { ::operator delete[](p); };
  const auto aligned_free = [](void* p) { ::operator delete (p, std::align_val_t{64}); };
  const auto aligned_array_free = [](void* p) { ::operator delete[](p, std::align_val_t{64}); };
  handler_frees_memory_for(
      "plain", [] { return ::operator new(g_block); }, plain_free);
  handler_frees_memory_for(
      "array", [] { return ::operator new[](g_block); }, array_free);
  handler_frees_memory_for(
      "aligned", [] { return ::operator new (g_block, std::align_val_t{64}); }, aligned_free);
  handler_frees_memory_for(
      "aligned array", [] { return ::operator new[](g_block, std::align_val_t{64}); }, aligned_array_free);
  handler_frees_memory_for(
      "nothrow", [] { return ::operator new(g_block, std::nothrow); }, plain_free);
  handler_frees_memory_for(
      "nothrow array", [] { return ::operator new[](g_block, std::nothrow); }, array_free);
  handler_frees_memory_for(
      "aligned nothrow", [] { return ::operator new (g_block, std::align_val_t{64}, std::nothrow); }, aligned_free);
  handler_frees_memory_for(
      "aligned nothrow array", [] { return ::operator new[](g_block, std::align_val_t{64}, std::nothrow); },
      aligned_array_free);
  // A new-expression goes through the same forms.
  handler_frees_memory_for(
      "new char[]", [] { return static_cast<void*>(new char[g_block]); }, array_free);
}

void a_handler_that_installs_another_hands_over() {
  fill_arena();
  std::set_new_handler(hand_over);
  void* p = ::operator new(g_block);
  g_pointer = p;
  NOSTD_CHECK(p != nullptr && g_calls >= 2);  // hand_over, then release_one at least once
  NOSTD_CHECK(std::get_new_handler() == release_one);
  ::operator delete(p);
  empty_arena();
}

void a_handler_that_gives_up_ends_a_nothrow_request() {
  fill_arena();
  std::set_new_handler(give_up);
  NOSTD_CHECK(::operator new(g_block, std::nothrow) == nullptr&& g_calls == 1);
  NOSTD_CHECK(std::get_new_handler() == nullptr);
  g_calls = 0;
  std::set_new_handler(give_up);
  NOSTD_CHECK(::operator new[](g_block, std::align_val_t{64}, std::nothrow) == nullptr&& g_calls == 1);
  // With no handler, a nothrow form fails at once.
  g_calls = 0;
  NOSTD_CHECK(::operator new(g_block, std::nothrow) == nullptr&& g_calls == 0);
  empty_arena();
  // Everything came back: the request succeeds without a handler.
  void* again = ::operator new(g_block, std::nothrow);
  NOSTD_CHECK(again != nullptr && g_calls == 0);
  ::operator delete(again);
}

}  // namespace

int main() {
  exchanges_and_reads_the_handler();
  every_form_calls_the_handler();
  a_handler_that_installs_another_hands_over();
  a_handler_that_gives_up_ends_a_nothrow_request();
  return nostd::testing::check_exit_status("new_handler_test");
}
