import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { ensureModel } from '../../models/ensure-model';
import { type LocalIssuer, startLocalIssuer } from '../../scripts/auth/localIssuer';
import { REPO_ROOT } from '../../scripts/repoRoot';
import { createApp } from '../../src/app/createApp';
import { newApiKey } from '../../src/auth/apiKeys';
import { loadConfig } from '../../src/config';
import { type EmbeddedPipeline, startEmbedded } from '../../src/runtime/startEmbedded';
import { CHROMIUM, openChromium } from '../helpers/chromium';
import { apiKeysEnv } from '../helpers/factories';
import { FIXTURE_IMAGES_DIR } from '../helpers/fixtures';
import { heicFixturePath } from '../helpers/heicFixtures';
import { largePhoto } from '../helpers/largePhoto';

/**
 * The gallery as a person uses it: Debian's headless chromium opens GET /, picks two photos in the
 * file picker, watches them go through the five stages, and sees them tagged in the gallery.
 */
const SCREENSHOT = path.join(REPO_ROOT, 'test-results', 'gallery.png');
const TIMEOUT_MS = 120_000;

/** The embedded default with `env` and a headless chromium watching for `problems`; close() removes both and their folders. */
interface OpenGallery {
  pipeline: EmbeddedPipeline;
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

async function openGallery(
  name: string,
  env: Record<string, string>,
  problems: string[],
  expected?: (url: string) => boolean,
): Promise<OpenGallery> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `pipeline-browser-${name}-`));
  const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'warn', MODEL_PATH: await ensureModel(), ...env });
  const pipeline = await startEmbedded(createApp({ config, detector: 'worker' }), { port: 0 });
  const { context, page, userDataDir } = await openChromium(`pipeline-chromium-${name}-`, problems, expected);
  return {
    pipeline,
    context,
    page,
    async close() {
      await context.close();
      await pipeline.stop();
      rmSync(userDataDir, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

describe('gallery in a browser', { skip: existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM} (apt-get install chromium)` }, () => {
  let gallery: OpenGallery;
  let pipeline: EmbeddedPipeline;
  let page: Page;
  const problems: string[] = [];

  before(async () => {
    // CSP violations, script errors and failed requests all show up in problems.
    gallery = await openGallery('none', {}, problems);
    ({ pipeline, page } = gallery);
  });

  after(async () => gallery?.close());

  it('uploads two photos with the file picker and shows them tagged, with their detections', async () => {
    // Prepare
    await page.goto(pipeline.url!);
    assert.equal(await page.title(), 'Image pipeline');
    // The picker is reachable from the keyboard: the first Tab lands on the file input.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'file');

    // Act: two files at once, as a person picks them.
    await page.setInputFiles('#file', [path.join(FIXTURE_IMAGES_DIR, 'dog.jpg'), path.join(FIXTURE_IMAGES_DIR, 'horses.jpg')]);

    // Assess: progress shows both photos tagged, each with what was found.
    const jobs = page.locator('#jobs > li.job');
    await page.waitForFunction(
      () => {
        const items = [...document.querySelectorAll('#jobs > li.job')];
        return items.length === 2 && items.every((li) => li.querySelector('.state-done')?.textContent === 'tagged');
      },
      undefined,
      { timeout: TIMEOUT_MS },
    );
    // biome-ignore lint/performance/useDomNodeTextContent: a Playwright locator, not a DOM node: innerText is the visible text
    const foundIn = async (name: string) => (await jobs.filter({ hasText: name }).locator('.found').innerText()).trim();
    assert.match(await foundIn('dog.jpg'), /^Found: .*\bdog\b/);
    assert.match(await foundIn('horses.jpg'), /^Found: .*\bhorse\b/);
    assert.equal(await page.locator('#jobs .step.done').count(), 10);
    // The live region is emptied and refilled 50 ms later on each announcement (so a screen reader
    // reads it again): wait for the text rather than read it once, which could land in the gap.
    await page.waitForFunction(() => /is tagged\. Found: /.test(document.getElementById('live')?.textContent ?? ''), undefined, {
      timeout: 5_000,
    });

    // The gallery shows both, four images each, all loaded, with the detections listed.
    await page.waitForFunction(
      () => {
        const done = [...document.querySelectorAll('#gallery article.photo[data-state="done"]')];
        return (
          done.length === 2 &&
          done.every((a) => {
            const imgs = [...a.querySelectorAll('img')];
            return imgs.length === 4 && imgs.every((img) => img.complete && img.naturalWidth > 0);
          })
        );
      },
      undefined,
      { timeout: TIMEOUT_MS },
    );
    const detections = await page.locator('#gallery .detections li').allInnerTexts();
    assert.ok(
      detections.some((d) => /^dog \d+ %$/.test(d)),
      detections.join(', '),
    );
    assert.ok(
      detections.some((d) => /^horse \d+ %$/.test(d)),
      detections.join(', '),
    );
    const alts = await page.locator('#gallery img').evaluateAll((imgs) => imgs.map((i) => i.getAttribute('alt') ?? ''));
    assert.equal(alts.length, 8);
    assert.ok(
      alts.every((a) => a.length > 10),
      alts.join(' | '),
    );
    assert.ok(
      alts.some((a) => /^Tagged copy with boxes around: .*horse/.test(a)),
      alts.join(' | '),
    );
    const sizes = await page
      .locator('#gallery article.photo')
      .first()
      .locator('img')
      .evaluateAll((imgs) => imgs.map((i) => [(i as HTMLImageElement).naturalWidth, (i as HTMLImageElement).naturalHeight]));
    // Original, 25 % resized, grayscale (of the resized), tagged (original size).
    assert.equal(sizes[1]![0], Math.round(sizes[0]![0]! / 4));
    assert.deepEqual(sizes[2], sizes[1]);
    assert.deepEqual(sizes[3], sizes[0]);

    const headings = await page.locator('#gallery h3').allInnerTexts();
    assert.deepEqual(headings.map((h) => h.split(' · ')[0]).sort(), ['dog.jpg', 'horses.jpg']);

    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    assert.deepEqual(problems, []);
  });

  it('filters the gallery by a label chip and by the search box', async () => {
    // The chips: the labels found so far with their counts (dog.jpg: bicycle, dog, car; horses.jpg: horse, cow).
    const chip = (label: string) => page.locator(`#label-chips button[data-label="${label}"]`);
    await chip('horse').waitFor({ timeout: TIMEOUT_MS });
    assert.equal((await chip('horse').textContent())?.trim(), 'horse 1');
    assert.equal(await page.locator('#label-chips button[aria-pressed="true"]').textContent(), 'All photos');
    const shownNames = async () => (await page.locator('#gallery h3').allInnerTexts()).map((h) => h.split(' · ')[0]).sort();
    const galleryIs = async (heading: string, names: string[]) => {
      await page.waitForFunction(
        ([h, n]) =>
          document.getElementById('gallery-h')?.textContent === h && document.querySelectorAll('#gallery article.photo').length === n,
        [heading, names.length] as const,
        { timeout: 10_000 },
      );
      assert.deepEqual(await shownNames(), names);
    };

    // Act + Assess: a chip shows only its photos; pressed again, all of them.
    await chip('horse').click();
    await galleryIs('Photos with horse', ['horses.jpg']);
    assert.equal(await chip('horse').getAttribute('aria-pressed'), 'true');
    await chip('horse').click();
    await galleryIs('Recent photos', ['dog.jpg', 'horses.jpg']);

    // The search box: one label, then two (AND: no photo has both), then an unknown one.
    await page.fill('#label-query', 'dog');
    await page.press('#label-query', 'Enter');
    await galleryIs('Photos with dog', ['dog.jpg']);
    await page.fill('#label-query', 'dog, horse');
    await page.press('#label-query', 'Enter');
    await galleryIs('Photos with dog and horse', []);
    assert.equal(await page.locator('#gallery-empty').textContent(), 'No photos with these labels yet.');
    await page.fill('#label-query', 'unicorn');
    await page.press('#label-query', 'Enter');
    await page.waitForFunction(() => !document.getElementById('filter-problem')?.hidden, undefined, { timeout: 10_000 });
    assert.equal(
      await page.locator('#filter-problem').textContent(),
      'expected each label to be a COCO name such as "dog", "person" or "traffic light" (GET /labels lists those found so far), got "unicorn"',
    );
    await page.locator('#label-chips button', { hasText: 'All photos' }).click();
    await galleryIs('Recent photos', ['dog.jpg', 'horses.jpg']);
    assert.equal(await page.locator('#filter-problem').isHidden(), true);
    // The one refusal was the unknown label's 400.
    assert.deepEqual(
      problems.filter((p) => !/^HTTP 400 for .*\/images\?label=unicorn&limit=12$/.test(p) && !/status of 400/.test(p)),
      [],
    );
  });
  it('sends a 24 MP photo of more than 6 MB through POST /uploads and the signed form, with a transfer bar, and shows it tagged, from another origin than the form’s', async () => {
    // Prepare: the page opened at localhost, while the form points at the server's bound address
    // (127.0.0.1, never what the request's Host says): a cross-origin POST the bucket allows (CORS).
    const localhost = pipeline.url!.replace('127.0.0.1', 'localhost');
    assert.notEqual(localhost, pipeline.url);
    await page.goto(localhost);
    // A phone-sized photo, over what POST /upload takes on Lambda, so the page goes to the bucket.
    const photo = await largePhoto('dog.jpg');
    assert.ok(photo.bytes.length > 6 * 1024 * 1024, `${photo.bytes.length} bytes`);
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'pipeline-big-')), 'big-dog.jpg');
    writeFileSync(file, photo.bytes);
    const problemsBefore = problems.length; // the filter test's expected 400 is already there
    const requests: string[] = [];
    const onRequest = (r: { method(): string; url(): string }) =>
      requests.push(`${r.method()} ${new URL(r.url()).host}${new URL(r.url()).pathname}`);
    page.on('request', onRequest);
    // Every state of the transfer bar, as the page draws it (progress events update it in place).
    await page.evaluate(() => {
      const seen: Array<[number, number]> = [];
      (window as unknown as { transferSeen: typeof seen }).transferSeen = seen;
      const jobsList = document.getElementById('jobs');
      if (!jobsList) throw new Error('no #jobs');
      new MutationObserver(() => {
        for (const bar of document.querySelectorAll<HTMLProgressElement>('#jobs progress.transfer')) seen.push([bar.value, bar.max]);
      }).observe(jobsList, { subtree: true, childList: true, attributes: true });
    });

    // Act
    await page.setInputFiles('#file', file);

    // Assess: the job is tagged with what was found; the photo went POST /uploads then POST /bucket.
    const job = page.locator('#jobs > li.job', { hasText: 'big-dog.jpg' });
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll('#jobs > li.job')].some(
          (li) => li.querySelector('.job-name')?.textContent === 'big-dog.jpg' && li.querySelector('.state-done')?.textContent === 'tagged',
        ),
      undefined,
      { timeout: TIMEOUT_MS },
    );
    page.off('request', onRequest);
    // biome-ignore lint/performance/useDomNodeTextContent: a Playwright locator, not a DOM node: innerText is the visible text
    assert.match((await job.locator('.found').innerText()).trim(), /^Found: .*\bdog\b/);
    const origin = new URL(localhost).host;
    const bucket = new URL(pipeline.url!).host;
    assert.ok(requests.includes(`POST ${origin}/uploads`) && requests.includes(`POST ${bucket}/bucket`), requests.join(', '));
    assert.ok(!requests.includes(`POST ${origin}/upload`), `the photo was not sent to POST /upload: ${requests.join(', ')}`);
    const seen = await page.evaluate(() => (window as unknown as { transferSeen: Array<[number, number]> }).transferSeen);
    assert.ok(seen.length > 0, 'a transfer bar was shown');
    const [lastValue, lastMax] = seen.at(-1)!;
    assert.ok(lastMax >= photo.bytes.length, `the bar counts the whole body (${lastMax} of at least ${photo.bytes.length} bytes)`);
    assert.equal(lastValue, lastMax, `the bar reached its end: ${JSON.stringify(seen.slice(-3))}`);
    assert.deepEqual(problems.slice(problemsBefore), []);
    rmSync(path.dirname(file), { recursive: true, force: true });
  });
  it('takes HEIC from the picker and from the drop zone as application/octet-stream with no name to go by (it reads the bytes), and shows each tagged', async () => {
    // Prepare: one file by the picker; one dropped as browsers give a .heic on most systems, here
    // also without an extension, so only its first bytes (a HEIF ftyp with a HEIC brand) say what it is.
    const problemsBefore = problems.length;
    const dropped = readFileSync(heicFixturePath('dog.heic')).toString('base64');

    // Act
    await page.setInputFiles('#file', heicFixturePath('horses-grid.heic'));
    await page.evaluate((b64) => {
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const data = new DataTransfer();
      data.items.add(new File([bytes], 'photo-from-phone', { type: 'application/octet-stream' }));
      document.getElementById('drop')?.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    }, dropped);

    // Assess: both tagged with what is in them; the gallery shows each, its original's frame from
    // the resized copy (a browser cannot show HEIC), every picture loaded.
    const names = ['horses-grid.heic', 'photo-from-phone'];
    await page.waitForFunction(
      (wanted) =>
        wanted.every((name) =>
          [...document.querySelectorAll('#jobs > li.job')].some(
            (li) => li.querySelector('.job-name')?.textContent === name && li.querySelector('.state-done')?.textContent === 'tagged',
          ),
        ),
      names,
      { timeout: TIMEOUT_MS },
    );
    const found = async (name: string) =>
      // biome-ignore lint/performance/useDomNodeTextContent: a Playwright locator, not a DOM node: innerText is the visible text
      (await page.locator('#jobs > li.job', { hasText: name }).locator('.found').innerText()).trim();
    assert.match(await found('horses-grid.heic'), /^Found: .*\bhorse\b/);
    assert.match(await found('photo-from-phone'), /^Found: .*\bdog\b/);
    await page.waitForFunction(
      (wanted) =>
        wanted.every((name) => {
          const article = [...document.querySelectorAll('#gallery article.photo[data-state="done"]')].find((a) =>
            a.querySelector('h3')?.textContent?.startsWith(`${name} ·`),
          );
          const imgs = article ? [...article.querySelectorAll('img')] : [];
          return imgs.length === 4 && imgs.every((img) => img.complete && img.naturalWidth > 0);
        }),
      names,
      { timeout: TIMEOUT_MS },
    );
    const originals = await page
      .locator('#gallery figure', { hasText: 'Original (HEIC, shown from its resized copy)' })
      .locator('img')
      .evaluateAll((imgs) => imgs.map((i) => i.getAttribute('src') ?? ''));
    assert.equal(originals.length, 2);
    // The resized copy, by the short-lived URL of that one object (image_urls).
    assert.ok(
      originals.every((src) => /^\/bucket\/resized\/[0-9a-f-]+\.jpg\?X-Expires=\d+&X-Signature=[0-9a-f]{64}$/.test(src)),
      originals.join(', '),
    );
    assert.deepEqual(problems.slice(problemsBefore), []);
  });
});

