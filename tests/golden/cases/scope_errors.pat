input x : f32[4]
output a : f32[4]
output b : f32
a = map (i: 4) { let t = x[i]  let t = 2.0 * t  t }
b = reduce (k: 4, k: 2) + { x[k] }
