/** Effect sizes for data drift: distances between two samples' distributions. */

/**
 * Population stability index over `bins` bins cut at the reference's quantiles:
 * sum (cur% - ref%) * ln(cur% / ref%), with empty shares floored at 1e-4 so it stays finite.
 * Inputs sorted ascending. 0.1 is the usual "moderate shift" threshold, 0.25 "major".
 */
export function psiSorted(ref: Float64Array, cur: Float64Array, bins = 10): number {
  if (ref.length === 0 || cur.length === 0) return Number.NaN;
  const edges: number[] = [];
  for (let k = 1; k < bins; k++) edges.push(ref[Math.min(ref.length - 1, Math.floor((k * ref.length) / bins))]!);
  const cuts = [...new Set(edges)]; // ties in the reference collapse bins
  const share = (x: Float64Array) => {
    const counts = new Array<number>(cuts.length + 1).fill(0);
    let b = 0;
    for (let i = 0; i < x.length; i++) {
      while (b < cuts.length && x[i]! >= cuts[b]!) b++;
      counts[b]!++;
    }
    return counts.map((c) => c / x.length);
  };
  return psiFromShares(share(ref), share(cur));
}

/** PSI from two vectors of shares (each summing to 1). */
export function psiFromShares(ref: readonly number[], cur: readonly number[]): number {
  const EPS = 1e-4;
  let psi = 0;
  ref.forEach((r0, i) => {
    const r = Math.max(r0, EPS);
    const c = Math.max(cur[i]!, EPS);
    psi += (c - r) * Math.log(c / r);
  });
  return psi;
}

/**
 * First Wasserstein (earth mover's) distance between two empirical distributions, the
 * integral of |F1(x) - F2(x)| dx; inputs sorted ascending. Equals
 * scipy.stats.wasserstein_distance(a, b). Cost: O(n1 + n2).
 */
export function wassersteinSorted(a: Float64Array, b: Float64Array): number {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) return Number.NaN;
  let i = 0;
  let j = 0;
  let prev = Math.min(a[0]!, b[0]!);
  let dist = 0;
  while (i < n1 || j < n2) {
    const v = j >= n2 || (i < n1 && a[i]! <= b[j]!) ? a[i]! : b[j]!;
    dist += Math.abs(i / n1 - j / n2) * (v - prev);
    prev = v;
    while (i < n1 && a[i]! <= v) i++;
    while (j < n2 && b[j]! <= v) j++;
  }
  return dist;
}
