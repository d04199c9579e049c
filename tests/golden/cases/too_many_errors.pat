input x : f32[4]
output o0 : f32[4]
output o1 : f32[4]
output o2 : f32[4]
output o3 : f32[4]
output o4 : f32[4]
output o5 : f32[4]
output o6 : f32[4]
output o7 : f32[4]
output o8 : f32[4]
output o9 : f32[4]
output o10 : f32[4]
output o11 : f32[4]
output o12 : f32[4]
output o13 : f32[4]
output o14 : f32[4]
output o15 : f32[4]
output o16 : f32[4]
output o17 : f32[4]
output o18 : f32[4]
output o19 : f32[4]
output o20 : f32[4]
output o21 : f32[4]
output o22 : f32[4]
output o23 : f32[4]
output o24 : f32[4]
o0 = map (i: 4) { x[i] + i }
o1 = map (i: 4) { x[i] + i }
o2 = map (i: 4) { x[i] + i }
o3 = map (i: 4) { x[i] + i }
o4 = map (i: 4) { x[i] + i }
o5 = map (i: 4) { x[i] + i }
o6 = map (i: 4) { x[i] + i }
o7 = map (i: 4) { x[i] + i }
o8 = map (i: 4) { x[i] + i }
o9 = map (i: 4) { x[i] + i }
o10 = map (i: 4) { x[i] + i }
o11 = map (i: 4) { x[i] + i }
o12 = map (i: 4) { x[i] + i }
o13 = map (i: 4) { x[i] + i }
o14 = map (i: 4) { x[i] + i }
o15 = map (i: 4) { x[i] + i }
o16 = map (i: 4) { x[i] + i }
o17 = map (i: 4) { x[i] + i }
o18 = map (i: 4) { x[i] + i }
o19 = map (i: 4) { x[i] + i }
o20 = map (i: 4) { x[i] + i }
o21 = map (i: 4) { x[i] + i }
o22 = map (i: 4) { x[i] + i }
o23 = map (i: 4) { x[i] + i }
o24 = map (i: 4) { x[i] + i }
