"""A GCC cross toolchain for Bazel 4.2: tool paths under /usr/bin plus a few flag features.

One rule, `gcc_cross_toolchain_config`, describes every cross compiler nostd-alloc uses (arm-none-eabi for the
Cortex-M boards, riscv64-linux-gnu for RISC-V Linux, clang + riscv64-unknown-elf for bare-metal rv32). The CPU flags
(`-mcpu=...`) come from `cpu_flags` and go to every compile and link action, so one compiler serves several CPUs.

`compiler_path` splits compiling from linking: bare-metal rv32 compiles C++ with clang (Debian ships no C++ headers
for riscv64-unknown-elf, but clang can use libc++'s) and links with the GCC driver, which knows picolibc's specs and
multilib layout. Compile actions then get their own `action_config`; link and archive actions keep the GCC tools.
"""

load(
    "@bazel_tools//tools/cpp:cc_toolchain_config_lib.bzl",
    "feature",
    "flag_group",
    "flag_set",
    "action_config",
    "tool",
    "tool_path",
    "with_feature_set",
)
load("@bazel_tools//tools/build_defs/cc:action_names.bzl", "ACTION_NAMES")

_COMPILE_ACTIONS = [
    ACTION_NAMES.assemble,
    ACTION_NAMES.preprocess_assemble,
    ACTION_NAMES.c_compile,
    ACTION_NAMES.cpp_compile,
    ACTION_NAMES.cpp_header_parsing,
    ACTION_NAMES.cpp_module_compile,
    ACTION_NAMES.cpp_module_codegen,
    ACTION_NAMES.linkstamp_compile,
]

_CXX_ACTIONS = [
    ACTION_NAMES.cpp_compile,
    ACTION_NAMES.cpp_header_parsing,
    ACTION_NAMES.cpp_module_compile,
    ACTION_NAMES.cpp_module_codegen,
    ACTION_NAMES.linkstamp_compile,
]

_LINK_ACTIONS = [
    ACTION_NAMES.cpp_link_executable,
    ACTION_NAMES.cpp_link_dynamic_library,
    ACTION_NAMES.cpp_link_nodeps_dynamic_library,
]

def _flags_feature(name, actions, flags, enabled = True, with_features = []):
    return feature(
        name = name,
        enabled = enabled,
        flag_sets = [flag_set(
            actions = actions,
            flag_groups = [flag_group(flags = flags)],
            with_features = with_features,
        )] if flags else [],
    )

def _impl(ctx):
    prefix = ctx.attr.tool_prefix
    tools = ["ar", "cpp", "gcc", "gcov", "ld", "nm", "objcopy", "objdump", "strip"]
    tool_paths = [tool_path(name = t, path = "/usr/bin/" + prefix + t) for t in tools]

    # Bazel's built-in modes: fastbuild and dbg keep debug info; opt optimises (the footprint tool picks -Os itself).
    clang = bool(ctx.attr.compiler_path)

    # With a separate compiler, compile actions name it; the features they imply are the ones Bazel's legacy
    # (tool_paths) action configs imply, so flags, inputs and outputs reach the command line as before.
    action_configs = [
        action_config(
            action_name = action,
            tools = [tool(path = ctx.attr.compiler_path)],
            implies = [
                "legacy_compile_flags",
                "user_compile_flags",
                "sysroot",
                "unfiltered_compile_flags",
                "compiler_input_flags",
                "compiler_output_flags",
            ],
        )
        for action in _COMPILE_ACTIONS
    ] if clang else []

    features = [
        feature(name = "dbg"),
        feature(name = "opt"),
        feature(name = "fastbuild"),
        _flags_feature(
            "default_compile_flags",
            _COMPILE_ACTIONS,
            ctx.attr.cpu_flags + ctx.attr.compile_flags + [
                "-ffunction-sections",
                "-fdata-sections",
                "-no-canonical-prefixes",
            ] + ([] if clang else [
                "-fno-canonical-system-headers",  # GCC only: keep header paths as given (Bazel's include check)
            ]) + [
                # Reproducible outputs: no time stamps in the objects.
                "-Wno-builtin-macro-redefined",
                "-D__DATE__=\"redacted\"",
                "-D__TIME__=\"redacted\"",
                "-D__TIMESTAMP__=\"redacted\"",
            ],
        ),
        feature(
            name = "mode_flags",
            enabled = True,
            flag_sets = [
                flag_set(
                    actions = _COMPILE_ACTIONS,
                    flag_groups = [flag_group(flags = ["-g", "-O0"])],
                    with_features = [with_feature_set(features = ["dbg"])],
                ),
                flag_set(
                    actions = _COMPILE_ACTIONS,
                    flag_groups = [flag_group(flags = ["-g1", "-O1"])],
                    with_features = [with_feature_set(features = ["fastbuild"])],
                ),
                flag_set(
                    actions = _COMPILE_ACTIONS,
                    flag_groups = [flag_group(flags = ["-O2", "-DNDEBUG"])],
                    with_features = [with_feature_set(features = ["opt"])],
                ),
            ],
        ),
        _flags_feature("default_cxx_flags", _CXX_ACTIONS, ctx.attr.cxx_flags),
        _flags_feature(
            "default_link_flags",
            _LINK_ACTIONS,
            ctx.attr.cpu_flags + ctx.attr.link_flags + ["-Wl,--gc-sections", "-no-canonical-prefixes"],
        ),
        # Link libstdc++ and libm after everything else (cc_binary puts user link flags before the libraries).
        _flags_feature("default_link_libs", _LINK_ACTIONS, ctx.attr.link_libs),
    ]

    return cc_common.create_cc_toolchain_config_info(
        ctx = ctx,
        toolchain_identifier = ctx.attr.name,
        host_system_name = "x86_64-linux-gnu",
        target_system_name = ctx.attr.target_system_name,
        target_cpu = ctx.attr.target_cpu,
        target_libc = ctx.attr.target_libc,
        compiler = "clang" if clang else "gcc",
        abi_version = "gcc",
        abi_libc_version = ctx.attr.target_libc,
        tool_paths = tool_paths,
        action_configs = action_configs,
        features = features,
        cxx_builtin_include_directories = ctx.attr.builtin_include_directories,
    )

gcc_cross_toolchain_config = rule(
    implementation = _impl,
    attrs = {
        "tool_prefix": attr.string(mandatory = True, doc = "e.g. `arm-none-eabi-`: tools are /usr/bin/<prefix>gcc, ..."),
        "target_system_name": attr.string(mandatory = True),
        "target_cpu": attr.string(mandatory = True),
        "target_libc": attr.string(mandatory = True),
        "compiler_path": attr.string(doc = "A compiler for compile actions (e.g. /usr/bin/clang++-19) instead of " +
                                           "<prefix>gcc, which then only links."),
        "cpu_flags": attr.string_list(doc = "Flags that select the CPU; passed to compiling and linking."),
        "compile_flags": attr.string_list(doc = "Further flags for every compile action."),
        "cxx_flags": attr.string_list(doc = "Further flags for C++ compile actions."),
        "link_flags": attr.string_list(doc = "Further flags for every link action."),
        "link_libs": attr.string_list(doc = "Libraries for every link action."),
        "builtin_include_directories": attr.string_list(doc = "The compiler's system include directories."),
    },
    provides = [CcToolchainConfigInfo],
)
