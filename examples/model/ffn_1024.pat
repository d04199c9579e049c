# A transformer feed-forward block at model scale: 128 tokens, model width
# d = 1024, hidden width 4096, with the tanh approximation of GELU:
#
#   H = gelu(X · W1 + b1)        128 × 1024 · 1024 × 4096
#   Y = H · W2 + b2              128 × 4096 · 4096 × 1024
#   gelu(x) = 0.5 x (1 + tanh(0.7978845608 (x + 0.044715 x^3)))
#
# 1.07 G multiply-adds.  W1 and W2 are 16 MiB each and H is 2 MiB: all
# stay in DRAM and both layers are tiled through DRAM.  The weights are
# drawn uniform in [-1, 1) and scaled by 1/sqrt(fan-in) (1/32 and 1/64),
# as examples/mlp.pat does, so activations stay of order one.
const T = 128      # tokens
const D = 1024     # model width
const F = 4096     # hidden width
input  X  : f32[T][D]
input  W1 : f32[D][F]
input  b1 : f32[F]
input  W2 : f32[F][D]
input  b2 : f32[D]
buffer H  : f32[T][F]
output Y  : f32[T][D]
H = map (t: T, f: F) {
  let x = reduce (d: D) + { X[t][d] * W1[d][f] } * 0.03125 + b1[f]
  0.5 * x * (1.0 + tanh(0.7978845608 * (x + 0.044715 * x * x * x)))
}
Y = map (t: T, e: D) { reduce (f: F) + { H[t][f] * W2[f][e] } * 0.015625 + b2[e] }
