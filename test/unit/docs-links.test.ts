import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../scripts/repoRoot';

/**
 * The docs hold together: every relative link and picture of the repository's Markdown resolves (the
 * file is there; a `#anchor` names a heading of the target, by GitHub's rules), the pictures stay
 * small, and README.md stays a short front door whose first code block is the two set-up commands
 * (CI runs the second as written).
 */
const MAX_README_LINES = 200;
const MAX_PICTURE_BYTES = 200 * 1024;
const SETUP_COMMANDS = ['npm ci && npm run pipeline -- samples', 'npm ci && npm test'];
/** Folders that hold no docs of ours: installed packages, build and run outputs, layer contents. */
const NOT_DOCS = new Set(['node_modules', 'nodejs', 'data', 'test-results']);

function markdownFiles(dir = ''): string[] {
  return readdirSync(path.join(REPO_ROOT, dir)).flatMap((name) => {
    const rel = path.posix.join(dir, name);
    if (name.startsWith('.') || NOT_DOCS.has(name)) return [];
    if (statSync(path.join(REPO_ROOT, rel)).isDirectory()) return markdownFiles(rel);
    return name.endsWith('.md') ? [rel] : [];
  });
}

/** The text outside fenced code blocks, line by line (a fenced line becomes empty, so numbers hold). */
function proseLines(text: string): string[] {
  let fence: string | undefined;
  return text.split('\n').map((line) => {
    const opener = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence) {
      if (opener && opener[0] === fence[0] && opener.length >= fence.length) fence = undefined;
      return '';
    }
    if (opener) {
      fence = opener;
      return '';
    }
    return line;
  });
}

/** GitHub's heading anchor: lower case, punctuation and symbols dropped, each space a hyphen. */
export function githubSlug(heading: string): string {
  const text = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link or picture: its text
    .replace(/<[^>]+>/g, '') // inline HTML
    .replace(/`/g, '')
    .replace(/\*+/g, '');
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

/** Every anchor a Markdown file offers: its headings' slugs (repeats numbered as GitHub does) and HTML ids. */
function anchorsOf(text: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const line of proseLines(text)) {
    const heading = /^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$/.exec(line)?.[1];
    if (heading !== undefined) {
      const slug = githubSlug(heading);
      const n = seen.get(slug) ?? 0;
      seen.set(slug, n + 1);
      anchors.add(n === 0 ? slug : `${slug}-${n}`);
    }
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(m[1]!);
  }
  return anchors;
}

interface Link {
  file: string;
  line: number;
  target: string;
  picture: boolean;
}

/** The links and pictures of a Markdown file, outside code: inline, reference definitions, and HTML src/href. */
function linksOf(file: string, text: string): Link[] {
  const links: Link[] = [];
  proseLines(text).forEach((raw, i) => {
    const line = raw.replace(/`[^`]*`/g, ''); // inline code is not a link
    const add = (target: string, picture: boolean) => links.push({ file, line: i + 1, target, picture });
    for (const m of line.matchAll(/(!?)\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) add(m[2]!, m[1] === '!');
    for (const m of line.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/g)) add(m[1]!, false);
    for (const m of line.matchAll(/<img\b[^>]*\bsrc="([^"]+)"/g)) add(m[1]!, true);
    for (const m of line.matchAll(/<a\b[^>]*\bhref="([^"]+)"/g)) add(m[1]!, false);
  });
  return links;
}

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target);

/** Why a link does not resolve, or undefined when it does. */
function problemOf(link: Link, read: (rel: string) => string): string | undefined {
  const [rawPath, anchor] = link.target.split('#', 2) as [string, string | undefined];
  const targetPath = decodeURI(rawPath);
  const rel = targetPath === '' ? link.file : path.posix.normalize(path.posix.join(path.posix.dirname(link.file), targetPath));
  if (rel.startsWith('../') || path.posix.isAbsolute(targetPath)) return `leaves the repository (or is absolute): ${link.target}`;
  const abs = path.join(REPO_ROOT, rel);
  if (!existsSync(abs)) return `no such file: ${rel}`;
  if (link.picture) {
    if (!statSync(abs).isFile()) return `not a file: ${rel}`;
    const bytes = statSync(abs).size;
    if (bytes > MAX_PICTURE_BYTES) return `${rel} weighs ${bytes} bytes, more than ${MAX_PICTURE_BYTES}`;
  }
  if (anchor !== undefined) {
    if (!rel.endsWith('.md')) return `an anchor into a file that is not Markdown: ${link.target}`;
    const anchors = anchorsOf(read(rel));
    if (!anchors.has(anchor)) return `${rel} has no heading for #${anchor} (it has: ${[...anchors].join(', ')})`;
  }
  return undefined;
}

