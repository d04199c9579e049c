# GEMM at model scale: C = A · B, 1024 × 1024 × 1024 (1.07 G multiply-adds).
#
# Each tensor is 4 MiB, larger than one PMU of SN10 (512 KiB) or Plasticine
# (256 KiB), so A, B and C stay in DRAM and the map is tiled through DRAM:
# tiles of A's rows and B's columns are loaded into double-buffered PMUs
# while the tile before is computed and the one before that is stored
# (docs/mapping.md, "Tiling through DRAM").  examples/gemm.pat is the small
# version the fast tests run.
const M = 1024
const K = 1024
const N = 1024
input  A : f32[M][K]
input  B : f32[K][N]
output C : f32[M][N]
C = map (i: M, j: N) { reduce (k: K) + { A[i][k] * B[k][j] } }
