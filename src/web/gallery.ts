/**
 * The gallery's script, run by the browser (no framework): upload photos (drag and drop or the file
 * picker, several at once), follow each through the five stages, and show recent photos as
 * original, resized, grayscale and tagged side by side with what was detected. All URLs are
 * relative, so the page works under an API Gateway stage path too.
 *
 * A photo up to the smallest direct limit of any place (`data-direct-max`: what a Lambda
 * invocation carries, 4,483,616 bytes) goes in the body of POST /upload, one request. A larger
 * one, or one POST /upload refuses as too large (a place configured lower), goes straight to the
 * bucket: POST /uploads for a signed form, then the form with the file to the URL it names (S3, or
 * the embedded server's /bucket). Both are sent with XMLHttpRequest, whose upload progress events
 * drive a transfer bar per file; then the per-stage progress follows as for any photo.
 *
 * Type-checked with the DOM library against the status API's own types (type imports only, erased
 * when compiled). galleryFiles.ts compiles it for the page; the stage and image-kind lists come from
 * the page (`data-stages`, `data-kinds` on <main>), which galleryPage.ts fills from the server's lists.
 */
import type { ImageKind, ImageStatus, OverallState, StageView } from '../api/imageStatus';
import { IMAGE_FORMATS } from '../domain/imageFormats';
import type { StageName } from '../domain/stages';
import { byId } from './galleryDom';
import { createLabelFilter } from './galleryFilter';
import { createSignIn } from './gallerySignIn';

interface RecentImages {
  images: ImageStatus[];
}
interface UploadAnswer {
  image_id?: string;
  error?: { code: string; message: string };
}
/** POST /uploads: the id and the form to send the photo with (src/upload/createUpload.ts). */
interface CreatedUpload extends UploadAnswer {
  upload?: { url: string; method: 'POST'; fields: Record<string, string>; expires_at: string };
}
interface Job {
  file: File;
  item: HTMLLIElement;
  id?: string;
  status: ImageStatus | null;
  state: 'uploading' | 'uploaded';
  /** Bytes of the transfer sent so far, of how many (the request's, framing included). */
  sent: { loaded: number; total: number };
  /** The transfer bar while uploading, updated in place by progress events. */
  bar?: HTMLProgressElement;
  error: string | null;
}
type Attributes = Record<string, string | undefined> & { text?: string; cls?: string };

const CAPTIONS: Record<ImageKind, string> = {
  original: 'Original',
  resized: 'Resized (25 %)',
  grayscale: 'Grayscale',
  tagged: 'Tagged',
};
const STATE_TEXT: Record<OverallState, string> = { processing: 'in progress', retrying: 'retrying', done: 'tagged', failed: 'failed' };
const POLL_MS = 700;
const MAX_POLL_MS = 5000;
const MAX_PARALLEL_UPLOADS = 3;

const REFRESH_MS = 15_000;

const main = document.querySelector('main');
/** Larger photos go straight to the bucket (POST /uploads): the most POST /upload takes anywhere. */
const DIRECT_MAX = Number(main?.dataset.directMax) || 4_483_616;
const STAGES = (main?.dataset.stages ?? '').split(' ').filter(Boolean) as StageName[];
/** Each image kind with the stage whose output it is: "original:upload resized:resize …". */
const KINDS = (main?.dataset.kinds ?? '')
  .split(' ')
  .filter(Boolean)
  .map((pair) => pair.split(':') as [ImageKind, StageName]);