describe('docs: links, anchors and pictures', () => {
  const files = markdownFiles();
  const cache = new Map<string, string>();
  const read = (rel: string) => {
    if (!cache.has(rel)) cache.set(rel, readFileSync(path.join(REPO_ROOT, rel), 'utf8'));
    return cache.get(rel)!;
  };

  it('reads the files and links it checks', () => {
    for (const f of ['README.md', 'ARCHITECTURE.md', 'docs/using.md', 'docs/configuration.md', 'models/README.md', 'layers/README.md']) {
      assert.ok(files.includes(f), `${f} among ${files.join(', ')}`);
    }
    assert.ok(files.includes('layers/model/README.md'), 'a layer README');
    const sample = linksOf(
      'x.md',
      '[a](b.md#c) ![p](i.jpg) `[no](code.md)`\n```\n[no](fence.md)\n```\n<img src="h.png" width="9">\n[r]: ref.md',
    );
    assert.deepEqual(
      sample.map((l) => [l.target, l.picture]),
      [
        ['b.md#c', false],
        ['i.jpg', true],
        ['h.png', true],
        ['ref.md', false],
      ],
    );
    assert.ok(linksOf('README.md', read('README.md')).filter((l) => !isExternal(l.target)).length >= 10);
  });

  it('makes anchors as GitHub does', () => {
    assert.equal(
      githubSlug('The deployed stack on MiniStack: `npm run deploy:local`'),
      'the-deployed-stack-on-ministack-npm-run-deploylocal',
    );
    assert.equal(githubSlug('What `serverless.yml` declares'), 'what-serverlessyml-declares');
    assert.equal(githubSlug('LocalStack and Docker: `localstack/docker-compose.yml`'), 'localstack-and-docker-localstackdocker-composeyml');
    assert.equal(githubSlug('Why these versions (Node 24 and the framework)'), 'why-these-versions-node-24-and-the-framework');
    assert.equal(githubSlug('`MAX_UPLOAD_BYTES` — the limit'), 'max_upload_bytes--the-limit');
    assert.deepEqual([...anchorsOf('# A\n## B\n## B\n```\n# not a heading\n```')], ['a', 'b', 'b-1']);
  });

  it('finds a broken link when there is one', () => {
    const problem = (target: string, picture = false) => problemOf({ file: 'README.md', line: 1, target, picture }, read);
    assert.match(problem('docs/nowhere.md') ?? '', /no such file: docs\/nowhere\.md/);
    assert.match(problem('docs/using.md#no-such-heading') ?? '', /docs\/using\.md has no heading for #no-such-heading/);
    assert.match(problem('#no-such-heading') ?? '', /README\.md has no heading/);
    assert.match(problem('../outside.md') ?? '', /leaves the repository/);
    assert.match(problem('samples/kite.jpg', true) ?? '', /samples\/kite\.jpg weighs \d+ bytes/);
    assert.equal(problem('docs/using.md#the-status-api'), undefined);
  });

  it('resolves every relative link, anchor and picture', () => {
    const broken = files.flatMap((file) =>
      linksOf(file, read(file))
        .filter((l) => !isExternal(l.target))
        .flatMap((l) => {
          const why = problemOf(l, read);
          return why ? [`${l.file}:${l.line}: ${why}`] : [];
        }),
    );
    assert.deepEqual(broken, []);
  });

  it('keeps every picture of docs/images/ small and in use', () => {
    const dir = path.join(REPO_ROOT, 'docs', 'images');
    const used = new Set(
      files.flatMap((file) =>
        linksOf(file, read(file))
          .filter((l) => l.picture && !isExternal(l.target))
          .map((l) => path.posix.normalize(path.posix.join(path.posix.dirname(file), l.target))),
      ),
    );
    const pictures = readdirSync(dir);
    assert.ok(pictures.length >= 2, pictures.join(', '));
    for (const name of pictures) {
      const bytes = statSync(path.join(dir, name)).size;
      assert.ok(bytes < MAX_PICTURE_BYTES, `docs/images/${name}: ${bytes} bytes`);
      assert.ok(used.has(`docs/images/${name}`), `docs/images/${name} is shown by no page`);
    }
  });
});

describe('README, the front door', () => {
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');

  it(`is at most ${MAX_README_LINES} lines`, () => {
    const lines = readme.replace(/\n$/, '').split('\n').length;
    assert.ok(lines <= MAX_README_LINES, `README.md has ${lines} lines`);
  });

  it('opens with exactly the two set-up commands: one runs the pipeline, one runs the tests', () => {
    const block = /^```\w*\n([\s\S]*?)^```/m.exec(readme)?.[1];
    assert.ok(block, 'README.md has a code block');
    const commands = block
      .replace(/\n$/, '')
      .split('\n')
      .map((line) => line.replace(/\s+#.*$/, '').trim());
    assert.deepEqual(commands, SETUP_COMMANDS);
  });

  it('shows a picture before the set-up commands', () => {
    const picture = readme.search(/!\[[^\]]+\]\(docs\/images\/[^)]+\)/);
    assert.ok(picture >= 0 && picture < readme.indexOf('```'), 'a picture of docs/images/ above the first code block');
  });

  it('counts the ways to run as its table lists them', () => {
    const words = ['one', 'two', 'three', 'four', 'five', 'six', 'seven'];
    const heading = /^## (\w+) ways to run$/im.exec(readme);
    assert.ok(heading, 'README.md has a "## <N> ways to run" section');
    const section = readme.slice(heading.index + heading[0].length).split(/^## /m)[0]!;
    const rows = section
      .split('\n')
      .filter((l) => l.startsWith('|'))
      .slice(2); // less the header and its rule
    assert.equal(heading[1]!.toLowerCase(), words[rows.length - 1], `the heading says ${heading[1]}, the table has ${rows.length} rows`);
    for (const m of readme.matchAll(/\bin (\w+) places\b/gi)) assert.equal(m[1]!.toLowerCase(), words[rows.length - 1], m[0]);
  });
});
