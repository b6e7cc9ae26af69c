import { readFileSync } from 'node:fs';
import { CheckerConfigError } from './errors';

export interface ReasonedEntry {
  id: string;
  reason: string;
}

/**
 * The entries of a top-level YAML list (`key:` then `  - ID # reason` lines) with the reason each
 * carries in its trailing comment. The checkers read the same file as YAML and ignore comments;
 * the reasons live there so that each sits on its entry's line. An entry without a reason, or a
 * list that is not there, is a CheckerConfigError.
 */
export function readReasonedList(file: string, key: string): ReasonedEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new CheckerConfigError(`Could not read ${file}`, { cause });
  }
  const lines = text.split('\n');
  const start = lines.indexOf(`${key}:`);
  if (start < 0) throw new CheckerConfigError(`${file}: expected a top-level list '${key}:', found none`);
  const entries: ReasonedEntry[] = [];
  for (let i = start + 1; i < lines.length; i += 1) {
    const line = lines[i]!;
    if (line.trim() === '' || /^\s*#/.test(line)) continue;
    if (!/^\s/.test(line)) break; // the next top-level key
    const m = /^\s+-\s+([A-Za-z0-9_]+)\s*(?:#\s*(.*?))?\s*$/.exec(line);
    if (!m) throw new CheckerConfigError(`${file}:${i + 1}: expected '  - ID # reason' in '${key}', found '${line.trim()}'`);
    const reason = m[2] ?? '';
    if (reason.length < 10) {
      throw new CheckerConfigError(`${file}:${i + 1}: ${m[1]} has no reason: expected '  - ${m[1]} # why it is ignored'`);
    }
    entries.push({ id: m[1]!, reason });
  }
  return entries;
}
