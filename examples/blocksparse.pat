# Pixelated-butterfly linear layer (Dao et al., 2022): Y = (X · (W ⊙ M) +
# (X · U / 16) · Vt) / 16, with a block-sparse weight of 16 × 16 blocks whose layout M
# is a flat block butterfly, plus a rank-16 dense term.  128 tokens, 256 →
# 256 features.
#
# The layout is computed in the program as a 16 × 16 block mask: block
# (a, b) is kept when a XOR b is 0 or a power of two (5 of 16 blocks per
# row, 31 % dense), written with integer / and % since the language has no
# bit operators.  The sparse product reduces over blocks with a `where`
# guard on the mask, and inside each kept block over its 16 offsets: a
# skipped block costs one guard, not 16 multiply-adds, which is what the
# mapper's sparsity (versus --dense) measures.  The low-rank term goes
# through a small buffer.  Weights are uniform in [-1, 1) scaled by 1/16
# after each sum (1/sqrt(fan-in), as initialised networks are), which keeps
# outputs of order one.  Exercises a where-guarded reduction over a mask
# tensor whose body is itself a reduction, nested selects, || and ==, and
# block index arithmetic.
const M  = 128     # tokens
const K  = 256     # input features
const N  = 256     # output features
const BS = 16      # block size
const NB = 16      # blocks per side: K / BS
const RK = 16      # rank of the dense term
input  X  : f32[M][K]
input  W  : f32[K][N]
input  U  : f32[K][RK]
input  Vt : f32[RK][N]
buffer layout : i32[NB][NB]
buffer XU : f32[M][RK]
output Y  : f32[M][N]
layout = map (a: NB, b: NB) {
  reduce (l: 4) max {
    let s = l == 0 ? 1 : l == 1 ? 2 : l == 2 ? 4 : 8
    a == b || b == (a / s % 2 == 0 ? a + s : a - s)
  }
}
XU = map (m: M, r: RK) { reduce (k: K) + { X[m][k] * U[k][r] } * 0.0625 }
Y = map (m: M, n: N) {
  let sparse = reduce (kb: NB) + where layout[kb][n / BS] != 0 {
    reduce (kk: BS) + { X[m][kb * BS + kk] * W[kb * BS + kk][n] }
  }
  (sparse + reduce (r: RK) + { XU[m][r] * Vt[r][n] }) * 0.0625
}
