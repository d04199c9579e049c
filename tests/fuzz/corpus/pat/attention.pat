# One head of scaled dot-product attention, sequence 256, head width 64:
#
#   S = Q · Kᵀ / sqrt(64)          (256 × 256 scores)
#   O = softmax_rows(S) · V        (256 × 64)
#
# The core of a transformer layer.  The scores are a buffer between two
# definitions (fusion candidates); the second definition holds the softmax
# and the product with V per row: a row-valued `let` (p, the unnormalised
# probabilities) that later patterns index, a `max` and a `+` reduction over
# it, and an inner map whose body is itself a reduction over p — a
# meta-pipeline of four stages per query row.
const L = 256      # sequence length
const E = 64       # head width
input  Q : f32[L][E]
input  K : f32[L][E]
input  V : f32[L][E]
buffer S : f32[L][L]
output O : f32[L][E]
S = map (i: L, j: L) { reduce (e: E) + { Q[i][e] * K[j][e] } * 0.125 }
O = map (i: L) {
  let m = reduce (j: L) max { S[i][j] }
  let p = map (j: L) { exp(S[i][j] - m) }
  let s = reduce (j: L) + { p[j] }
  map (e: E) { reduce (j: L) + { p[j] * V[j][e] } / s }
}
