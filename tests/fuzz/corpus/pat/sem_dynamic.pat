# interpret
# Dynamic ranges: CSR rows, a bound that uses an earlier index of the
# same pattern, and an empty range when hi <= lo.
const R = 4
input ptr : i32[R + 1]
input col : i32[6]
input val : f32[6]
input x : f32[5]
output y : f32[R]
output tri : i32
output back : f32
y = map (r: R) { reduce (j: ptr[r] .. ptr[r + 1]) + { val[j] * x[col[j]] } }
tri = reduce (i: 4, j: 0 .. i) + { 10 * i + j }
back = reduce (k: 3 .. 1) + { 1.0 }
