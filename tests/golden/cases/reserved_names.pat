# Keywords and built-in names are reserved.
const map = 3
input exp : f32[4]
output y : f32[4]
y = map (i: 4) { let max = 1.0  max }
output z : f32[4]
z = map (in: 4) { 1.0 }
