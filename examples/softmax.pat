# Row softmax over a 512 × 128 matrix, numerically stable (the row maximum
# is subtracted before exp), as in the language contract.
#
# Per row, three inner patterns run one after another on the same data: a
# `max` reduction, a `+` reduction of exponentials, and a `map` that
# normalises.  They are the three stages of a meta-pipeline over the rows,
# linked by N-buffered PMUs.  It exercises `let` bindings of reductions, a
# row-valued block result, exp, and a `max` reduction with its -inf identity.
const R = 512
const D = 128
input  X : f32[R][D]
output Y : f32[R][D]
Y = map (i: R) {
  let m = reduce (j: D) max { X[i][j] }
  let s = reduce (j: D) + { exp(X[i][j] - m) }
  map (j: D) { exp(X[i][j] - m) / s }
}
