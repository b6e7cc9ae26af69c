/**
 * npm run docs:images [-- --out docs/images]
 * Remakes the README's pictures from a real run of the embedded default: a headless chromium opens
 * the gallery, picks three sample photos, waits until each is tagged and the gallery shows them, and
 * saves a screenshot of the page and the tagged copy of one photo, each scaled down to a JPEG
 * small enough for the repository. CHROMIUM_PATH overrides /usr/bin/chromium.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import sharp from 'sharp';
import { ensureModel } from '../../models/ensure-model';
import { createApp } from '../../src/app/createApp';
import { loadConfig } from '../../src/config';
import { startEmbedded } from '../../src/runtime/startEmbedded';
import { parseCliArgs } from '../cliArgs';
import { REPO_ROOT } from '../repoRoot';

const USAGE = 'usage: npm run docs:images [-- --out DIR]';
const PHOTOS = ['dog.jpg', 'horses.jpg', 'giraffe.jpg'];
/** The photo whose tagged copy the README shows. */
const TAGGED = 'dog.jpg';
const WAIT_MS = 180_000;

/** A picture for the docs: at most `width` pixels wide, JPEG, with what it weighs. */
async function docsJpeg(input: Buffer, width: number, file: string): Promise<void> {
  const out = await sharp(input).resize({ width, withoutEnlargement: true }).jpeg({ quality: 78, mozjpeg: true }).toBuffer();
  writeFileSync(file, out);
  process.stderr.write(`  ${path.relative(REPO_ROOT, file)}: ${(out.length / 1024).toFixed(0)} KB\n`);
}

async function main(): Promise<void> {
  const { values } = parseCliArgs(USAGE, { options: { out: { type: 'string' } } });
  const outDir = path.resolve(values.out ?? path.join(REPO_ROOT, 'docs', 'images'));
  const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  mkdirSync(outDir, { recursive: true });

  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'pipeline-docs-'));
  const userDataDir = mkdtempSync(path.join(os.tmpdir(), 'pipeline-docs-chromium-'));
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'warn', MODEL_PATH: await ensureModel() });
  const pipeline = await startEmbedded(createApp({ config, detector: 'worker' }), { port: 0 });
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1200, height: 1000 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'],
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    process.stderr.write(`gallery at ${pipeline.url}/, uploading ${PHOTOS.join(', ')}\n`);
    await page.goto(pipeline.url!);
    await page.setInputFiles(
      '#file',
      PHOTOS.map((name) => path.join(REPO_ROOT, 'samples', name)),
    );
    // Every photo tagged, and shown in the gallery with its four images loaded.
    await page.waitForFunction(
      (n) => {
        const done = [...document.querySelectorAll('#gallery article.photo[data-state="done"]')];
        return (
          done.length === n &&
          done.every((a) => [...a.querySelectorAll('img')].every((img) => img.complete && img.naturalWidth > 0)) &&
          document.querySelectorAll('#label-chips button[data-label]').length > 0
        );
      },
      PHOTOS.length,
      { timeout: WAIT_MS },
    );
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    // The gallery part of the page: the label chips, then the photos with their four copies and detections.
    const box = await page.locator('section', { has: page.locator('#gallery-h') }).boundingBox();
    if (!box) throw new Error('expected the page to have the gallery section, found none');
    const clip = { x: 0, y: box.y + 6, width: 1200, height: Math.min(box.height, 1150) };
    await docsJpeg(await page.screenshot({ fullPage: true, clip }), 900, path.join(outDir, 'gallery.jpg'));

    // The tagged copy of one photo, as GET /images/{id}/tagged serves it (the gallery's own link).
    const src = await page.locator('#gallery article.photo', { hasText: TAGGED }).locator('img[src$="/tagged"]').getAttribute('src');
    if (!src) throw new Error(`expected the gallery to show the tagged copy of ${TAGGED}, found none`);
    const tagged = await fetch(new URL(src, `${pipeline.url}/`));
    if (!tagged.ok) throw new Error(`GET ${src} answered ${tagged.status}`);
    await docsJpeg(Buffer.from(await tagged.arrayBuffer()), 480, path.join(outDir, 'tagged-dog.jpg'));
  } finally {
    await context.close();
    await pipeline.stop();
    rmSync(userDataDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`docs:images failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
