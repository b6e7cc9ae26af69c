import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../scripts/repoRoot';

/**
 * The configuration tables (docs/configuration.md: the pipeline's variables, and those of the tools and
 * tests) and the code agree: every environment variable the code reads is in a table, and every
 * variable of the tables is read somewhere. src/config.ts reads through its
 * helpers (`str(env, 'NAME', …)`), everything else as `process.env.NAME` or `env.NAME`; a shell script
 * reads one as `${NAME:-default}` (its other variables are its own).
 */
const SOURCE_DIRS = ['src', 'functions', 'scripts', 'test', 'bench', 'models'];
/**
 * The system's own, read only to hand them on to a child with an otherwise isolated environment
 * (scripts/deploy/ministack.ts gives MiniStack the PATH and HOME it was started with): not configuration.
 */
const NOT_CONFIGURATION = new Set(['PATH', 'HOME']);

function walk(dir: string): string[] {
  const abs = path.join(REPO_ROOT, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs).flatMap((name) => {
    const rel = path.join(dir, name);
    if (name === 'node_modules' || name.startsWith('.')) return [];
    return statSync(path.join(REPO_ROOT, rel)).isDirectory() ? walk(rel) : /\.(ts|cjs|mjs|js|sh)$/.test(name) ? [rel] : [];
  });
}

function namesRead(text: string): string[] {
  const patterns = [
    /\b(?:process\.)?env\.([A-Z][A-Z0-9_]+)\b/g,
    /\benv\[['"]([A-Z][A-Z0-9_]+)['"]\]/g,
    /\b(?:str|optional|num|oneOf|bool|secretReference)\(\s*env,\s*'([A-Z][A-Z0-9_]+)'/g,
    /\$\{([A-Z][A-Z0-9_]+):-/g,
  ];
  return patterns.flatMap((p) => [...text.matchAll(p)].map((m) => m[1]!));
}

const CONFIGURATION_PAGE = 'docs/configuration.md';

/** The names in the first column of the tables of one section (from its heading to the next `## `). */
function tableNames(page: string, heading: RegExp): string[] {
  const start = page.search(heading);
  assert.ok(start >= 0, `${CONFIGURATION_PAGE} has no ${heading}`);
  const names: string[] = [];
  for (const line of page.slice(start).split('\n').slice(1)) {
    if (line.startsWith('## ')) break;
    const first = line.startsWith('|') ? line.split('|')[1]! : '';
    for (const m of first.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) names.push(m[1]!);
  }
  return names;
}

describe('the configuration tables (docs/configuration.md)', () => {
  const page = readFileSync(path.join(REPO_ROOT, CONFIGURATION_PAGE), 'utf8');
  const pipeline = tableNames(page, /^## Variables$/m);
  const tools = tableNames(page, /^## Tools and tests$/m);
  const documented = new Set([...pipeline, ...tools]);
  const read = new Map<string, string[]>();
  for (const file of SOURCE_DIRS.flatMap(walk)) {
    if (file === path.join('test', 'unit', 'config-table.test.ts')) continue;
    for (const name of namesRead(readFileSync(path.join(REPO_ROOT, file), 'utf8'))) {
      if (!NOT_CONFIGURATION.has(name)) read.set(name, [...(read.get(name) ?? []), file]);
    }
  }

  it('reads the names it compares', () => {
    const config = namesRead(readFileSync(path.join(REPO_ROOT, 'src/config.ts'), 'utf8'));
    for (const name of ['STORE', 'LOG_LEVEL', 'METRICS', 'PORT', 'HOST', 'POWERTOOLS_SERVICE_NAME', 'AWS_LAMBDA_FUNCTION_NAME']) {
      assert.ok(config.includes(name), `src/config.ts reads ${name}`);
    }
    assert.ok(pipeline.includes('DATA_DIR') && tools.includes('FIXTURES_DIR'), 'both tables read');
    assert.ok(namesRead(readFileSync(path.join(REPO_ROOT, 'scripts/infra/install.sh'), 'utf8')).includes('INFRA_PYTHON'), 'a shell read');
  });

  it('names every variable the code reads', () => {
    const missing = [...read]
      .filter(([name]) => !documented.has(name))
      .map(([name, files]) => `${name} (${[...new Set(files)].join(', ')})`);
    assert.deepEqual(missing, []);
  });

  it('names only variables the code reads', () => {
    // The AWS SDK reads the credentials itself; the tests save and restore them, which counts here.
    assert.deepEqual(
      [...documented].filter((name) => !read.has(name)),
      [],
    );
  });
});
