# Declaration errors.
const N = 4
const N = 5
const A = B + 1
const B = A * 2
const BIG = 65536 * 65536
const Z = 10 / (N - 4)
const F = 2.5
input x : f32[N - 4]
input y : f32[-3]
input k : i32[N] in 7 .. 7
input s : f32[N] in 0 .. 10 sorted
input m : i32[N][N] in 0 .. 10 sorted
input big : i32[3000000000]
input huge : f32[65536][65536]
output o : f32
o = 1.0
