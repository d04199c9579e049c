# Weighted histogram of 65536 samples into 256 bins, as in the language
# contract: a group-by whose key is read from data.
#
# Each sample adds its weight into the bin named by its key: a scatter-add
# with data-dependent addresses, the pattern behind histograms, sparse
# gradient updates and database GROUP BY.  On the fabric the bins live in a
# PMU and colliding keys serialise on its banks.
const N = 65536
const B = 256
input  keys : i32[N] in 0 .. B
input  w    : f32[N]
output H    : f32[B]
H = groupby (i: N) + key keys[i] into B { w[i] }
