# interpret
# groupby: identity start, combine into slot KEY, where, row bodies.
input keys : i32[6]
input w : f32[6]
output H : f32[3]
output M : f32[3]
output C : i32[3]
output R : f32[3][2]
H = groupby (i: 6) + key keys[i] into 3 { w[i] }
M = groupby (i: 6) max key keys[i] into 3 { w[i] }
C = groupby (i: 6) + key keys[i] into 3 where w[i] > 0.0 { 1 }
R = groupby (i: 6) + key keys[i] into 3 { map (j: 2) { w[i] * f32(j + 1) } }
