# Embedding bag, sum mode with per-sample weights, as in DLRM's sparse
# features (PyTorch EmbeddingBag with include_last_offset): 512 bags look up
# 8192 rows in all (16 per bag on average, varying) of a 4096 × 16 table.
#
# Each bag's range comes from sorted offsets (a dynamic reduction range),
# each lookup is a gather of a whole table row through an index read from
# data, and the reduction body is a row (the 16-wide embedding), so the
# reduction is element-wise over rows: the memory-bound, irregular half of a
# recommendation model.
const R  = 4096    # table rows
const D  = 16      # embedding width
const NB = 512     # bags (the batch)
const NI = 8192    # lookups in all
input  table   : f32[R][D]
input  idx     : i32[NI] in 0 .. R
input  offsets : i32[NB + 1] in 0 .. NI sorted
input  psw     : f32[NI] in 0 .. 1      # per-sample weights
output pooled  : f32[NB][D]
pooled = map (b: NB) {
  reduce (j: offsets[b] .. offsets[b + 1]) + {
    let row = idx[j]
    map (d: D) { table[row][d] * psw[j] }
  }
}
