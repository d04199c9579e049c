# interpret
const M = 2
const K = 3
const N = 2
input  A : f32[M][K]
input  B : f32[K][N]
output C : f32[M][N]
C = map (i: M, j: N) { reduce (k: K) + { A[i][k] * B[k][j] } }
