# MLP: two fully connected layers with a ReLU between them, batch of 64.
#
#   H = relu(s1 · (X · W1) + b1)      64 × 256 · 256 × 256
#   Y = s2 · (H · W2) + b2            64 × 256 · 256 × 64
#
# Models the dense part of a recommendation or vision model's head.  The
# weights are drawn uniform in [-1, 1) and scaled by 1/sqrt(fan-in) = 1/16
# (LeCun initialisation), applied once to each sum as a quantised kernel
# applies its dequantisation scale; this keeps activations of order one, as
# in a trained network, instead of growing layer by layer.
#
# It exercises two definitions in sequence with an intermediate `buffer`
# (the producer → consumer pair that fusion keeps on chip instead of in
# DRAM), a reduction followed by a scale and a bias add outside it, and ReLU
# written as `max(…, 0.0)`.
const B = 64       # batch
const I = 256      # input features
const H = 256      # hidden units
const O = 64       # outputs
input  X  : f32[B][I]
input  W1 : f32[I][H]
input  b1 : f32[H]
input  W2 : f32[H][O]
input  b2 : f32[O]
buffer Hd : f32[B][H]
output Y  : f32[B][O]
Hd = map (b: B, h: H) { max(reduce (i: I) + { X[b][i] * W1[i][h] } * 0.0625 + b1[h], 0.0) }
Y  = map (b: B, o: O) { reduce (h: H) + { Hd[b][h] * W2[h][o] } * 0.0625 + b2[o] }
