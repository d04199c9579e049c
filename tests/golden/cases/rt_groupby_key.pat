# interpret
input keys : i32[6]
input w : f32[6]
output H : f32[4]
H = groupby (i: 6) + key keys[i] into 4 { w[i] }
