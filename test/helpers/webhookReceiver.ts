import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { REPO_ROOT } from '../../scripts/repoRoot';
import { EVENT_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, webhookSignatureProblem } from '../../src/ports/webhookSignature';

/**
 * A webhook receiver for the tests, a real HTTP server: it checks every delivery's signature twice —
 * with the project's check (webhookSignatureProblem) and with the docs' snippet ("Checking a delivery
 * in Node" in docs/search-and-events.md, loaded from that page, so the snippet stays true) — answers
 * `failStatus` to the first `failsPerEvent` tries of each event id and 204 after, and keeps what it accepted.
 */
export interface Delivery {
  /** The x-image-pipeline-event-id header. */
  id: string;
  body: { 'detail-type': string; source: string; detail: Record<string, unknown> & { image_id: string } };
}

export interface WebhookReceiver {
  url: string;
  /** Tries per event id, accepted or not. */
  tries: Map<string, number>;
  accepted: Delivery[];
  /** Deliveries whose signature did not check, with why (answered 401). */
  problems: string[];
  /** Resolves once `done()` holds (checked on each accepted delivery); rejects after `timeoutMs`, saying `what`. */
  until(done: () => boolean, what: () => string, timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

type DocsCheck = (secret: string, headers: IncomingHttpHeaders, rawBody: string) => boolean;

const WEBHOOK_DOCS = 'docs/search-and-events.md';

/** The docs' `verified(secret, headers, rawBody)`, the snippet as a user would paste it. */
export async function docsWebhookCheck(): Promise<DocsCheck> {
  const page = readFileSync(path.join(REPO_ROOT, WEBHOOK_DOCS), 'utf8');
  const at = page.indexOf('Checking a delivery in Node:');
  const snippet = /```js\n([\s\S]*?)```/.exec(page.slice(at))?.[1];
  if (at < 0 || !snippet) throw new Error(`${WEBHOOK_DOCS}: expected a \`\`\`js block after "Checking a delivery in Node:", found none`);
  const module = (await import(`data:text/javascript,${encodeURIComponent(`${snippet}\nexport { verified };`)}`)) as {
    verified: DocsCheck;
  };
  return module.verified;
}

export async function startWebhookReceiver(options: {
  secret: string;
  failsPerEvent: number;
  failStatus: number;
}): Promise<WebhookReceiver> {
  const docsCheck = await docsWebhookCheck();
  const tries = new Map<string, number>();
  const accepted: Delivery[] = [];
  const problems: string[] = [];
  const waiters = new Set<() => void>();
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => {
      raw += c.toString('utf8');
    });
    req.on('end', () => {
      const id = String(req.headers[EVENT_ID_HEADER] ?? '');
      const problem =
        webhookSignatureProblem(
          options.secret,
          { timestamp: req.headers[TIMESTAMP_HEADER] as string, signature: req.headers[SIGNATURE_HEADER] as string },
          raw,
        ) ?? (docsCheck(options.secret, req.headers, raw) ? undefined : `the snippet of ${WEBHOOK_DOCS} refuses it`);
      if (problem) {
        problems.push(`${id}: ${problem}`);
        res.writeHead(401).end();
        return;
      }
      const n = (tries.get(id) ?? 0) + 1;
      tries.set(id, n);
      if (n <= options.failsPerEvent) {
        res.writeHead(options.failStatus).end();
        return;
      }
      accepted.push({ id, body: JSON.parse(raw) as Delivery['body'] });
      res.writeHead(204).end();
      for (const check of waiters) check();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/pipeline`,
    tries,
    accepted,
    problems,
    until: (done, what, timeoutMs) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`webhook receiver: ${what()} after ${timeoutMs / 1000} s`));
        }, timeoutMs);
        const check = () => {
          if (!done()) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
