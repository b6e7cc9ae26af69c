import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, webhookSignature } from '../../src/ports/webhookSignature';
import { docsWebhookCheck } from '../helpers/webhookReceiver';

/**
 * The webhook check of docs/search-and-events.md, as a receiver would paste it, agrees with how the
 * pipeline signs: it takes a delivery signed now and refuses a changed body, another secret, an old
 * timestamp and a missing signature. (The integration and end-to-end tests also run it on every
 * real delivery.)
 */
describe("the docs' webhook check", () => {
  const secret = 'a-secret-of-16-or-more';
  const body = JSON.stringify({ source: 'image-pipeline', 'detail-type': 'Image Tagged', detail: { image_id: 'x' } });
  const signed = (timestamp: number, key = secret, text = body) => ({
    [TIMESTAMP_HEADER]: String(timestamp),
    [SIGNATURE_HEADER]: webhookSignature(key, String(timestamp), text),
  });
  const now = () => Math.floor(Date.now() / 1000);

  it('takes a delivery signed by the pipeline', async () => {
    const verified = await docsWebhookCheck();
    assert.equal(verified(secret, signed(now()), body), true);
  });

  it('refuses a changed body, another secret, a stale timestamp and no signature', async () => {
    const verified = await docsWebhookCheck();
    assert.equal(verified(secret, signed(now()), `${body} `), false);
    assert.equal(verified(secret, signed(now(), 'another-secret-of-16-chars'), body), false);
    assert.equal(verified(secret, signed(now() - 3600), body), false);
    assert.equal(verified(secret, { [TIMESTAMP_HEADER]: String(now()) }, body), false);
  });
});
