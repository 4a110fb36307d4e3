/**
 * The loyalty programme's tiers when LOYALTY_TIERS is unset, lowest first. LoyaltyEvent.tier is a string, not an Avro
 * enum, so that a programme can name its own tiers without a schema change; the stitchers, the warehouse and the
 * `loyalty-<tier>` segments read the one list.
 */
export const DEFAULT_LOYALTY_TIERS: readonly string[] = ['bronze', 'silver', 'gold', 'platinum'];
