# interpret
# A row bound by let, indexed out of its bounds, is named by the let.
input x : f32[3]
output y : f32[2]
y = map (i: 2) { let r = map (j: 3) { x[j] * 2.0 }  r[i * 2 + 1] }
