# interpret
# Row values: a reduce over a row body reduces element-wise; lets bind
# rows; a row is indexed; '?:' picks a row; a map value is indexed.
input A : f32[3][2]
output colsum : f32[2]
output colmax : f32[2]
output pick : f32[3][2]
output twice : f32[3]
output sel : f32[2]
colsum = reduce (i: 3) + { map (j: 2) { A[i][j] } }
colmax = reduce (i: 3) max { map (j: 2) { A[i][j] } }
pick = map (i: 3) {
  let r = map (j: 2) { A[i][j] * 10.0 }
  let s = map (j: 2) { r[1 - j] }
  s
}
twice = map (i: 3) { (map (j: 2) { A[i][j] + 1.0 })[1] * 2.0 }
sel = A[0][0] > A[1][0] ? map (j: 2) { A[0][j] } : map (j: 2) { A[1][j] }
