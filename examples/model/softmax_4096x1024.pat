# Row softmax at model scale: 4096 rows of 1024 (an attention score matrix
# of a 4096-token sequence against 1024 keys), numerically stable.
#
# X and Y are 16 MiB each: they stay in DRAM and the rows are tiled through
# DRAM, each tile of rows loaded, normalised by the three-stage row
# pipeline, and stored, overlapped.  examples/softmax.pat is the small
# version.
const R = 4096
const D = 1024
input  X : f32[R][D]
output Y : f32[R][D]
Y = map (i: R) {
  let m = reduce (j: D) max { X[i][j] }
  let s = reduce (j: D) + { exp(X[i][j] - m) }
  map (j: D) { exp(X[i][j] - m) / s }
}
