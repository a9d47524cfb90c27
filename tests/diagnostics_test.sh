#!/usr/bin/env bash
# Compile-fail tests: a misused BasicHeap must fail to compile with one readable line naming the problem, as its
# only error (tests/compile_fail.sh counts them).
# Each case is a tiny program; the test passes when g++ rejects it with the expected message as its first error and no
# cascade after it.
prelude='#include "alloc/alloc.h"'
# shellcheck source=tests/compile_fail.sh
source tests/compile_fail.sh

# The control case: the prelude and a correct composition compile, so every rejection is for its stated reason.
expect_compiles control 'nostd::BasicHeap<nostd::BestFit, nostd::RegionSource> heap;'
expect_error no_source "BasicHeap: no heap source given" \
  'nostd::BasicHeap<nostd::FirstFit> heap;'
expect_error two_fits "BasicHeap: two fit policies given" \
  'nostd::BasicHeap<nostd::FirstFit, nostd::BestFit, nostd::RegionSource> heap;'
# One error: the count of 2 must not also read as "no heap source given".
expect_error two_sources "BasicHeap: two heap sources given" \
  'nostd::BasicHeap<nostd::StaticArraySource<4096>, nostd::RegionSource> heap;'
expect_error two_locks "BasicHeap: two lock policies given" \
  'nostd::BasicHeap<nostd::NullLock, nostd::SpinLock, nostd::RegionSource> heap;'
expect_error no_role "BasicHeap: a policy type has no known role" \
  'struct Mystery {}; nostd::BasicHeap<Mystery, nostd::RegionSource> heap;'
expect_error lock_without_unlock "LockPolicy: missing \`void unlock()\`" \
  'struct L { using policy_role = nostd::role::Lock; void lock() {} };
   nostd::BasicHeap<L, nostd::RegionSource> heap;'
expect_error fit_without_index "FitPolicy: missing member class template \`Index<Tags>\`" \
  'struct F { using policy_role = nostd::role::Fit; };
   nostd::BasicHeap<F, nostd::RegionSource> heap;'
expect_error source_without_acquire "HeapSource: missing \`std::span<std::byte> acquire()\`" \
  'struct S { using policy_role = nostd::role::Source; static constexpr bool kAcceptsRegions = false; };
   nostd::BasicHeap<S> heap;'
expect_error check_without_level "CheckPolicy: missing \`static constexpr CheckLevel kLevel\`" \
  'struct C { using policy_role = nostd::role::Check; };
   nostd::BasicHeap<C, nostd::RegionSource> heap;'
# A user's check policy at a level that asks for more than kLevel and on_fault (README, "The heap": what a check
# policy provides): the key's source from kHardened up, the merge check's bound from kDebug up.
expect_error check_hardened_without_secret "CheckPolicy: kHardened and above need \`static std::uint64_t secret()\`" \
  'struct C { using policy_role = nostd::role::Check; static constexpr nostd::CheckLevel kLevel = nostd::CheckLevel::kHardened;
     [[noreturn]] static void on_fault(const nostd::HeapFault&) noexcept { __builtin_trap(); } };
   nostd::BasicHeap<C, nostd::RegionSource> heap;'
expect_error check_debug_without_merge_bytes \
  "CheckPolicy: kDebug and above need \`static constexpr std::size_t kMergeCheckBytes\`" \
  'struct C { using policy_role = nostd::role::Check; static constexpr nostd::CheckLevel kLevel = nostd::CheckLevel::kDebug;
     [[noreturn]] static void on_fault(const nostd::HeapFault&) noexcept { __builtin_trap(); }
     static std::uint64_t secret() noexcept { return 1; } };
   nostd::BasicHeap<C, nostd::RegionSource> heap;'
expect_error cache_share_zero "CachePolicy: kGiveWayShare must be at least 1" \
  'struct K { using policy_role = nostd::role::Cache; static constexpr std::size_t kDepth = 8;
     static constexpr std::size_t kMaxBlock = 1024; static constexpr std::size_t kGiveWayShare = 0; };
   nostd::BasicHeap<K, nostd::RegionSource> heap;'
