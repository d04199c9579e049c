# Layer normalisation of 256 token vectors of width 256, as in a
# transformer block:  y = (x - mean) / sqrt(var + eps) * gamma + beta.
#
# Two dependent row reductions (the variance needs the mean) and an
# element-wise map: a three-stage meta-pipeline per row, like softmax but
# with a block-local `let` inside a reduction body, an i32 → f32 cast of a
# constant, sqrt, and per-column parameters broadcast over the rows.
const R = 256
const D = 256
input  X     : f32[R][D]
input  gamma : f32[D]
input  beta  : f32[D]
output Y     : f32[R][D]
Y = map (i: R) {
  let mean = reduce (j: D) + { X[i][j] } / f32(D)
  let var  = reduce (j: D) + { let c = X[i][j] - mean  c * c } / f32(D)
  let inv  = 1.0 / sqrt(var + 1e-5)
  map (j: D) { (X[i][j] - mean) * inv * gamma[j] + beta[j] }
}
