# && || ! take i32.
input x : f32[4]
output a : i32[4]
output b : i32[4]
output c : f32[4]
a = map (i: 4) { x[i] && 1 }
b = map (i: 4) { !x[i] }
c = map (i: 4) { x[i] > 0.0 ? x[i] : -x[i] }
