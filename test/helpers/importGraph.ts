import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../scripts/repoRoot';

/**
 * The repository's TypeScript files and the imports on their import lines, as the layer rules and
 * the cycle check read them: `import … from`, `export … from`, `import '…'` and `import('…')`,
 * type-only imports included (a type-only cycle is still two files that cannot be read apart).
 * Relative specifiers are resolved to repository paths (`src/config.ts`); bare ones stay package names.
 */

/** Folders never walked: dependencies, build outputs and caches. */
const SKIPPED = new Set(['node_modules', '.build', '.serverless', '.esbuild', '.cache', '.bin', '.git', 'data', 'dist']);

/** Every .ts (and .cts, .mts) file under `dir` (a repository path; '' for the whole repository). */
export function tsFiles(dir = ''): string[] {
  const abs = path.join(REPO_ROOT, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs)
    .sort()
    .flatMap((name) => {
      if (SKIPPED.has(name)) return [];
      const rel = dir === '' ? name : path.posix.join(dir, name);
      return statSync(path.join(REPO_ROOT, rel)).isDirectory() ? tsFiles(rel) : /\.(ts|cts|mts)$/.test(name) ? [rel] : [];
    });
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'([^']+)'|(?:^|\n)\s*import\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g;

/** A specifier as a repository path when it is relative (`../config` from src/api/x.ts is src/config.ts), else as written. */
export function resolveImport(from: string, spec: string): string {
  if (!spec.startsWith('.')) return spec;
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  for (const candidate of [base, `${base}.ts`, `${base}/index.ts`]) {
    const abs = path.join(REPO_ROOT, candidate);
    if (existsSync(abs) && statSync(abs).isFile()) return candidate;
  }
  return `${base}.ts`;
}

/** What one file imports, resolved, in the order written. */
export function importsOf(file: string): string[] {
  const text = readFileSync(path.join(REPO_ROOT, file), 'utf8');
  return [...text.matchAll(IMPORT)].map((m) => resolveImport(file, (m[1] ?? m[2] ?? m[3])!));
}

/** The import graph of these files: each file's imports of other files of the set. */
export function importGraph(files: readonly string[]): Map<string, string[]> {
  const known = new Set(files);
  return new Map(files.map((file) => [file, [...new Set(importsOf(file).filter((spec) => known.has(spec)))]]));
}

/**
 * Every import cycle of the graph, each once, as the files around it starting from its first in
 * sort order (`a.ts -> b.ts -> a.ts`): one per strongly connected component of more than one file
 * (or a file that imports itself), found by Tarjan's algorithm, then a shortest way round it.
 */
export function importCycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let next = 0;
  const visit = (file: string) => {
    index.set(file, next);
    low.set(file, next);
    next += 1;
    stack.push(file);
    onStack.add(file);
    for (const to of graph.get(file) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(file, Math.min(low.get(file)!, low.get(to)!));
      } else if (onStack.has(to)) low.set(file, Math.min(low.get(file)!, index.get(to)!));
    }
    if (low.get(file) === index.get(file)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== file);
      if (component.length > 1 || (graph.get(file) ?? []).includes(file)) components.push(component.sort());
    }
  };
  for (const file of [...graph.keys()].sort()) if (!index.has(file)) visit(file);
  return components.map((component) => shortestCycle(graph, component)).sort((a, b) => a[0]!.localeCompare(b[0]!));
}

/** The shortest way from the component's first file back to itself, inside the component. */
function shortestCycle(graph: Map<string, string[]>, component: string[]): string[] {
  const inside = new Set(component);
  const start = component[0]!;
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const to of graph.get(file) ?? []) {
      if (!inside.has(to)) continue;
      if (to === start) {
        const way = [start];
        for (let at = file; at !== start; at = previous.get(at)!) way.splice(1, 0, at);
        return [...way, start];
      }
      if (!previous.has(to)) {
        previous.set(to, file);
        queue.push(to);
      }
    }
  }
  return [start, start];
}
