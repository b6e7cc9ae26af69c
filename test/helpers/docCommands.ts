/**
 * The commands the docs tell a person to type, read from the fenced code blocks of README.md and of
 * every page of the repository it links to (and they link to, and so on): a test that runs them
 * runs what the docs say today, and fails when the docs and the commands part ways.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../../scripts/repoRoot';

/** Code blocks that hold shell commands: no language, or a shell's. */
const SHELL_LANGUAGES = new Set(['', 'sh', 'bash', 'shell', 'console']);

export interface DocCodeBlock {
  /** Repository-relative path of the page. */
  page: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The block's lines that are not blank, each without its trailing comment, with its 1-based line. */
  commands: Array<{ text: string; line: number }>;
}

export interface DocCommand {
  /** The command as a person types it (a comment after it removed). */
  text: string;
  /** Where it is written, `page:line`. */
  where: string;
  /** The block it is in: the commands around it (what to do next with it). */
  block: DocCodeBlock;
}

/** README.md and the Markdown pages of the repository reachable from it by relative links. */
export function docPages(): string[] {
  const seen = new Set<string>(['README.md']);
  const queue = ['README.md'];
  while (queue.length > 0) {
    const page = queue.shift()!;
    const text = readFileSync(path.join(REPO_ROOT, page), 'utf8');
    for (const match of text.matchAll(/\]\(([^)\s#]+\.md)(?:#[^)]*)?\)/g)) {
      const target = match[1]!;
      if (/^[a-z]+:/i.test(target)) continue; // another site
      const resolved = path.normalize(path.join(path.dirname(page), target));
      if (resolved.startsWith('..') || seen.has(resolved) || !existsSync(path.join(REPO_ROOT, resolved))) continue;
      seen.add(resolved);
      queue.push(resolved);
    }
  }
  return [...seen];
}

/** `cmd args  # a comment` -> `cmd args`; a `#` inside a word or quotes stays. */
function withoutComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) return line.slice(0, i).trimEnd();
  }
  return line.trimEnd();
}

export function shellBlocks(page: string): DocCodeBlock[] {
  const lines = readFileSync(path.join(REPO_ROOT, page), 'utf8').split('\n');
  const blocks: DocCodeBlock[] = [];
  let open: DocCodeBlock | undefined;
  let shell = false;
  lines.forEach((line, index) => {
    const fence = /^\s*```\s*([\w-]*)/.exec(line);
    if (fence && !open) {
      open = { page, line: index + 1, commands: [] };
      shell = SHELL_LANGUAGES.has(fence[1]!.toLowerCase());
    } else if (fence && open) {
      if (shell) blocks.push(open);
      open = undefined;
    } else if (open) {
      const text = withoutComment(line.trim());
      if (text) open.commands.push({ text, line: index + 1 });
    }
  });
  return blocks;
}

/**
 * Every command of the docs that `pattern` matches, once per distinct text. A line that chains
 * commands with `&&` (`npm ci && npm run pipeline -- samples`) gives the one that matches: the
 * install before it is the reader's set-up, which a test must not redo under the running suite.
 */
export function docCommands(pattern: RegExp): DocCommand[] {
  const found = new Map<string, DocCommand>();
  for (const page of docPages()) {
    for (const block of shellBlocks(page)) {
      for (const { text, line } of block.commands) {
        for (const part of text.split(/\s+&&\s+/)) {
          if (pattern.test(part) && !found.has(part)) found.set(part, { text: part, where: `${page}:${line}`, block });
        }
      }
    }
  }
  return [...found.values()];
}

/** The first line of the command's own block, or else of any block where the same command is written, that `pattern` matches. */
export function nextStep(command: DocCommand, pattern: RegExp): string | undefined {
  const blocks = [
    command.block,
    ...docPages()
      .flatMap(shellBlocks)
      .filter((b) => b.commands.some(({ text }) => text.split(/\s+&&\s+/).includes(command.text))),
  ];
  for (const block of blocks) {
    const step = block.commands.find(({ text }) => pattern.test(text));
    if (step) return step.text;
  }
  return undefined;
}
