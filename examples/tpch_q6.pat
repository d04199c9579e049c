# TPC-H query 6 (forecasting revenue change) over 65536 lineitem rows:
#
#   SELECT sum(l_extendedprice * l_discount) FROM lineitem
#   WHERE l_shipdate >= date '1994-01-01' AND l_shipdate < date '1995-01-01'
#     AND l_discount BETWEEN 0.06 - 0.01 AND 0.06 + 0.01
#     AND l_quantity < 24
#
# Columns are stored as in a column store, with TPC-H's own domains: ship
# dates as days since 1992-01-01 over seven years, discounts as whole
# percent 0 .. 10, quantities 1 .. 50, prices 900 .. 105000.  About 1.8 % of
# rows pass the filter.  A single filtered reduction to a scalar output: the
# `where` guard of five comparisons joined by && decides which iterations
# take part (the sparsity the emulator can skip), and the i32 → f32 cast
# turns percent into a fraction.
const N   = 65536
const D94 = 731    # 1994-01-01, in days since 1992-01-01
const D95 = 1096   # 1995-01-01
input  shipdate : i32[N] in 0 .. 2557
input  discount : i32[N] in 0 .. 11
input  quantity : i32[N] in 1 .. 51
input  price    : f32[N] in 900 .. 105000
output revenue  : f32
revenue = reduce (i: N) + where shipdate[i] >= D94 && shipdate[i] < D95
                             && discount[i] >= 5 && discount[i] <= 7
                             && quantity[i] < 24 {
  price[i] * (f32(discount[i]) * 0.01)
}
