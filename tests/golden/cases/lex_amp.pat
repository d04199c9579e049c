input p : i32
input q : i32
output r : i32
r = p & q
