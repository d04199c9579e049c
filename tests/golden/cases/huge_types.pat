# Types too large for int64 are refused without overflow (UBSan once
# reported pat_type_count wrapping).
const N = 2147483647
input a : f32[N][N]
input b : f32[N][N][N]
input c : i32[N][N][N][N][N][N][N][N]
output y : f32
y = 1.0
