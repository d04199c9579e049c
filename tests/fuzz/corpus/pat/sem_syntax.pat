# interpret
# Precedence, right-associative '?:', the let terminator ';', a pattern
# as a primary, constants declared below their use, scalar outputs.
output ints : i32[4]
output half : f32
output lets : f32
buffer total : f32
output again : f32
input v : f32[N]
const N = M * 2
const M = 2
ints = map (i: 4) { i == 0 ? 1 : i == 1 ? 2 : i == 2 ? 3 : 4 }
half = reduce (k: N) + { v[k] } / 2.0
lets = { let a = v[1]; -a }
total = reduce (k: N) + { v[k] * v[k] }
again = total + { let t = total  t * 2.0 }
