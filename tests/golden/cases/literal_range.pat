output a : i32
output b : i32
a = -2147483648
b = 2147483648
