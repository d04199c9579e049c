input x : f32[4]
input k : i32[4]
output a : f32[4]
output b : f32[4]
output c : f32[4]
output d : f32[4]
output e : i32[4]
a = map (i: 4) { exp(k[i]) }
b = map (i: 4) { max(x[i]) }
c = map (i: 4) { max(x[i], k[i]) }
d = map (i: 4) { sqrt(x[i], x[i]) }
e = map (i: 4) { abs(k[i]) }
