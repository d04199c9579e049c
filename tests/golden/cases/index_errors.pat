# Indexing: i32 scalars, every dimension, no slicing.
const N = 4
input A : f32[N][N]
input v : f32[N]
input s : f32
output a : f32[N]
output b : f32[N]
output c : f32[N]
output d : f32[N]
output e : f32[N]
a = map (i: N) { A[i] }
b = map (i: N) { v[f32(i)] }
c = map (i: N) { A[i][0][1] }
d = map (i: N) { s[i] }
e = map (i: N) { v }
