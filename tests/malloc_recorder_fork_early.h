// tests/malloc_recorder_fork_early.h — what the child handler of tests/malloc_recorder_fork_early.cc did (a shared
// library's fork handler, registered by its constructor before a preloaded recorder's; //tests:malloc_recorder_test).
#pragma once

/// The number of malloc/free pairs the library's child handler makes: enough to fill the recorder's 256 KiB buffer
/// of the forking thread whatever its encoding (5-8 bytes an event, 2 events a pair).
inline constexpr int kForkEarlyChildPairs = 60'000;

/// Child handlers run in this process in which every allocation succeeded (1 in a forked child, 0 in the parent).
extern "C" int malloc_recorder_fork_early_children();
