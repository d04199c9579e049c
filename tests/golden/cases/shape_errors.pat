# The value of a definition must have the declared shape.
input x : f32[4][3]
output rows : f32[4]
output col : f32[3][4]
output bad : f32[4]
rows = map (i: 4) { map (j: 3) { x[i][j] } }
col = map (i: 4, j: 3) { x[i][j] }
bad = map (i: 4) { map (j: 3) { x[i][j] } + 1.0 }
