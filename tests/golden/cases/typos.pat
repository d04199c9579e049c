# Misspelled keywords, functions and names: the error points at the word
# and suggests the nearest keyword, built-in or declared name.
const Num = 4
cosnt M = 2
input x : f32[Num]
output y : f32[Num]
output z : f32[Num]
output w : f32[Num]
y = map (i: Num) { reduse (j: Num) + { x[j] } }
z = map (i: Nmu) { sqtr(x[i]) }
w = map (i: Num) { lte a = x[i]
  a }