const input = byId<HTMLInputElement>('file');
const drop = byId<HTMLLabelElement>('drop');
const jobsList = byId<HTMLOListElement>('jobs');
const jobsEmpty = byId<HTMLParagraphElement>('jobs-empty');
const live = byId<HTMLParagraphElement>('live');
const gallery = byId<HTMLDivElement>('gallery');
const galleryEmpty = byId<HTMLParagraphElement>('gallery-empty');
const refreshButton = byId<HTMLButtonElement>('refresh');
const galleryHeading = byId<HTMLHeadingElement>('gallery-h');
// Who the page is for (gallerySignIn.ts): a key, a token, or nobody in particular (AUTH=none).
const signIn = createSignIn(main ?? document.body, () => {
  // Signed in, out or as someone else: nothing shown so far is theirs.
  shown = new Map();
  gallery.replaceChildren();
  if (signIn.ready()) void labelFilter.refresh(true);
  else labelFilter.clear();
  void refreshGallery();
});

/**
 * A request to the API with the caller's key or token. A 401 (a key taken back, a token expired)
 * makes the page ask for them again. Never used for the bucket: its forms and URLs carry their
 * own signature, and S3 refuses a request with two.
 */
async function api(path: string, init: RequestInit = {}): Promise<Response> {
  const sent = signIn.headers();
  const res = await fetch(path, { ...init, headers: { ...(init.headers as Record<string, string>), ...sent } });
  if (res.status === 401 && Object.keys(sent).length > 0) {
    const json = (await res
      .clone()
      .json()
      .catch(() => null)) as UploadAnswer | null;
    signIn.refused(json?.error?.message ?? 'HTTP 401');
  }
  return res;
}

// The label chips and search box (galleryFilter.ts): a change shows the photos it selects.
const labelFilter = createLabelFilter(() => {
  // After a refresh in flight, which asked for the old selection.
  void (refreshing ?? Promise.resolve()).then(() => refreshGallery());
}, api);

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attributes | null,
  children: ReadonlyArray<Node | string | null | undefined> = [],
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined) continue;
    if (k === 'text') node.textContent = v;
    else if (k === 'cls') node.className = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c) node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  return node;
}

/** Says `text` to screen readers (cleared first, so the same words twice are said twice). */
function announce(text: string): void {
  live.textContent = '';
  setTimeout(() => {
    live.textContent = text;
  }, 50);
}

function labels(status: ImageStatus): string[] {
  return (status.detections ?? []).map((d) => d.label);
}

/** "horse ×2, cow": each label once, in the detector's order, with how many were found. */
function detectionText(status: ImageStatus): string {
  const counts = new Map<string, number>();
  for (const l of labels(status)) counts.set(l, (counts.get(l) ?? 0) + 1);
  return counts.size ? [...counts].map(([l, n]) => (n > 1 ? `${l} ×${n}` : l)).join(', ') : 'nothing';
}

