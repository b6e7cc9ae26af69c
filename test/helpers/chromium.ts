import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/** Debian's chromium (`apt-get install chromium`; .ci/run installs it); CHROMIUM_PATH overrides it. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface OpenedChromium {
  context: BrowserContext;
  page: Page;
  /** The profile folder, removed by the caller when it closes the context. */
  userDataDir: string;
}

/**
 * A headless chromium with a fresh profile, its first page watched: console errors, script errors
 * and every answer of 400 or more (CSP violations and failed requests included) are pushed onto
 * `problems`, unless `expected` says that URL's refusal is part of the test.
 */
export async function openChromium(
  profilePrefix: string,
  problems: string[],
  expected: (url: string) => boolean = () => false,
): Promise<OpenedChromium> {
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), profilePrefix));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 400 && !expected(r.url())) problems.push(`HTTP ${r.status()} for ${r.url()}`);
  });
  return { context, page, userDataDir };
}
