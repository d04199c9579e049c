# GEMM at 4096³ (68.7 G multiply-adds): the mapping-time target.
#
# bench/run maps it with --map-only (tiles, placement and routing); its
# 192 MiB of data and 68.7 G multiply-adds are past what the fast sweep
# simulates (examples/model/gemm_1024.pat is simulated).
#
# Each tensor is 64 MiB, larger than one PMU of SN10 (512 KiB) or Plasticine
# (256 KiB), so A, B and C stay in DRAM and the map is tiled through DRAM:
# tiles of A's rows and B's columns are loaded into double-buffered PMUs
# while the tile before is computed and the one before that is stored
# (docs/mapping.md, "Tiling through DRAM").  examples/gemm.pat is the small
# version the fast tests run.
const M = 4096
const K = 4096
const N = 4096
input  A : f32[M][K]
input  B : f32[K][N]
output C : f32[M][N]
C = map (i: M, j: N) { reduce (k: K) + { A[i][k] * B[k][j] } }