function doneCount(status: ImageStatus): number {
  return STAGES.filter((s) => status.stages[s].state === 'done').length;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function reasonOf(res: Response, json: UploadAnswer | null): string {
  return json?.error?.message || `HTTP ${res.status}`;
}

function stepList(status: ImageStatus | null, name: string): HTMLOListElement {
  return el(
    'ol',
    { cls: 'steps', 'aria-label': `Stages of ${name}` },
    STAGES.map((s) => {
      const st: Pick<StageView, 'state' | 'duration_ms'> = status ? status.stages[s] : { state: s === 'upload' ? 'running' : 'pending' };
      const took = st.state === 'done' && st.duration_ms !== undefined ? ` (${st.duration_ms} ms)` : '';
      return el('li', { cls: `step ${st.state}`, text: `${s}: ${st.state}${took}` });
    }),
  );
}

// ---- uploads and their progress ----
const waiting: Job[] = [];
let running = 0;
const namesById = new Map<string, string>();

/** Queues the photos among the files (the picker's or the drop's, taken before either is reset). */
function addFiles(files: FileList): void {
  const all = [...files];
  queueImages(all).catch((error: unknown) => announce(`Could not read the files: ${error instanceof Error ? error.message : error}`));
}

async function queueImages(all: File[]): Promise<void> {
  const types = await Promise.all(all.map(contentTypeOf));
  const images = all.filter((_, i) => types[i] !== '');
  const skipped = all.length - images.length;
  if (skipped) announce(`${skipped} file(s) skipped: not images.`);
  for (const file of images) waiting.push(newJob(file));
  pump();
}

function newJob(file: File): Job {
  const item = el('li', { cls: 'job' });
  jobsList.prepend(item);
  jobsEmpty.hidden = true;
  const job: Job = { file, item, status: null, state: 'uploading', sent: { loaded: 0, total: file.size }, error: null };
  renderJob(job);
  return job;
}

/** "3.2 of 12.5 MB (26 %)". */
function sentText(sent: Job['sent']): string {
  const mb = (n: number) => (n / 1e6).toFixed(1);
  const pct = sent.total ? Math.floor((100 * sent.loaded) / sent.total) : 0;
  return `${mb(sent.loaded)} of ${mb(sent.total)} MB sent (${pct} %)`;
}

function renderJob(job: Job): void {
  const name = job.file.name || 'photo';
  const stateText = job.error ? 'failed' : job.status ? STATE_TEXT[job.status.state] : job.state;
  const stateCls = job.error ? 'failed' : job.status ? job.status.state : 'processing';
  const done = job.status ? doneCount(job.status) : 0;
  const uploading = job.state === 'uploading' && !job.error;
  job.bar = uploading
    ? el('progress', {
        cls: 'transfer',
        max: String(job.sent.total || 1),
        value: String(job.sent.loaded),
        'aria-label': `Upload of ${name}`,
        'aria-valuetext': sentText(job.sent),
      })
    : undefined;
  const children: Node[] = [
    el('div', { cls: 'job-head' }, [
      el('span', { cls: 'job-name', text: name }),
      el('span', { cls: `state-${stateCls}`, text: stateText }),
    ]),
    job.bar ??
      el('progress', {
        max: String(STAGES.length),
        value: String(done),
        'aria-label': `Progress of ${name}`,
        'aria-valuetext': `${done} of ${STAGES.length} stages done`,
      }),
    uploading ? el('p', { cls: 'sent', text: sentText(job.sent) }) : stepList(job.status, name),
  ];
  const reason = job.error ?? (job.status?.error ? `${job.status.error.stage}: ${job.status.error.reason}` : null);
  if (reason) children.push(el('p', { cls: 'error', text: `Error — ${reason}` }));
  if (job.status?.stages.detect.state === 'done') children.push(el('p', { cls: 'found', text: `Found: ${detectionText(job.status)}` }));
  job.item.replaceChildren(...children);
}

/** Moves the transfer bar in place (progress events come many times a second). */
function showSent(job: Job, loaded: number, total: number): void {
  job.sent = { loaded, total };
  if (!job.bar) return;
  job.bar.max = total || 1;
  job.bar.value = loaded;
  job.bar.setAttribute('aria-valuetext', sentText(job.sent));
  const text = job.item.querySelector('.sent');
  if (text) text.textContent = sentText(job.sent);
}

function pump(): void {
  while (running < MAX_PARALLEL_UPLOADS && waiting.length) {
    const job = waiting.shift()!;
    running += 1;
    runJob(job).finally(() => {
      running -= 1;
      pump();
    });
  }
}

interface Sent {
  status: number;
  text: string;
}

/**
 * POSTs a form with XMLHttpRequest, whose upload events (unlike fetch's) report the bytes sent;
 * `headers` for the API's POST /upload (the caller's key or token), none for the bucket's form.
 */
function sendForm(
  url: string,
  body: FormData,
  onProgress: (loaded: number, total: number) => void,
  headers: Record<string, string> = {},
): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable) onProgress(e.loaded, e.total);
    });
    xhr.addEventListener('load', () => resolve({ status: xhr.status, text: xhr.responseText }));
    xhr.addEventListener('error', () => reject(new Error('the upload did not get through (network error)')));
    xhr.addEventListener('abort', () => reject(new Error('the upload was cancelled')));
    xhr.send(body);
  });
}

