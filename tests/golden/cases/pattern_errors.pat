# Pattern rules: dynamic ranges only in reduce/groupby; i32 scalar where,
# key and bounds; compile-time extents >= 1.
const N = 4
input x : f32[N]
input p : i32[N + 1]
input fk : f32[N]
output a : f32[N]
output b : f32
output c : f32[N]
output d : f32
output e : f32[N]
output f : f32[N]
output g : f32[N]
a = map (i: p[0] .. p[1]) { x[i] }
b = reduce (k: N) + where x[k] { x[k] }
c = groupby (k: N) + key fk[k] into N { x[k] }
d = reduce (k: 0.0 .. 4.0) + { 1.0 }
e = map (i: N) { reduce (k: i) + { x[k] } }
f = map (i: 0, j: N) { x[j] }
g = groupby (k: N) + key k into N - 4 { x[k] }
