# bench/footprint/footprint_stack.awk (used by footprint.sh)
# Worst-case stack depth from GCC's -fcallgraph-info=su output (VCG): for each root function name given in
# ROOTS (space-separated, matched against the end of node titles), the largest sum of frame sizes along any call
# chain. Calls to functions without a frame size in the file (libc helpers) count as 0. Prints "ROOT BYTES" per
# root; BYTES is "unbounded" for recursion or a dynamic frame.
function depth(n,    i, m, d, best) {
  if (n in memo) return memo[n]
  if (n in visiting) { unbounded = 1; return 0 }
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
/^node:/ {
  match($0, /title: "[^"]*"/); t = substr($0, RSTART + 8, RLENGTH - 9)
  if (match($0, /\\n[0-9]+ bytes \([a-z,]+\)/)) {
    s = substr($0, RSTART + 2, RLENGTH - 2); split(s, parts, " ")
    frame[t] = parts[1] + 0
    if (s ~ /dynamic/ && s !~ /bounded/) dynamic[t] = 1
  }
  titles[t] = 1
}
/^edge:/ {
  match($0, /sourcename: "[^"]*"/); a = substr($0, RSTART + 13, RLENGTH - 14)
  match($0, /targetname: "[^"]*"/); b = substr($0, RSTART + 13, RLENGTH - 14)
  out[a, ++nout[a]] = b
}
END {
  nroots = split(ROOTS, roots, " ")
  for (r = 1; r <= nroots; r++) {
    found = ""
    for (t in titles) if (t == roots[r] || t ~ (":" roots[r] "$")) found = t
    if (found == "") continue
    unbounded = 0
    d = depth(found)
    for (t in dynamic) unbounded = 1
    print roots[r], (unbounded ? "unbounded" : d)
  }
}