function parsed<T>(text: string): T | null {
  try {
    return JSON.parse(text) as T;
  } catch {
    return null;
  }
}

/**
 * The content type of a photo (what POST /uploads signs for), '' for a file that is not one: the
 * browser's when it says an image type; else (no type, or application/octet-stream, as browsers
 * say of a .heic on most systems) the one of its name's extension, else the one its first bytes
 * show — a HEIF container (`ftyp` at byte 4) with a HEIC brand. The server checks the bytes anyway.
 */
async function contentTypeOf(file: File): Promise<string> {
  if (file.type.startsWith('image/')) return file.type;
  if (file.type && file.type !== 'application/octet-stream') return '';
  const ext = (file.name.split('.').pop() ?? '').toLowerCase();
  const byName = IMAGE_FORMATS.find((f) => (f.fileExtensions as readonly string[]).includes(ext))?.contentType;
  if (byName) return byName;
  const head = new Uint8Array(await file.slice(0, 64).arrayBuffer());
  const text = String.fromCharCode(...head);
  if (text.slice(4, 8) !== 'ftyp') return '';
  // The major brand (bytes 8-11) and the compatible ones after the minor version (from byte 16).
  const brands = [text.slice(8, 12), ...(text.slice(16).match(/.{4}/g) ?? [])];
  return brands.some((b) => HEIC_BRANDS.includes(b)) ? 'image/heic' : brands.includes('avif') ? 'image/avif' : '';
}

/** The ftyp brands of HEVC-coded HEIF files: still images (heic, heix) and sequences (hevc, hevx). */
const HEIC_BRANDS = ['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'hevm', 'hevs'];

/** The photo in the body of POST /upload: its image id, or undefined when it is too large for this place. */
async function uploadDirect(job: Job, name: string): Promise<string | undefined> {
  const body = new FormData();
  body.append('image', job.file, name);
  const res = await sendForm('upload', body, (loaded, total) => showSent(job, loaded, total), signIn.headers());
  const json = parsed<UploadAnswer>(res.text);
  if (res.status === 401) signIn.refused(json?.error?.message ?? 'HTTP 401');
  if (res.status === 413 && json?.error?.code === 'too_large') return undefined;
  if (res.status !== 202 || !json?.image_id) throw new Error(json?.error?.message || `HTTP ${res.status}`);
  return json.image_id;
}

/** The photo straight into the bucket: a signed form from POST /uploads, then the form itself. */
async function uploadViaBucket(job: Job, name: string): Promise<string> {
  const res = await api('uploads', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ content_type: await contentTypeOf(job.file), size: job.file.size, file_name: name }),
  });
  const created = (await res.json().catch(() => null)) as CreatedUpload | null;
  if (res.status !== 201 || !created?.image_id || !created.upload) throw new Error(reasonOf(res, created));
  const form = new FormData();
  for (const [field, value] of Object.entries(created.upload.fields)) form.append(field, value);
  form.append('file', job.file, name); // last: S3 ignores the fields after the file
  const sent = await sendForm(created.upload.url, form, (loaded, total) => showSent(job, loaded, total));
  if (sent.status < 200 || sent.status > 299) {
    // S3's XML error (the embedded /bucket answers the same): say its message.
    const message = /<Message>([^<]*)<\/Message>/.exec(sent.text)?.[1];
    throw new Error(`the bucket refused the photo: ${message ?? `HTTP ${sent.status}`}`);
  }
  return created.image_id;
}

async function runJob(job: Job): Promise<void> {
  const name = job.file.name || 'photo';
  try {
    const id = (job.file.size <= DIRECT_MAX ? await uploadDirect(job, name) : undefined) ?? (await uploadViaBucket(job, name));
    job.id = id;
    namesById.set(id, name);
    job.item.setAttribute('data-image-id', id);
    job.state = 'uploaded';
    announce(`${name} uploaded; processing.`);
    renderJob(job);
    await follow(job, id);
  } catch (error) {
    job.error = error instanceof Error ? error.message : String(error);
    renderJob(job);
    announce(`${name} failed: ${job.error}`);
  }
}

