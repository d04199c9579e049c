# Without ';' a let's expression extends as far as it can: here the let
# swallows '-a' and reads 'a' before it is bound.
output y : f32
y = { let a = 2.0 -a  a }
