const Num = 4
input x : f32[Num]
output y : f32[Num]
y = map (i: Nmu) { x[ii] + x[j] }
yy = map (i: Num) { x[i] }
