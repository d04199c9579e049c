# Row softmax sized for timing the simulator: 4096 x 64 f32 = 1 MiB would
# exceed one PMU until tiling lands, so 1024 rows of 128.
const R = 1024
const D = 128
input  X : f32[R][D]
output Y : f32[R][D]
Y = map (i: R) {
  let m = reduce (j: D) max { X[i][j] }
  let s = reduce (j: D) + { exp(X[i][j] - m) }
  map (j: D) { exp(X[i][j] - m) / s }
}
