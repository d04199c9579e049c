# interpret
# i32 semantics: wrap-around, C division and remainder, INT_MIN / -1,
# casts that truncate toward zero and saturate.
input big : i32
input neg : f32[4]
output w : i32[12]
output c : i32[4]
output f : f32[2]
w = map (i: 12) {
  i == 0 ? big + 1 :
  i == 1 ? -2147483648 / -1 :
  i == 2 ? -2147483648 % -1 :
  i == 3 ? -7 / 2 :
  i == 4 ? -7 % 2 :
  i == 5 ? 7 % -2 :
  i == 6 ? -(-2147483648) :
  i == 7 ? big * 2 :
  i == 8 ? 2 + 3 * 4 - 1 :
  i == 9 ? 1 - 2 - 3 :
  i == 10 ? 7 - -2 :
  (1 < 2 == 1) + !0 + !5
}
c = map (i: 4) { i32(neg[i]) }
f = map (i: 2) { i == 0 ? f32(16777217) : f32(-2147483648) }
