// tests/preload/atfork_early.h — what the fork handlers of tests/preload/atfork_early.cc counted (a shared library's
// handlers registered by its constructor, before the drop-in's; //tests/preload:atfork_test).
#pragma once

/// Prepare handlers run in which every allocation succeeded.
extern "C" int atfork_early_prepares();
/// Parent handlers run in which every allocation succeeded.
extern "C" int atfork_early_parents();
/// Child handlers run in which every allocation succeeded (in the calling process: 1 in a child, 0 in the parent).
extern "C" int atfork_early_children();
