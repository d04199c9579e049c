# Three syntax errors, one per statement; each is found in one run.
const N = 8
input x : f32[N]
output y : f32[N]
output z : f32[N]
buffer t : f32[N]
t = map (i: N { x[i] }
y = map (i: N) { let a = x[i] }
z = map (i: N) { x[i] + * 2.0 }
