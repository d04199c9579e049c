# f32 and i32 never mix without a cast.
const N = 4
input x : f32[N]
input k : i32[N]
output a : f32[N]
output b : f32[N]
output c : i32[N]
output d : f32[N]
output e : i32[N]
a = map (i: N) { x[i] + k[i] }
b = map (i: N) { x[i] * 2 }
c = map (i: N) { x[i] < k[i] }
d = map (i: N) { i > 0 ? x[i - 1] : 0 }
e = map (i: N) { k[i] % 2 + i32(x[i] % 2.0) }
