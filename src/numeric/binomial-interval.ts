// The Clopper–Pearson ("exact") confidence interval for a binomial proportion: k successes in n
// trials. The lower end is the p at which P(X ≥ k) = α/2, the upper the p at which P(X ≤ k) = α/2
// (0 and 1 when k is 0 or n). Both tails are monotone in p, so each end is found by bisection on
// the binomial CDF, summed in log space (n may be millions of cells, k a few hundred).

/** P(X ≤ k) for X ~ Binomial(n, p). */
export function binomialCdf(k: number, n: number, p: number): number {
  if (k < 0) return 0;
  if (k >= n || p <= 0) return 1;
  if (p >= 1) return 0;
  // Sum the shorter tail: P(X ≤ k) = 1 - P(X ≥ k + 1), and P(X ≥ k + 1; p) = P(Y ≤ n - k - 1; 1 - p).
  if (k > n / 2) return 1 - binomialCdf(n - k - 1, n, 1 - p);
  const logOdds = Math.log(p) - Math.log1p(-p);
  let term = n * Math.log1p(-p); // ln P(X = 0)
  let logSum = term;
  for (let j = 0; j < k; j++) {
    term += Math.log((n - j) / (j + 1)) + logOdds;
    const high = Math.max(logSum, term);
    logSum = high + Math.log(Math.exp(logSum - high) + Math.exp(term - high));
  }
  return Math.min(1, Math.exp(logSum));
}

/** The p in [0, 1] where a function falling in p crosses `target`. */
function crossing(fall: (p: number) => number, target: number): number {
  let low = 0;
  let high = 1;
  for (let i = 0; i < 100 && high - low > 1e-15 * Math.max(high, 1e-300); i++) {
    const mid = (low + high) / 2;
    if (fall(mid) > target) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

/** The two-sided Clopper–Pearson interval at confidence 1 - alpha (default 95 %). */
export function clopperPearson(k: number, n: number, alpha = 0.05): { low: number; high: number } {
  if (!Number.isInteger(k) || !Number.isInteger(n) || n < 1 || k < 0 || k > n) throw new RangeError(`a binomial count needs integers 0 ≤ k ≤ n, n ≥ 1 (got k ${k}, n ${n})`);
  // P(X ≥ k) rises with p, so 1 - P(X ≥ k) = P(X ≤ k - 1) falls: the lower end is where it crosses 1 - α/2.
  const low = k === 0 ? 0 : crossing((p) => binomialCdf(k - 1, n, p), 1 - alpha / 2);
  const high = k === n ? 1 : crossing((p) => binomialCdf(k, n, p), alpha / 2);
  return { low, high };
}
