# Logistic regression: one gradient evaluation of the mean cross-entropy
# loss over 1024 samples of 64 features, with its loss.
#
#   p = sigmoid(X · w + bias)
#   grad = Xᵀ · (p - y) / N,   gbias = mean(p - y)
#   loss = mean(-y log p - (1 - y) log(1 - p))
#
# A map feeding three reductions of different shapes: a transposed one (the
# reduction runs over the rows of X, the map over its columns), and two to
# scalars.  Exercises a scalar input, scalar outputs, exp and log, unary
# minus on a reduction, i32 labels cast to f32, and a select between two
# log terms.
const N = 1024     # samples
const F = 64       # features
input  X     : f32[N][F]
input  y     : i32[N] in 0 .. 2
input  w     : f32[F]
input  bias  : f32
buffer p     : f32[N]
output grad  : f32[F]
output gbias : f32
output loss  : f32
p = map (n: N) { 1.0 / (1.0 + exp(-(reduce (f: F) + { X[n][f] * w[f] } + bias))) }
grad  = map (f: F) { reduce (n: N) + { (p[n] - f32(y[n])) * X[n][f] } / f32(N) }
gbias = reduce (n: N) + { p[n] - f32(y[n]) } / f32(N)
loss  = reduce (n: N) + { y[n] == 1 ? -log(p[n]) : -log(1.0 - p[n]) } / f32(N)
