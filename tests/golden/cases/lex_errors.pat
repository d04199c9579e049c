# Lexical errors: each is reported once, and parsing goes on.
const N = 4
input x : f32[N]
output a : f32[N]
output b : f32[N]
output c : f32[N]
a = map (i: N) { x[i] @ 2.0 }
b = map (i: N) { x[i] * 1. }
c = map (i: N) { x[i] * 3e }
