# Sparse matrix-vector product, CSR, sized for timing the simulator (the
# example spmv.pat simulates in a few milliseconds, mostly set-up).
const R = 8192
const C = 8192
const NNZ = 131072
input  ptr : i32[R + 1] in 0 .. NNZ sorted
input  col : i32[NNZ] in 0 .. C
input  val : f32[NNZ]
input  x   : f32[C]
output y   : f32[R]
y = map (r: R) { reduce (j: ptr[r] .. ptr[r + 1]) + { val[j] * x[col[j]] } }
