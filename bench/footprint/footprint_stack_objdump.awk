# bench/footprint/footprint_stack_objdump.awk (used by footprint.sh for RISC-V, where clang has no
# -fcallgraph-info): worst-case stack depth from the disassembly of the linked program
# (`objdump -d --no-show-raw-insn`). A function's frame is its largest stack-pointer decrement (`addi sp,sp,-N`);
# its callees are the functions it calls or tail-calls (`jal`, `j`, `call`, `tail` to another function's symbol).
# For each root function name in ROOTS (space-separated) prints "ROOT BYTES", the largest sum of frames along any
# call chain, counting every function linked in (libc helpers such as memcpy too). BYTES is "unbounded" for
# recursion, a dynamic frame (`sub sp,sp,reg`) or an indirect call (`jalr` to a register).
function depth(n,    i, d, best) {
  if (n in memo) return memo[n]
  if (n in visiting) { unbounded = 1; return 0 }
  if (n in dynamic) unbounded = 1
  visiting[n] = 1
  best = 0
  for (i = 1; i <= nout[n]; i++) {
    d = depth(out[n, i])
    if (d > best) best = d
  }
  delete visiting[n]
  memo[n] = frame[n] + best
  return memo[n]
}
/^[0-9a-f]+ <[^>]+>:$/ {
  fn = $2; sub(/^</, "", fn); sub(/>:$/, "", fn)
  frame[fn] = 0
  next
}
fn != "" && /\taddi?\tsp,sp,-[0-9]+/ {
  match($0, /sp,sp,-[0-9]+/); n = substr($0, RSTART + 7, RLENGTH - 7) + 0
  if (n > frame[fn]) frame[fn] = n
}
fn != "" && /\tsub\tsp,sp,/ { dynamic[fn] = 1 }
fn != "" && /\tjalr\t/ && !/\tjalr\t(zero,)?ra$|\tjalr\tzero,0\(ra\)/ { dynamic[fn] = 1 }
fn != "" && /\t(jal|j|call|tail)\t/ && /<[^>+]+>$/ {
  match($0, /<[^>+]+>$/); callee = substr($0, RSTART + 1, RLENGTH - 2)
  if (callee != fn && !((fn, callee) in seen)) { seen[fn, callee] = 1; out[fn, ++nout[fn]] = callee }
}
END {
  nroots = split(ROOTS, roots, " ")
  for (r = 1; r <= nroots; r++) {
    if (!(roots[r] in frame)) continue
    unbounded = 0
    delete memo
    d = depth(roots[r])
    print roots[r], (unbounded ? "unbounded" : d)
  }
}
