# interpret
# Empty index spaces yield the identity of the operator.
input p : i32[2]
output fs : f32[4]
output is : i32[4]
fs = map (o: 4) {
  o == 0 ? reduce (k: p[0] .. p[1]) + { 1.0 } :
  o == 1 ? reduce (k: p[0] .. p[1]) * { 2.0 } :
  o == 2 ? reduce (k: p[1] .. p[0]) max { 3.0 } :
  reduce (k: 5 .. 5) min { 4.0 }
}
is = map (o: 4) {
  o == 0 ? reduce (k: p[0] .. p[1]) + { 1 } :
  o == 1 ? reduce (k: p[0] .. p[1]) * { 2 } :
  o == 2 ? reduce (k: p[1] .. p[0]) max { 3 } :
  reduce (k: 5 .. 5) min { 4 }
}
