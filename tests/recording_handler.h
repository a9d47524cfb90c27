// tests/recording_handler.h — EXPECT_FAULT for GoogleTest suites: runs a misuse expecting RecordingHandler
// (tests/fault_jump.h, framework-free) to be called once with a given kind and address, then lets the test go on
// inspecting the heap.
#pragma once

#include <gtest/gtest.h>

#include <csetjmp>

#include "tests/fault_jump.h"

/// Runs `misuse` expecting RecordingHandler to be called once with `expected_error` about `expected_where`.
#define EXPECT_FAULT(misuse, expected_error, expected_where)                                  \
  do {                                                                                        \
    std::jmp_buf env;                                                                         \
    ::nostd::testing::RecordingHandler::resume = &env;                                        \
    const int before = ::nostd::testing::RecordingHandler::calls;                             \
    if (setjmp(env) == 0) {                                                                   \
      misuse;                                                                                 \
      ADD_FAILURE() << "no fault reported for: " #misuse;                                     \
    }                                                                                         \
    EXPECT_EQ(::nostd::testing::RecordingHandler::calls, before + 1);                         \
    EXPECT_EQ(::nostd::testing::RecordingHandler::last.error, expected_error);                \
    EXPECT_EQ(::nostd::testing::RecordingHandler::last.where, (const void*)(expected_where)); \
    EXPECT_NE(::nostd::testing::RecordingHandler::last.what, nullptr);                        \
    ::nostd::testing::RecordingHandler::resume = nullptr;                                     \
  } while (0)
