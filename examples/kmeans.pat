# One step of k-means (Lloyd's algorithm) on 4096 vectors of 16 bytes —
# e.g. 4 × 4 grey-level image patches for vector quantisation — with 32
# centroids: assign every vector to its nearest centroid, then move each
# centroid to the mean of its vectors.
#
# Assignment is an argmin written with two reductions over a row-valued
# `let` (the distances to all centroids): the minimum, then the smallest
# index reaching it.  The update is two group-bys keyed by the assignment —
# one counting, one summing whole rows (a row-valued groupby body).  The
# data are 8-bit integers, so distances and sums are exact in i32: any
# reduction order gives the same assignment, and the mapped design must
# match the interpreter bit for bit.
const N = 4096     # vectors
const D = 16       # bytes per vector
const K = 32       # centroids
input  P      : i32[N][D] in 0 .. 256
input  Cent   : i32[K][D] in 0 .. 256
output assign : i32[N]
output count  : i32[K]
buffer sums   : i32[K][D]
output newC   : f32[K][D]
assign = map (n: N) {
  let dist = map (k: K) { reduce (d: D) + { let t = P[n][d] - Cent[k][d]  t * t } }
  let best = reduce (k: K) min { dist[k] }
  reduce (k: K) min { dist[k] == best ? k : K }
}
count = groupby (n: N) + key assign[n] into K { 1 }
sums  = groupby (n: N) + key assign[n] into K { map (d: D) { P[n][d] } }
newC  = map (k: K, d: D) {
  count[k] > 0 ? f32(sums[k][d]) / f32(count[k]) : f32(Cent[k][d])
}
