/**
 * Nelder–Mead minimisation (Lagarias et al. 1998 coefficients: reflect 1, expand 2, contract ½, shrink ½), restarted
 * from the best vertex until a restart no longer improves the value: the plain method can stall on a flattened simplex,
 * a fresh simplex around the best point does not. The models minimise −LL over log parameters, so the search is
 * unconstrained and the parameters stay positive.
 */

export interface MinimiseOptions {
  /** Stop a run when the values at the vertices differ by less than this × (1 + |best value|) and the simplex is
   * narrower than its square root in every coordinate. */
  tolerance?: number;
  /** Function evaluations allowed over all restarts. */
  maxEvaluations?: number;
  /** Size of the initial simplex's steps (in the units of x, log units here). */
  step?: number;
}

export interface MinimiseResult {
  x: number[];
  value: number;
  evaluations: number;
  converged: boolean;
}

export function nelderMead(f: (x: readonly number[]) => number, start: readonly number[], options: MinimiseOptions = {}): MinimiseResult {
  const tolerance = options.tolerance ?? 1e-11;
  const maxEvaluations = options.maxEvaluations ?? 20_000;
  const step = options.step ?? 0.5;
  let evaluations = 0;
  const value = (x: readonly number[]): number => {
    evaluations++;
    const v = f(x);
    // A point where the function is undefined is worse than any defined one.
    return Number.isFinite(v) ? v : Number.POSITIVE_INFINITY;
  };
  let best = { x: [...start], value: value(start) };
  for (let restart = 0; evaluations < maxEvaluations; restart++) {
    const run = simplexRun(value, best.x, best.value, restart === 0 ? step : step / 4, tolerance, () => evaluations < maxEvaluations);
    const improved = best.value - run.value;
    best = run.value <= best.value ? run : best;
    if (run.converged && improved <= tolerance * (1 + Math.abs(best.value))) return { ...best, evaluations, converged: Number.isFinite(best.value) };
  }
  return { ...best, evaluations, converged: false };
}

function simplexRun(
  value: (x: readonly number[]) => number,
  start: number[],
  startValue: number,
  step: number,
  tolerance: number,
  budget: () => boolean,
): { x: number[]; value: number; converged: boolean } {
  const n = start.length;
  let simplex = [{ x: start, value: startValue }];
  for (let i = 0; i < n; i++) {
    const x = [...start];
    x[i] = (x[i] as number) + step;
    simplex.push({ x, value: value(x) });
  }
  const towards = (from: readonly number[], to: readonly number[], t: number): number[] => from.map((v, i) => v + t * ((to[i] as number) - v));
  while (budget()) {
    simplex.sort((p, q) => p.value - q.value);
    const lowest = simplex[0] as { x: number[]; value: number };
    const highest = simplex[n] as { x: number[]; value: number };
    const spread = Math.max(...simplex.map((p) => Math.max(...p.x.map((v, i) => Math.abs(v - (lowest.x[i] as number))))));
    if (highest.value - lowest.value <= tolerance * (1 + Math.abs(lowest.value)) && spread < Math.sqrt(tolerance)) return { ...lowest, converged: true };
    const centroid = new Array<number>(n).fill(0);
    for (let j = 0; j < n; j++) for (let i = 0; i < n; i++) centroid[i] = (centroid[i] as number) + (simplex[j]?.x[i] as number) / n;
    const reflected = towards(centroid, highest.x, -1);
    const fr = value(reflected);
    const secondHighest = (simplex[n - 1] as { value: number }).value;
    if (fr < lowest.value) {
      const expanded = towards(centroid, highest.x, -2);
      const fe = value(expanded);
      simplex[n] = fe < fr ? { x: expanded, value: fe } : { x: reflected, value: fr };
    } else if (fr < secondHighest) {
      simplex[n] = { x: reflected, value: fr };
    } else {
      const outside = fr < highest.value;
      const contracted = towards(centroid, outside ? reflected : highest.x, 0.5);
      const fc = value(contracted);
      if (fc < (outside ? fr : highest.value)) {
        simplex[n] = { x: contracted, value: fc };
      } else {
        simplex = simplex.map((p, i) => {
          if (i === 0) return p;
          const x = towards(lowest.x, p.x, 0.5);
          return { x, value: value(x) };
        });
      }
    }
  }
  simplex.sort((p, q) => p.value - q.value);
  return { ...(simplex[0] as { x: number[]; value: number }), converged: false };
}
