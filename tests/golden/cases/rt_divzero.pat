# interpret
input a : i32[3]
input b : i32[3]
output q : i32[3]
output m : i32[3]
q = map (i: 3) { a[i] / b[i] }
m = map (i: 3) { a[i] % b[i] }
