# interpret
# A gather out of bounds is a run-time error naming the definition,
# the position and the index values.
const R = 4
input col : i32[R]
input x : f32[8]
output y : f32[R][2]
y = map (r: R, j: 2) { x[col[r] + j] }
