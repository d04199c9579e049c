const N = 4
input x : f32[N]
output y : f32[N]
output z : f32[N]
y = map (i: N) { x[j] + nope }
z = map (i: N) { N[i] }
