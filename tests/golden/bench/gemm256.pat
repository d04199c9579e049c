# Interpreter speed: GEMM 256^3 (16.8 M multiply-adds) should run well
# under a second in a release build.
const M = 256
const K = 256
const N = 256
input  A : f32[M][K]
input  B : f32[K][N]
output C : f32[M][N]
C = map (i: M, j: N) { reduce (k: K) + { A[i][k] * B[k][j] } }
