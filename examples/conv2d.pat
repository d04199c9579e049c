# 2-D convolution, 3 × 3 kernel, stride 1, zero padding 1 ("same"):
# 16 input channels of 32 × 32 pixels to 16 output channels, plus a bias
# and a ReLU — one layer of a small CNN (2.4 M multiply-adds).
#
# The reduction runs over three indices at once (channel and the two kernel
# offsets); the input coordinates are computed in `let`s from the output
# position and the offset, and a `? :` select reads the image only inside
# its borders (the unselected side is never evaluated, so the out-of-range
# read at the border is no error).  Exercises multi-index reductions,
# i32 index arithmetic, && chains and the padding select.  The weights are
# uniform in [-1, 1) scaled by 1/sqrt(fan-in) = 1/12 after the sum, as an
# initialised network's are, so activations stay of order one.
const C  = 16      # input channels
const F  = 16      # output channels (filters)
const H  = 32      # image height
const W  = 32      # image width
input  X    : f32[C][H][W]
input  Wt   : f32[F][C][3][3]
input  bias : f32[F]
output Y    : f32[F][H][W]
Y = map (f: F, y: H, x: W) {
  let acc = reduce (c: C, dy: 3, dx: 3) + {
    let iy = y + dy - 1
    let ix = x + dx - 1
    iy >= 0 && iy < H && ix >= 0 && ix < W ? X[c][iy][ix] * Wt[f][c][dy][dx] : 0.0
  }
  max(acc * 0.083333336 + bias[f], 0.0)
}
