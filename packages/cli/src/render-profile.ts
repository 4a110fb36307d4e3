/** The readable profile: one block per section, nested values flattened to `a.b: value` lines. */
const ORDER = ['identity', 'activity', 'transactions', 'support', 'consent', 'technology', 'acquisition', 'demographic', 'freshness'];

function lines(value: unknown, path: string, out: string[]): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    if (value.length === 0) return;
    if (value.every((v) => typeof v !== 'object' || v === null)) out.push(`${path}: ${value.join(', ')}`);
    else
      value.forEach((v, i) => {
        lines(v, `${path}[${i}]`, out);
      });
    return;
  }
  if (typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) lines(v, path ? `${path}.${k}` : k, out);
    return;
  }
  out.push(`${path}: ${String(value)}`);
}

export function renderProfile(view: Record<string, unknown> | object): string {
  const v = view as Record<string, unknown>;
  const merged = Array.isArray(v.merged_ids) && v.merged_ids.length ? ` (merged from ${(v.merged_ids as string[]).join(', ')})` : '';
  const out = [`Profile ${String(v.profile_id)}${merged}`];
  const sections = [...ORDER.filter((s) => s in v), ...Object.keys(v).filter((k) => !ORDER.includes(k) && k !== 'profile_id' && k !== 'merged_ids')];
  for (const s of sections) {
    const body: string[] = [];
    lines(v[s], '', body);
    if (body.length === 0) continue;
    out.push('', `  ${s}`);
    for (const l of body) out.push(`    ${l}`);
  }
  return `${out.join('\n')}\n`;
}