/** Polls the image's status until it is tagged or failed, backing off while the API does not answer. */
async function follow(job: Job, id: string): Promise<void> {
  const name = job.file.name || 'photo';
  let delay = POLL_MS;
  let last = '';
  for (;;) {
    await sleep(delay);
    let status: ImageStatus;
    try {
      const res = await api(`images/${encodeURIComponent(id)}`, { headers: { accept: 'application/json' } });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      status = (await res.json()) as ImageStatus;
    } catch {
      delay = Math.min(delay * 2, MAX_POLL_MS);
      continue;
    }
    delay = POLL_MS;
    const signature = JSON.stringify(status.stages) + status.state;
    if (signature !== last) {
      last = signature;
      job.status = status;
      renderJob(job);
    }
    if (status.state === 'done') {
      announce(`${name} is tagged. Found: ${detectionText(status)}.`);
      if (signIn.ready()) void labelFilter.refresh(true);
      void refreshGallery();
      return;
    }
    if (status.state === 'failed') {
      announce(`${name} failed at ${status.error?.stage}: ${status.error?.reason}`);
      void refreshGallery();
      return;
    }
  }
}

// ---- recent photos ----
let shown = new Map<string, { signature: string; node: HTMLElement }>();

/**
 * An image whose URL has expired before it was loaded (a lazy one scrolled to later): the photo is
 * drawn again, with fresh URLs, by the next refresh.
 */
function expiring(img: HTMLImageElement, imageId: string): HTMLImageElement {
  img.addEventListener('error', () => {
    shown.delete(imageId);
  });
  return img;
}

function frame(status: ImageStatus, kind: ImageKind, stage: StageName): HTMLElement {
  const caption = CAPTIONS[kind];
  const alt =
    kind === 'tagged'
      ? `Tagged copy with boxes around: ${detectionText(status)}`
      : `${caption} copy of the photo uploaded ${new Date(status.uploaded_at).toLocaleString()}`;
  // A URL the browser can GET without the caller's key or token (presigned, for minutes, after the
  // API checked the photo is theirs); the API's own route where there is none (an older server).
  const urlOf = (k: typeof kind) => status.image_urls?.[k] ?? `images/${encodeURIComponent(status.image_id)}/${k}`;
  const url = urlOf(kind);
  // Most browsers cannot show a HEIC: its frame shows the resized copy (a JPEG) and links to the
  // original, which downloads as it was sent.
  const heic = kind === 'original' && /\.heic$/.test(status.stages.upload.output_key ?? '');
  const shownUrl = heic ? (status.images.resized ? urlOf('resized') : null) : url;
  // Each image links to itself at full size (the tagged labels are small in a thumbnail).
  const picture =
    status.images[kind] && shownUrl
      ? el('a', { href: url, target: '_blank', rel: 'noopener' }, [
          expiring(el('img', { src: shownUrl, alt, loading: 'lazy', decoding: 'async' }), status.image_id),
        ])
      : el('div', { cls: 'pending', text: `${stage}: ${status.stages[stage].state}` });
  return el('figure', null, [picture, el('figcaption', { text: heic ? `${caption} (HEIC, shown from its resized copy)` : caption })]);
}

