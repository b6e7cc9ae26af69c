/**
 * Where a V8 CPU profile (`node --cpu-prof`) spent its time, by who asked for it: each sample goes
 * to the innermost frame of its stack that belongs to a package (node_modules/<package>), to the
 * function bundle, or to the probe; a native call (dlopen, a session's create) counts for the
 * package whose JavaScript called it. What no such frame claims is Node's own (boot, loading
 * built-in modules, the module loader's compiling, GC, idle waits).
 *
 *   npx tsx bench/cpuProfileSummary.ts <dir with .cpuprofile files>
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The owner of a frame's script: "sharp", "onnxruntime-node", "bundle", "probe", or undefined for Node's own. */
function ownerOf(url: string): string | undefined {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (pkg) return pkg[1];
  if (/\.build\/functions\/[^/]+\/handler\.js$/.test(url)) return 'bundle (app code, AWS SDK, zod, Powertools, middy)';
  if (url.endsWith('detect-init-probe.mjs')) return 'probe (the require() of the bundle: reading and compiling it; the handler call)';
  return undefined;
}

/** Milliseconds per owner, averaged over the profiles in `dir`, largest first. */
export function summarizeProfiles(dir: string): { owner: string; ms: number }[] {
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const totals = new Map<string, number>();
  for (const file of files) {
    const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const owner = new Map<number, string>();
    const resolve = (id: number): string => {
      const known = owner.get(id);
      if (known) return known;
      const node = byId.get(id);
      const fn = node?.callFrame.functionName ?? '';
      let who = node ? ownerOf(node.callFrame.url) : undefined;
      if (!who && (fn === '(garbage collector)' || fn === '(idle)' || fn === '(program)')) who = `node: ${fn.slice(1, -1)}`;
      if (!who) {
        const up = parent.get(id);
        who = up === undefined ? 'node: boot, built-in modules, module loader' : resolve(up);
      }
      owner.set(id, who);
      return who;
    };
    profile.samples.forEach((id, i) => {
      const who = resolve(id);
      totals.set(who, (totals.get(who) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
    });
  }
  return [...totals].map(([o, ms]) => ({ owner: o, ms: ms / Math.max(1, files.length) })).sort((a, b) => b.ms - a.ms);
}

export function printProfileSummary(dir: string, indent = '  '): void {
  const rows = summarizeProfiles(dir);
  const total = rows.reduce((a, r) => a + r.ms, 0);
  for (const r of rows.filter((x) => x.ms >= 1))
    console.log(`${indent}${r.ms.toFixed(1).padStart(7)} ms ${((100 * r.ms) / total).toFixed(0).padStart(3)} %  ${r.owner}`);
  console.log(`${indent}${total.toFixed(1).padStart(7)} ms       sampled in all (wall time of the profiled process)`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  printProfileSummary(process.argv[2] ?? '.');
}
