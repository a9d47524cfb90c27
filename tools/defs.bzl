"""Build macros for nostd-alloc's own code: warnings as errors, no exceptions, no RTTI, on every platform.

Third-party code (GoogleTest) is built with its own flags; only targets declared through these macros get
NOSTD_COPTS.
"""

NOSTD_COPTS = [
    "-Wall",
    "-Wextra",
    "-Werror",
    "-Wshadow",
    "-Wconversion",
    "-Wno-sign-conversion",
    "-fno-exceptions",
    "-fno-rtti",
]

def nostd_cc_library(name, copts = [], **kwargs):
    """A cc_library with the project's warning and language flags."""
    native.cc_library(name = name, copts = NOSTD_COPTS + copts, **kwargs)

def nostd_cc_binary(name, copts = [], **kwargs):
    """A cc_binary with the project's warning and language flags."""
    native.cc_binary(name = name, copts = NOSTD_COPTS + copts, **kwargs)

def nostd_cc_test(name, copts = [], deps = [], size = "small", **kwargs):
    """A GoogleTest cc_test with the project's flags, linked against gtest_main."""
    native.cc_test(
        name = name,
        size = size,
        copts = NOSTD_COPTS + copts,
        deps = deps + ["@googletest//:gtest_main"],
        **kwargs
    )

def nostd_check_test(name, copts = [], deps = [], size = "small", **kwargs):
    """A test program without GoogleTest (tests/check.h: NOSTD_CHECK, exit status 0 when every check passed), for
    the platforms GoogleTest cannot be linked on (bare-metal rv32) and the drivers shared with the suites."""
    native.cc_test(
        name = name,
        size = size,
        copts = NOSTD_COPTS + copts,
        deps = deps + ["//tests:check"],
        **kwargs
    )

def nostd_fuzzer(name, srcs, deps = [], **kwargs):
    """A libFuzzer target with the project's flags: testonly, and manual (built only with --config=fuzz or
    --config=fuzz_fast, whose clang links -fsanitize=fuzzer; //... skips it)."""
    native.cc_binary(
        name = name,
        testonly = True,
        srcs = srcs,
        copts = NOSTD_COPTS,
        linkopts = ["-fsanitize=fuzzer"],
        tags = ["manual"],
        deps = deps,
        **kwargs
    )
