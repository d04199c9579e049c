# interpret
# Sides that are not selected or not needed are not evaluated: no error.
const N = 4
input x : f32[N]
input d : i32[N]
output shift : f32[N]
output guard : i32[N]
output safe : i32
output row : f32
shift = map (i: N) { i > 0 ? x[i - 1] : 0.0 }
guard = map (i: N) { (i < 3 && d[i + 1] > 0) + 2 * (i >= 3 || d[i + 1] > 0) }
safe = reduce (k: N) + where d[k] != 0 && k + 1 < N { 100 / d[k] + d[k + 1] }
row = reduce (k: N) + where k > 0 { x[k - 1] }
