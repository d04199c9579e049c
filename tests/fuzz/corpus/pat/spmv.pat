# Sparse matrix-vector product y = A · x with A in CSR form, 1024 × 1024,
# 16384 non-zeros (1.6 % dense), as in the language contract.
#
# The row pointers are generated sorted from 0 to NNZ, so row lengths vary
# as in a real sparse matrix (some rows empty, some several times the mean
# of 16).  The inner reduction has a dynamic range read from data
# (ptr[r] .. ptr[r+1]) and a gather through the column indices (x[col[j]]):
# the irregular access and variable trip count that make sparsity worth
# mapping well.
const R = 1024
const C = 1024
const NNZ = 16384
input  ptr : i32[R + 1] in 0 .. NNZ sorted
input  col : i32[NNZ] in 0 .. C
input  val : f32[NNZ]
input  x   : f32[C]
output y   : f32[R]
y = map (r: R) { reduce (j: ptr[r] .. ptr[r + 1]) + { val[j] * x[col[j]] } }
