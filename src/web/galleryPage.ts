import { createHash } from 'node:crypto';
import type { PageSignIn } from '../auth/authenticator';
import { LAMBDA_DIRECT_UPLOAD_BYTES } from '../config';
import { ACCEPTED_FORMATS, contentTypesOf, IMAGE_FORMATS } from '../domain/imageFormats';
import { STAGE_FOLDERS } from '../domain/keys';
import { STAGE_OF_FOLDER } from '../domain/pipeline';
import { STAGES } from '../domain/stages';
import type { ApiResponse } from '../http/ApiResponse';
import { galleryFiles } from './galleryFiles';

/**
 * The one page of the web UI, served at GET /: gallery.html with gallery.css and the compiled
 * gallery.ts inline, and the lists they work from filled in from the server's own (stages, image
 * kinds, accepted formats). Only that script and that style may run: the Content-Security-Policy
 * names them by their hashes. Assembled on first use and kept.
 */
export interface GalleryPage {
  html: string;
  contentSecurityPolicy: string;
}

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

const PLACEHOLDER = /\{\{(\w+)\}\}/g;

/** Fills each `{{name}}` of the template in one pass; each value's placeholder must be there exactly once, and no other. */
function fill(template: string, values: Record<string, string>): string {
  const found = [...template.matchAll(PLACEHOLDER)].map((m) => m[1]!);
  for (const name of found) if (!(name in values)) throw new Error(`gallery.html: nothing fills {{${name}}}`);
  for (const name of Object.keys(values)) {
    const times = found.filter((n) => n === name).length;
    if (times !== 1) throw new Error(`gallery.html: expected {{${name}}} once, found it ${times} times`);
  }
  return template.replace(PLACEHOLDER, (_, name: string) => values[name]!);
}

/** Puts `text` in the template's one empty `<tag></tag>`; the text must not close the element early. */
function inline(template: string, tag: 'script' | 'style', text: string): string {
  const empty = `<${tag}></${tag}>`;
  const parts = template.split(empty);
  if (parts.length !== 2) throw new Error(`gallery.html: expected one empty ${empty}, found ${parts.length - 1}`);
  if (text.toLowerCase().includes(`</${tag}`)) throw new Error(`gallery ${tag}: contains "</${tag}", which would end the inline element`);
  return parts.join(`<${tag}>${text}</${tag}>`);
}

export function assembleGalleryPage(): GalleryPage {
  const { html, css, script } = galleryFiles();
  return {
    // Placeholders first, so that nothing in the style or the script is taken for one.
    html: inline(
      inline(
        fill(html, {
          stages: STAGES.join(' '),
          kinds: STAGE_FOLDERS.map((folder) => `${folder}:${STAGE_OF_FOLDER[folder]}`).join(' '),
          // Content types and extensions: a system that knows no type for .heic still offers those files.
          accept: [...IMAGE_FORMATS.flatMap(contentTypesOf), ...IMAGE_FORMATS.flatMap((f) => f.fileExtensions.map((e) => `.${e}`))].join(
            ',',
          ),
          formats: ACCEPTED_FORMATS,
          // The smallest direct limit of any place (Lambda's): larger photos go through POST /uploads.
          directMax: String(LAMBDA_DIRECT_UPLOAD_BYTES),
          directMb: (LAMBDA_DIRECT_UPLOAD_BYTES / 1e6).toFixed(1),
          // AUTH=none until withSignIn says otherwise: the one part of the page that depends on the app.
          auth: 'none',
        }),
        'style',
        css,
      ),
      'script',
      script,
    ),
    /**
     * Only this page's own script and style run; images may come from presigned bucket URLs, and
     * the script may post upload forms to the bucket, whose origin the page does not know (S3,
     * MinIO, MiniStack): so connect-src allows any http(s) origin, for the hashed script alone.
     */
    contentSecurityPolicy: [
      "default-src 'none'",
      `script-src ${sha256(script)}`,
      `style-src ${sha256(css)}`,
      "img-src 'self' blob: data: https: http:",
      "connect-src 'self' https: http:",
      "form-action 'self'",
      "base-uri 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
  };
}

const NO_SIGN_IN = 'data-auth="none"';

function attribute(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The page for an app whose AUTH is `signIn.mode`: <main>'s `data-auth` and, for jwt, the issuer's
 * endpoints and the gallery's client (gallerySignIn.ts reads them). Attributes only: the script and
 * the style, and so the Content-Security-Policy, are the same for every app.
 */
export function withSignIn(html: string, signIn: PageSignIn): string {
  const attributes: Array<[string, string | undefined]> = [
    ['data-auth', signIn.mode],
    ['data-client-id', signIn.clientId],
    ['data-authorization-endpoint', signIn.authorizationEndpoint],
    ['data-token-endpoint', signIn.tokenEndpoint],
    ['data-auth-problem', signIn.problem],
  ];
  const text = attributes
    .filter((a): a is [string, string] => a[1] !== undefined)
    .map(([name, value]) => `${name}="${attribute(value)}"`)
    .join(' ');
  const at = html.indexOf(NO_SIGN_IN);
  if (at < 0) throw new Error('gallery page: no sign-in attributes to fill');
  return html.slice(0, at) + text + html.slice(at + NO_SIGN_IN.length);
}

let page: GalleryPage | undefined;

/** The page, assembled on first use (reading and compiling its files when run from source). */
export const galleryPage: GalleryPage = {
  get html() {
    page ??= assembleGalleryPage();
    return page.html;
  },
  get contentSecurityPolicy() {
    page ??= assembleGalleryPage();
    return page.contentSecurityPolicy;
  },
};

/**
 * GET /: the page for an app whose sign-in is `signIn`, with the headers that let only its own
 * script and style run, and keep it out of caches and other sites' referrers.
 */
export function galleryResponse(signIn: PageSignIn): ApiResponse {
  return {
    statusCode: 200,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-cache',
      'content-security-policy': galleryPage.contentSecurityPolicy,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    },
    body: withSignIn(galleryPage.html, signIn),
  };
}
