# Black-Scholes pricing of 32768 European options, call and put, as in the
# PARSEC benchmark (the cumulative normal is its Abramowitz-Stegun
# polynomial, 26.2.17).
#
# Purely element-wise and transcendental-heavy: log, sqrt, exp and abs, a
# long chain of `let`s (more lane operations per option than one PCU has
# stages, so the pipeline must be partitioned), selects on the sign of d1 and
# d2, and a two-element row result (call, put) per option.  Inputs are in
# market units: spot and strike 10 .. 200, days to expiry 30 .. 730, volatility
# in whole percent 10 .. 60; the risk-free rate is 2 %.
const N = 32768
input  spot   : f32[N] in 10 .. 200
input  strike : f32[N] in 10 .. 200
input  days   : i32[N] in 30 .. 731
input  volpct : i32[N] in 10 .. 61
output price  : f32[N][2]        # [i][0] call, [i][1] put
price = map (i: N) {
  let s     = spot[i]
  let k     = strike[i]
  let t     = f32(days[i]) / 365.0
  let sigma = f32(volpct[i]) * 0.01
  let sqt   = sqrt(t)
  let d1    = (log(s / k) + (0.02 + 0.5 * sigma * sigma) * t) / (sigma * sqt)
  let d2    = d1 - sigma * sqt
  let k1 = 1.0 / (1.0 + 0.2316419 * abs(d1))
  let w1 = 1.0 - 0.3989422804 * exp(-0.5 * d1 * d1) * k1 * (0.319381530 + k1 * (-0.356563782
           + k1 * (1.781477937 + k1 * (-1.821255978 + k1 * 1.330274429))))
  let n1 = d1 < 0.0 ? 1.0 - w1 : w1
  let k2 = 1.0 / (1.0 + 0.2316419 * abs(d2))
  let w2 = 1.0 - 0.3989422804 * exp(-0.5 * d2 * d2) * k2 * (0.319381530 + k2 * (-0.356563782
           + k2 * (1.781477937 + k2 * (-1.821255978 + k2 * 1.330274429))))
  let n2 = d2 < 0.0 ? 1.0 - w2 : w2
  let disc = k * exp(-0.02 * t)
  let call = s * n1 - disc * n2
  let put  = disc * (1.0 - n2) - s * (1.0 - n1)
  map (c: 2) { c == 0 ? call : put }
}
