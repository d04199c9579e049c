# interpret
input a : i32[3]
output m : i32[3]
m = map (i: 3) { a[i] % (i - 2) }