# Two errors, both the message's kind: QuickCache's own range check, then CachePolicy's kGiveWayShare >= 1.
expect_error quick_cache_share_zero "QuickCache: GiveWayShare must be 1..65536" \
  'nostd::BasicHeap<nostd::QuickCache<8, 1024, 0>, nostd::RegionSource> heap;' 2
expect_error quick_cache_slack_one "QuickCache: SlackShare must be 0 (exact sizes only) or 2..65536" \
  'nostd::BasicHeap<nostd::QuickCache<8, 1024, 16, 1>, nostd::RegionSource> heap;'
# One error: the default SmallLimit is Lists x granule, so a bad Lists must not also fail SmallLimit's check.
expect_error segregated_lists_not_power_of_two "SegregatedFit: Lists must be a power of two in 4..32" \
  'nostd::BasicHeap<nostd::SegregatedFit<0, 7>, nostd::RegionSource> heap;'
# Nor Lists = 0, which the list step divides by (it gave four errors more).
expect_error segregated_lists_zero "SegregatedFit: Lists must be a power of two in 4..32" \
  'nostd::BasicHeap<nostd::SegregatedFit<0, 0>, nostd::RegionSource> heap;'
# A check level's key source: no draw(), or one that returns something other than 64 unsigned bits. An unsigned long
# long of 64 bits is a valid source (it is another type than std::uint64_t on x86_64 Linux).
expect_compiles secret_as_unsigned_long_long \
  'struct K { static unsigned long long draw() { return 42; } };
   nostd::BasicHeap<nostd::HardenedChecks<nostd::AbortOnFault, K>, nostd::RegionSource> heap;
   std::uint64_t key = nostd::HardenedChecks<nostd::AbortOnFault, K>::secret();'
expect_error secret_without_draw "SecretSource: missing \`static std::uint64_t draw()\`" \
  'struct K {};
   nostd::BasicHeap<nostd::HardenedChecks<nostd::AbortOnFault, K>, nostd::RegionSource> heap;'
expect_error secret_of_32_bits "SecretSource: \`draw()\` must return a 64-bit unsigned integer" \
  'struct K { static std::uint32_t draw() { return 42; } };
   nostd::BasicHeap<nostd::DebugChecks<nostd::AbortOnFault, K>, nostd::RegionSource> heap;'
expect_error secret_signed "SecretSource: \`draw()\` must return a 64-bit unsigned integer" \
  'struct K { static long long draw() { return 42; } };
   nostd::BasicHeap<nostd::ParanoidChecks<nostd::AbortOnFault, K>, nostd::RegionSource> heap;'
expect_error add_region_on_static "add_region" \
  'nostd::BasicHeap<nostd::StaticArraySource<4096>> heap;
   void f(std::span<std::byte> s) { (void)heap.add_region(s); }'
expect_error static_too_small "StaticArraySource: Bytes must be at least 128" \
  'nostd::BasicHeap<nostd::StaticArraySource<64>> heap;'

# A -std older than C++23 (std::expected): alloc/error.h's one line, and the fatal stop after it (2 errors: the
# #error and the missing include that ends the compilation), not the cascade of ~180 errors about std::expected.
extra_flags=(-std=c++20)
expect_error before_cxx23 "nostd-alloc needs C++23 for std::expected: compile with -std=c++2b" \
  'nostd::BasicHeap<nostd::FirstFit, nostd::StaticArraySource<4096>> heap;' 2
extra_flags=()
# The same line for a compiler whose -std=c++2b is C++23 but whose concepts level libstdc++ 12's <expected> does not
# accept (Debian 12's clang 14), where <expected> is as empty. Skipped where clang 14 is not installed.
if command -v clang++-14 >/dev/null; then
  saved_cxx="$cxx"
  cxx=clang++-14
  expect_error clang14_without_expected "nostd-alloc needs C++23 for std::expected" \
    'nostd::BasicHeap<nostd::FirstFit, nostd::StaticArraySource<4096>> heap;' 2
  cxx="$saved_cxx"
else
  echo "skip clang14_without_expected: clang++-14 is not installed"
fi

finish
