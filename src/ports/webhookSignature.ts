import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * How a webhook delivery is signed, and how a receiver checks it (docs/search-and-events.md shows the same check):
 *
 *   x-image-pipeline-timestamp: <Unix seconds of this delivery attempt>
 *   x-image-pipeline-signature: sha256=<hex HMAC-SHA256(WEBHOOK_SECRET, "<timestamp>.<body>")>
 *   x-image-pipeline-event-id:  <the event's id, the same on every attempt and every repeat>
 *
 * The timestamp is inside the MAC, so a captured request replayed later fails a receiver's clock
 * check (and cannot be given a fresh timestamp); the id lets it drop a repeat that passes.
 */
export const SIGNATURE_HEADER = 'x-image-pipeline-signature';
export const TIMESTAMP_HEADER = 'x-image-pipeline-timestamp';
export const EVENT_ID_HEADER = 'x-image-pipeline-event-id';
/** Deliveries older (or newer) than this are refused by verifyWebhookSignature. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`;
}

/** Why a delivery is not authentic, or undefined when it is (constant-time comparison). */
export function webhookSignatureProblem(
  secret: string,
  headers: { timestamp?: string | null; signature?: string | null },
  body: string,
  options: { nowSeconds?: number; toleranceSeconds?: number } = {},
): string | undefined {
  const { timestamp, signature } = headers;
  if (!timestamp || !/^\d{1,12}$/.test(timestamp))
    return `expected ${TIMESTAMP_HEADER} in Unix seconds, got ${JSON.stringify(timestamp ?? null)}`;
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(now - Number(timestamp)) > tolerance)
    return `expected a timestamp within ${tolerance} s of now, got ${now - Number(timestamp)} s off`;
  const expected = Buffer.from(webhookSignature(secret, timestamp, body));
  const given = Buffer.from(signature ?? '');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return `${SIGNATURE_HEADER} does not match the body`;
  return undefined;
}
