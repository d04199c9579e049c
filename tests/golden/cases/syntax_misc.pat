input x : f32[4]
output y : f32[4]
output w : f32
y = map (i: 4) { foo(x[i]) }
w = reduce (k: 4) { x[k] }
let q = 3
output v : f32[4] in 0 .. 3
