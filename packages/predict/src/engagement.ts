/**
 * Best channel and hour of the week by empirical Bayes: a customer's share of engagement on option c, k_c out of n,
 * shrunk toward the population's share p_c with a prior worth m events:
 *     rate_c = (k_c + m·p_c) / (n + m)
 * A customer with no evidence gets the population's best; one with a single e-mail open still does unless e-mail is
 * within 1/m of it in the population; many events on one option win. m = PRIOR_STRENGTH (10) unless the model says
 * otherwise. The population shares come from the warehouse at fit time and are stored with the model (its version).
 */

/** The prior's weight, in events: about how many of a customer's events it takes to outweigh the population. */
export const PRIOR_STRENGTH = 10;

/** The population's engagement, stored with the model: each option's share of all engagement events (shares sum to 1). */
export interface EngagementPrior {
  channels: Record<string, number>;
  /** Hour of the week (UTC, "0" = Monday 00h … "167") → share. */
  hours: Record<string, number>;
  /** Engagement events counted in the population. */
  events: number;
  prior_strength: number;
}

/** Shares of counts (an empty or all-zero map gives {}). */
export function shares(counts: Readonly<Record<string, number>>): Record<string, number> {
  const total = Object.values(counts).reduce((s, n) => s + n, 0);
  const out: Record<string, number> = {};
  if (!(total > 0)) return out;
  for (const [k, n] of Object.entries(counts)) if (n > 0) out[k] = n / total;
  return out;
}

/** The population prior from the warehouse's counts per channel and per hour of the week. */
export function engagementPrior(channels: Readonly<Record<string, number>>, hours: Readonly<Record<string, number>>, m = PRIOR_STRENGTH): EngagementPrior {
  return { channels: shares(channels), hours: shares(hours), events: Object.values(channels).reduce((s, n) => s + n, 0), prior_strength: m };
}

export interface Best {
  key: string;
  rate: number;
}

/**
 * The option with the highest shrunk rate among those the population or the customer has (minus `excluded`, e.g. a
 * channel whose consent was withdrawn); ties go to the larger population share, then the smaller key. Null when there
 * is no candidate with a positive rate.
 */
export function bestOption(
  counts: Readonly<Record<string, number>> | undefined,
  population: Readonly<Record<string, number>>,
  m: number,
  excluded: ReadonlySet<string> = new Set(),
): Best | null {
  const own = counts ?? {};
  const n = Object.values(own).reduce((s, k) => s + Math.max(0, k), 0);
  if (n + m <= 0) return null;
  let best: Best | null = null;
  let bestPop = 0;
  for (const key of new Set([...Object.keys(population), ...Object.keys(own)])) {
    if (excluded.has(key)) continue;
    const k = Math.max(0, own[key] ?? 0);
    const p = population[key] ?? 0;
    const rate = (k + m * p) / (n + m);
    if (!(rate > 0) || !Number.isFinite(rate)) continue;
    if (best === null || rate > best.rate || (rate === best.rate && (p > bestPop || (p === bestPop && key < best.key)))) {
      best = { key, rate };
      bestPop = p;
    }
  }
  return best;
}
