# interpret
# f32 built-ins in binary32, f32 division by zero is IEEE (no error),
# max/min on f32 and i32.
input x : f32[4]
output e : f32[4]
output l : f32[4]
output s : f32[4]
output t : f32[4]
output a : f32[4]
output q : f32[2]
output mm : i32[2]
e = map (i: 4) { exp(x[i]) }
l = map (i: 4) { log(abs(x[i]) + 1.0) }
s = map (i: 4) { sqrt(abs(x[i])) }
t = map (i: 4) { tanh(x[i]) }
a = map (i: 4) { max(x[i], 0.0) - min(x[i], 0.0) }
q = map (i: 2) { i == 0 ? 1.0 / 0.0 : -1.0 / 0.0 }
mm = map (i: 2) { i == 0 ? max(-3, 7) : min(-3, 7) }
