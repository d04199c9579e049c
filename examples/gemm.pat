# GEMM: C = A · B, 256 × 256 × 256 (16.8 M multiply-adds).
#
# The kernel every dataflow accelerator is measured on first.  It exercises a
# two-dimensional outer `map` (the parallel dimensions the mapper replicates
# over PCUs, with banked PMUs for A and B) around an inner `+` reduction
# (the pipeline a PCU's stages and cross-lane tree finish).  Each tensor is
# 256 KiB, one PMU tile on SN10 and Plasticine.
const M = 256
const K = 256
const N = 256
input  A : f32[M][K]
input  B : f32[K][N]
output C : f32[M][N]
C = map (i: M, j: N) { reduce (k: K) + { A[i][k] * B[k][j] } }