function renderPhoto(status: ImageStatus): HTMLElement {
  const heading = `${namesById.get(status.image_id) ?? 'Photo'} · uploaded ${new Date(status.uploaded_at).toLocaleString()}`;
  const children: Node[] = [
    el('div', { cls: 'photo-head' }, [
      el('h3', null, [el('time', { datetime: status.uploaded_at, text: heading })]),
      el('span', { cls: `meta state-${status.state}`, text: STATE_TEXT[status.state] }),
      el('span', { cls: 'meta', text: `id ${status.image_id}` }),
    ]),
    el(
      'div',
      { cls: 'frames' },
      KINDS.map(([kind, stage]) => frame(status, kind, stage)),
    ),
  ];
  if (status.error) children.push(el('p', { cls: 'error', text: `Failed at ${status.error.stage}: ${status.error.reason}` }));
  if (status.stages.detect.state === 'done') {
    children.push(
      labels(status).length
        ? el(
            'ul',
            { cls: 'detections', 'aria-label': 'Detections' },
            status.detections.map((d) => el('li', { text: `${d.label} ${Math.round(d.score * 100)} %` })),
          )
        : el('p', { cls: 'found', text: 'Nothing detected.' }),
    );
  } else if (status.state !== 'failed') {
    children.push(el('p', { cls: 'found empty', text: 'Detections: waiting for the detect stage.' }));
  }
  return el('article', { cls: 'photo', 'data-image-id': status.image_id, 'data-state': status.state, 'aria-label': heading }, children);
}

let refreshing: Promise<void> | null = null;

/** Shows the 12 most recent photos, re-rendering only those whose status changed. One refresh at a time. */
function refreshGallery(): Promise<void> {
  // Cleared in a reaction, which runs after the assignment even when the refresh ends at once (not
  // signed in): a `finally` inside the async function would run first and leave it set for good.
  refreshing ??= showRecent().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

async function showRecent(): Promise<void> {
  try {
    galleryHeading.textContent = labelFilter.title();
    if (!signIn.ready()) {
      gallery.replaceChildren();
      galleryEmpty.hidden = true;
      return;
    }
    void labelFilter.refresh();
    const res = await api(labelFilter.listUrl(12), { headers: { accept: 'application/json' } });
    const json = (await res.json()) as RecentImages & { error?: { message: string } };
    labelFilter.showProblem(res.ok ? null : (json.error?.message ?? `HTTP ${res.status}`));
    if (!res.ok) json.images = [];
    galleryEmpty.hidden = json.images.length > 0;
    galleryEmpty.textContent = labelFilter.filtered() ? 'No photos with these labels yet.' : 'No photos yet.';
    const next = new Map<string, { signature: string; node: HTMLElement }>();
    for (const status of json.images) {
      // The image URLs change with every answer (each is good for minutes): not a change of the photo.
      const signature = JSON.stringify({ ...status, image_urls: undefined });
      const old = shown.get(status.image_id);
      next.set(status.image_id, { signature, node: old && old.signature === signature ? old.node : renderPhoto(status) });
    }
    shown = next;
    gallery.replaceChildren(...[...next.values()].map((v) => v.node));
  } catch {
    // keep what is shown; the next refresh tries again
  }
}

// ---- wiring ----
input.addEventListener('change', () => {
  if (input.files) addFiles(input.files);
  input.value = '';
});
for (const type of ['dragenter', 'dragover'] as const) {
  drop.addEventListener(type, (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
}
for (const type of ['dragleave', 'dragend'] as const) drop.addEventListener(type, () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  if (e.dataTransfer?.files.length) addFiles(e.dataTransfer.files);
});
// A photo dropped beside the zone must not replace the page.
window.addEventListener('dragover', (e) => e.preventDefault());
window.addEventListener('drop', (e) => e.preventDefault());
refreshButton.addEventListener('click', () => {
  if (signIn.ready()) void labelFilter.refresh(true);
  void refreshGallery();
});
// Back from the issuer with a code: exchanged for a token first, then the caller's photos.
void signIn.completeRedirect().then(() => {
  if (signIn.ready()) void labelFilter.refresh(true);
  return refreshGallery();
});
setInterval(() => {
  if (!document.hidden) void refreshGallery();
}, REFRESH_MS);
