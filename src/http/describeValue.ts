/**
 * A short, JSON-like text of any value a client sent, for the "got …" of an error message: at most
 * `maxLength` characters, and bounded work whatever the value is — it walks at most a few levels
 * and entries, never the whole of a value nested 200,000 deep (where JSON.stringify overflows the
 * stack) or millions of entries long. It never throws.
 */
export function describeValue(value: unknown, maxLength = 60): string {
  let text: string;
  try {
    text = describe(value, 3, { left: maxLength + 1 });
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > maxLength ? `${text.slice(0, maxLength)}…` : text;
}

/** `budget.left`: characters still wanted; the walk stops once they are written. */
function describe(value: unknown, depth: number, budget: { left: number }): string {
  if (budget.left <= 0) return '';
  let out: string;
  if (typeof value === 'string') out = JSON.stringify(value.length > budget.left ? value.slice(0, budget.left) : value);
  else if (value === null || typeof value === 'number' || typeof value === 'boolean') out = String(value);
  else if (value === undefined) out = 'undefined';
  else if (typeof value === 'bigint') out = `${value}n`;
  else if (Array.isArray(value))
    out = container('[', ']', value.slice(0, 8), (v) => describe(v, depth - 1, budget), value.length > 8, depth);
  else if (typeof value === 'object') {
    const keys = Object.keys(value);
    const entry = (k: string) => `${JSON.stringify(k.slice(0, 40))}:${describe((value as Record<string, unknown>)[k], depth - 1, budget)}`;
    out = container('{', '}', keys.slice(0, 8), entry, keys.length > 8, depth);
  } else out = typeof value;
  budget.left -= out.length;
  return out;
}

function container<T>(open: string, close: string, items: T[], item: (v: T) => string, more: boolean, depth: number): string {
  if (items.length === 0) return open + close;
  if (depth <= 0) return `${open}…${close}`;
  const parts: string[] = [];
  for (const v of items) parts.push(item(v));
  return `${open}${parts.join(',')}${more ? ',…' : ''}${close}`;
}
