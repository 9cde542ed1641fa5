/** Shared pieces of the simulation tests: seeded normal draws and the logistic function. */

export const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Standard normal draws from a seeded uniform generator (Box-Muller, both values of a pair used). */
export function normal(rand: () => number): () => number {
  let spare = Number.NaN;
  return () => {
    if (spare === spare) {
      const s = spare;
      spare = Number.NaN;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(1 - rand()));
    const t = 2 * Math.PI * rand();
    spare = r * Math.sin(t);
    return r * Math.cos(t);
  };
}
