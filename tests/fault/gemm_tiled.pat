# fault.py: a gemm whose tensors (4 KiB) exceed the 1 KiB PMUs of
# tests/data/plasticine-1k.cfg, so they stay in DRAM and the map is tiled
# with its reduction split: every allocation of that path fails in turn.
const M = 32
const K = 32
const N = 32
input  A : f32[M][K]
input  B : f32[K][N]
output C : f32[M][N]
C = map (i: M, j: N) { reduce (k: K) + { A[i][k] * B[k][j] } }
