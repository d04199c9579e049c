# interpret
const R = 2
const D = 3
input  X : f32[R][D]
output Y : f32[R][D]
Y = map (i: R) {
  let m = reduce (j: D) max { X[i][j] }
  let s = reduce (j: D) + { exp(X[i][j] - m) }
  map (j: D) { exp(X[i][j] - m) / s }
}
