# Definition errors.
const N = 4
input x : f32[N]
output y : f32[N]
output never : f32[N]
buffer unused : f32[N]
buffer t : f32[N]
output u : f32[N]
output w : f32[N]
x = map (i: N) { 0.0 }
N = 3
q = map (i: N) { 0.0 }
y = map (i: N) { t[i] }
t = map (i: N) { x[i] }
y = map (i: N) { x[i] }
u = map (i: N) { u[i] }
w = map (i: N, j: 2) { x[i] }
