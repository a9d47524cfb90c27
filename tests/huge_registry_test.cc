// tests/huge_registry_test.cc — HugeRegistry, the drop-in malloc's set of live huge blocks: membership through
// growth, removal that keeps every other entry reachable (colliding runs, wrap-around), and the move that resize
// makes. After every operation the set is compared with a model (std::set) over every address ever used.
#include "platform/malloc/huge_registry.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <vector>

namespace {

using nostd::malloc_door::HugeRegistry;

// Every address in `universe` is in `registry` exactly when it is in `model`, and the counts agree.
void expect_matches(HugeRegistry& registry, const std::set<std::uintptr_t>& model,
                    const std::vector<std::uintptr_t>& universe) {
  ASSERT_EQ(registry.size(), model.size());
  for (const std::uintptr_t a : universe) ASSERT_EQ(registry.contains(a), model.count(a) == 1) << a;
}

TEST(HugeRegistry, EmptySetHoldsNothingAndRemovesNothing) {
  HugeRegistry registry;
  EXPECT_FALSE(registry.contains(0x10000));
  EXPECT_FALSE(registry.remove(0x10000));
  EXPECT_FALSE(registry.move(0x10000, [] { return std::uintptr_t{0x20000}; }));
  EXPECT_EQ(registry.size(), 0u);
}

// Page-aligned addresses (as huge payloads are, plus the header) through several doublings of the table, then
// removed in a different order: every membership answer after every step matches the model.
TEST(HugeRegistry, KeepsEveryAddressThroughGrowthAndRemoval) {
  HugeRegistry registry;
  std::set<std::uintptr_t> model;
  std::vector<std::uintptr_t> universe;
  for (std::uintptr_t i = 1; i <= 3000; ++i) universe.push_back(0x7f0000000000 + i * 4096 + 32);
  for (std::size_t i = 0; i < universe.size(); ++i) {
    ASSERT_TRUE(registry.insert(universe[i]));
    model.insert(universe[i]);
    if (i % 97 == 0) expect_matches(registry, model, universe);
  }
  expect_matches(registry, model, universe);
  std::mt19937_64 rng(11);
  std::vector<std::uintptr_t> order = universe;
  std::shuffle(order.begin(), order.end(), rng);
  for (std::size_t i = 0; i < order.size(); ++i) {
    ASSERT_TRUE(registry.remove(order[i]));
    ASSERT_FALSE(registry.remove(order[i])) << "removed twice";
    model.erase(order[i]);
    if (i % 97 == 0) expect_matches(registry, model, universe);
  }
  expect_matches(registry, model, universe);
}

// The table never fills up: it doubles before an insert would take it past half full, so a lookup of an absent
// address, which probes until it meets an empty slot, ends at every size (a full table would probe for ever).
TEST(HugeRegistry, LookupOfAnAbsentAddressEndsAtEverySize) {
  HugeRegistry registry;
  constexpr std::uintptr_t kAbsent = 0x7e0000000000;
  for (std::uintptr_t i = 1; i <= 2100; ++i) {
    ASSERT_TRUE(registry.insert(0x7f0000000000 + i * 4096 + 32));
    ASSERT_FALSE(registry.contains(kAbsent)) << i;
    ASSERT_FALSE(registry.remove(kAbsent)) << i;
  }
  EXPECT_EQ(registry.size(), 2100u);
}

// Random inserts, removes and moves over a small universe, so that runs of colliding entries form, wrap around the
// table's end and are broken up by removals in their middle: the case backward-shift deletion must get right.
TEST(HugeRegistry, RandomOperationsMatchAModel) {
  HugeRegistry registry;
  std::set<std::uintptr_t> model;
  std::vector<std::uintptr_t> universe;
  for (std::uintptr_t i = 1; i <= 400; ++i) universe.push_back(i * 16);
  std::mt19937_64 rng(5);
  for (int step = 0; step < 20000; ++step) {
    const std::uintptr_t a = universe[rng() % universe.size()];
    const std::uintptr_t b = universe[rng() % universe.size()];
    switch (rng() % 3) {
      case 0:
        if (model.count(a) == 0 && model.size() < 300) {
          ASSERT_TRUE(registry.insert(a));
          model.insert(a);
        }
        break;
      case 1:
        ASSERT_EQ(registry.remove(a), model.erase(a) == 1);
        break;
      default: {
        // move a -> b when a is present and b is not; a remap that fails (returns 0) keeps a.
        if (model.count(b) != 0) break;
        const bool fails = rng() % 4 == 0;
        bool called = false;
        const bool found = registry.move(a, [&] {
          called = true;
          return fails ? std::uintptr_t{0} : b;
        });
        ASSERT_EQ(found, model.count(a) == 1);
        ASSERT_EQ(called, found) << "remap runs only for a present address";
        if (found && !fails) {
          model.erase(a);
          model.insert(b);
        }
      }
    }
    expect_matches(registry, model, universe);
  }
}

}  // namespace