describe('gallery in a browser, signing in (AUTH=jwt, a real OIDC provider)', {
  skip: existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM} (apt-get install chromium)`,
}, () => {
  let issuer: LocalIssuer;
  let gallery: OpenGallery;
  let pipeline: EmbeddedPipeline;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];

  before(async () => {
    issuer = await startLocalIssuer();
    // The provider's login page answers its own 4xx while a person signs in.
    gallery = await openGallery('jwt', issuer.env, problems, (url) => url.startsWith(`${issuer.url}/interaction/`));
    ({ pipeline, context, page } = gallery);
    // The gallery sends people back to itself: its URL is the client's redirect URI.
    await issuer.setGalleryRedirectUris([`${pipeline.url}/`]);
  });

  after(async () => {
    await gallery?.close();
    await issuer?.stop();
  });

  /** Signs in through the provider's own login page, as a person does, and waits to be back. */
  async function signIn(user: 'alice' | 'bob'): Promise<void> {
    await page.goto(pipeline.url!);
    await page.locator('#sign-in').click();
    await page.waitForURL((url) => url.toString().startsWith(`${issuer.url}/interaction/`), { timeout: 30_000 });
    await page.fill('#username', user);
    await page.fill('#password', issuer.users.find((u) => u.id === user)!.password);
    await page.locator('#sign-in').click();
    await page.waitForFunction((name) => document.getElementById('account-who')?.textContent === `Signed in as ${name}.`, user, {
      timeout: 30_000,
    });
    // The code is gone from the address: single use, and not to be bookmarked.
    assert.equal(page.url(), `${pipeline.url}/`);
  }

  it('asks to sign in first: no photos, no upload, and the page loads under its strict CSP', async () => {
    await page.goto(pipeline.url!);
    await page.waitForFunction(() => document.querySelector('main')?.dataset.signedIn === 'false');
    assert.equal(await page.locator('#sign-in').isVisible(), true);
    assert.equal(await page.locator('#drop').isVisible(), false);
    assert.equal(await page.locator('#account-who').textContent(), 'Sign in to upload photos and see yours.');
    const csp = (await (await fetch(`${pipeline.url}/`)).headers.get('content-security-policy')) ?? '';
    assert.match(csp, /script-src 'sha256-[^']+'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.deepEqual(problems, []);
  });

  it("signs alice in through the provider's login page, uploads and shows her photo; bob, signed in, sees none of it", async () => {
    // Alice, in the gallery, as a person does it.
    await signIn('alice');
    await page.setInputFiles('#file', [path.join(FIXTURE_IMAGES_DIR, 'dog.jpg')]);
    await page.waitForFunction(
      () => [...document.querySelectorAll('#jobs > li.job')].some((li) => li.querySelector('.state-done')?.textContent === 'tagged'),
      undefined,
      { timeout: TIMEOUT_MS },
    );
    await page.waitForFunction(
      () => {
        const done = [...document.querySelectorAll('#gallery article.photo[data-state="done"]')];
        return done.length === 1 && [...done[0]!.querySelectorAll('img')].every((img) => img.complete && img.naturalWidth > 0);
      },
      undefined,
      { timeout: TIMEOUT_MS },
    );
    const hers = await page.locator('#gallery article.photo').getAttribute('data-image-id');
    assert.ok(hers);
    // Her images are short-lived URLs of one object each, not the API's routes (an <img> has no token).
    const srcs = await page.locator('#gallery img').evaluateAll((imgs) => imgs.map((i) => i.getAttribute('src') ?? ''));
    assert.equal(srcs.length, 4);
    assert.ok(
      srcs.every((src) => /^\/bucket\/[a-z]+\/[0-9a-f-]+\.jpg\?X-Expires=\d+&X-Signature=[0-9a-f]{64}$/.test(src)),
      srcs.join(' '),
    );
    assert.match((await page.locator('#label-chips').textContent()) ?? '', /dog 1/);

    // Bob: signed out of the gallery, and of the provider (its session would sign alice in again).
    await page.locator('#sign-out').click();
    await page.waitForFunction(() => document.querySelector('main')?.dataset.signedIn === 'false');
    assert.equal(await page.locator('#gallery article.photo').count(), 0);
    await context.clearCookies();
    await signIn('bob');
    await page.waitForFunction(() => !document.getElementById('gallery-empty')?.hidden, undefined, { timeout: 10_000 });
    assert.equal(await page.locator('#gallery-empty').textContent(), 'No photos yet.');
    assert.equal(await page.locator('#gallery article.photo').count(), 0);
    assert.equal(await page.locator('#label-chips button[data-label]').count(), 0);
    // Her photo's id, asked for in his name from the page: an unknown id.
    const status = await page.evaluate(async (id) => {
      const token = JSON.parse(sessionStorage.getItem('image-pipeline.token') ?? '{}') as { accessToken?: string };
      return (await fetch(`images/${id}`, { headers: { authorization: `Bearer ${token.accessToken}` } })).status;
    }, hers);
    assert.equal(status, 404);
    assert.deepEqual(
      problems.filter((p) => !p.includes(`/images/${hers}`) && !/status of 404/.test(p)),
      [],
    );
  });
});

describe('gallery in a browser, with an API key (AUTH=api-key)', {
  skip: existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM} (apt-get install chromium)`,
}, () => {
  const keys = { alice: newApiKey(), bob: newApiKey() };
  let gallery: OpenGallery;
  let pipeline: EmbeddedPipeline;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];

  before(async () => {
    gallery = await openGallery('key', apiKeysEnv(keys), problems);
    ({ pipeline, context, page } = gallery);
  });

  after(async () => gallery?.close());

  async function useKey(key: string): Promise<void> {
    await page.fill('#api-key', key);
    await page.locator('#key-form button[type="submit"]').click();
  }

  it("refuses a wrong key; alice's key, kept for the tab only, uploads and shows her photo; bob's key sees none of it", async () => {
    await page.goto(pipeline.url!);
    await page.waitForFunction(() => document.querySelector('main')?.dataset.signedIn === 'false');
    assert.equal(await page.locator('#key-form').isVisible(), true);
    assert.equal(await page.locator('#drop').isVisible(), false);

    // A key that is no one's: the API answers 401, the page forgets it and says so.
    await useKey('ipk_not-a-key-of-anyone');
    await page.waitForFunction(() => !document.getElementById('account-problem')?.hidden, undefined, { timeout: 10_000 });
    assert.match((await page.locator('#account-problem').textContent()) ?? '', /^The API key was refused/);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('image-pipeline.api-key')), null);
    assert.equal(await page.locator('#key-form').isVisible(), true);
    // The refusals, and nothing else, so far.
    assert.deepEqual(
      problems.filter((p) => !/^HTTP 401 for .*\/(images\?limit=12|labels)$/.test(p) && !/status of 401/.test(p)),
      [],
    );
    problems.length = 0;

    // Alice's key: kept in this tab's sessionStorage, never in localStorage or a cookie.
    await useKey(keys.alice);
    await page.waitForFunction(() => document.querySelector('main')?.dataset.signedIn === 'true');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('image-pipeline.api-key')), keys.alice);
    assert.equal(await page.evaluate(() => localStorage.length), 0);
    assert.deepEqual(await context.cookies(), []);
    assert.equal(await page.locator('#api-key').inputValue(), '');
    await page.setInputFiles('#file', [path.join(FIXTURE_IMAGES_DIR, 'dog.jpg')]);
    await page.waitForFunction(
      () => {
        const done = [...document.querySelectorAll('#gallery article.photo[data-state="done"]')];
        return done.length === 1 && [...done[0]!.querySelectorAll('img')].every((img) => img.complete && img.naturalWidth > 0);
      },
      undefined,
      { timeout: TIMEOUT_MS },
    );
    assert.match((await page.locator('#label-chips').textContent()) ?? '', /dog 1/);

    // Another tab has its own sessionStorage: it asks for a key again.
    const other = await context.newPage();
    await other.goto(pipeline.url!);
    await other.waitForFunction(() => document.querySelector('main')?.dataset.signedIn === 'false');
    assert.equal(await other.locator('#gallery article.photo').count(), 0);
    await other.close();

    // Bob's key, after signing out: none of alice's photo, in the gallery or its labels.
    await page.locator('#sign-out').click();
    await page.waitForFunction(() => document.querySelector('main')?.dataset.signedIn === 'false');
    assert.equal(await page.locator('#gallery article.photo').count(), 0);
    await useKey(keys.bob);
    await page.waitForFunction(() => !document.getElementById('gallery-empty')?.hidden, undefined, { timeout: 10_000 });
    assert.equal(await page.locator('#gallery article.photo').count(), 0);
    assert.equal(await page.locator('#label-chips button[data-label]').count(), 0);
    assert.deepEqual(problems, []);
  });
});
