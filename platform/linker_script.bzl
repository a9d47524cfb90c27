"""`cc_linker_script`: a linker script as a C++ dependency.

Bazel 4.2's cc_library has no `additional_linker_inputs`; this rule hands the script to every link that depends on
it (as a link input and as `-T <script>`), so a board's cc_library can simply list it in `deps`.
"""

def _cc_linker_script_impl(ctx):
    script = ctx.file.script
    linker_input = cc_common.create_linker_input(
        owner = ctx.label,
        user_link_flags = depset(["-T", script.path]),
        additional_inputs = depset([script]),
    )
    return [CcInfo(linking_context = cc_common.create_linking_context(linker_inputs = depset([linker_input])))]

cc_linker_script = rule(
    implementation = _cc_linker_script_impl,
    attrs = {"script": attr.label(allow_single_file = [".ld"], mandatory = True)},
    provides = [CcInfo],
)
