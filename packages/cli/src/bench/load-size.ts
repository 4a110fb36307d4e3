/**
 * How much `bench segments` generates for `total` purchases: a generated day has ~0.19 purchases per customer, so six
 * customers per purchase, within the generator's limit of 1,000,000 customers (more days do not scale: the same
 * customers spread their purchases over them). A run that needs more is refused before anything starts, naming the
 * options, rather than failing in the generator after the services started.
 */
import { ProfileStreamError } from '@profile-stream/consumer-kit';

export const GENERATOR_MAX_CUSTOMERS = 1_000_000;
const PER_PURCHASE = 6;

/** The customers to generate for `total` purchases (one day ending now). */
export function loadCustomers(total: number): number {
  return total * PER_PURCHASE;
}

/** Refuses rates × seconds the generator cannot supply, with the longest run each rate allows. */
export function checkLoadSize(rates: readonly number[], seconds: number, warmup: number): void {
  const over = rates.filter((r, i) => loadCustomers(r * Math.max(seconds, i === 0 ? warmup : 0)) > GENERATOR_MAX_CUSTOMERS);
  if (over.length === 0) return;
  const longest = (r: number) => Math.floor(GENERATOR_MAX_CUSTOMERS / PER_PURCHASE / r);
  throw new ProfileStreamError(
    'invalid_options',
    `--seconds ${seconds} at ${over.map((r) => `${r}/s`).join(', ')} needs more than the generator's ${GENERATOR_MAX_CUSTOMERS.toLocaleString('en')} customers ` +
      `(${PER_PURCHASE} per purchase for a day's first purchases): at most ${over.map((r) => `${longest(r)} s at ${r}/s`).join(', ')}`,
  );
}
