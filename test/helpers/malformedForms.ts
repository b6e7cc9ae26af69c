import { oddMultipart } from './rawHttp';

/**
 * Multipart bodies busboy refuses, each with the reason it gives: the embedded server
 * (test/e2e/hostile-http.test.ts), a Lambda event (test/unit/hostile-requests.test.ts) and the
 * deployed stack (test/e2e/deployed-stack.test.ts) must each answer 400 at once, never hang. Before,
 * POST /upload waited for busboy's `close`, which never comes after its `error`.
 */
export interface MalformedForm {
  name: string;
  form: { body: Buffer; contentType: string };
  /** busboy's reason, the end of the message. */
  reason: string;
}

export const MALFORMED_FORMS: readonly MalformedForm[] = [
  {
    name: 'a NUL in a part header',
    form: oddMultipart('Content-Disposition: form-data; name="image"; filename="a\0.jpg"'),
    reason: 'Malformed part header',
  },
  {
    name: 'a 0x01 in a part header',
    form: oddMultipart('Content-Disposition: form-data; name="image"\x01'),
    reason: 'Malformed part header',
  },
  {
    name: 'a space inside a header name',
    form: oddMultipart('Content Disposition: form-data; name="image"'),
    reason: 'Malformed part header',
  },
  { name: 'more than 16 KB of part headers', form: oddMultipart(`X-Long: ${'a'.repeat(17_000)}`), reason: 'Malformed part header' },
  { name: 'a part with no headers at all', form: oddMultipart(''), reason: 'Malformed part header' },
  {
    name: 'a form cut off in a file',
    form: {
      body: Buffer.from('--b\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n\r\nabc'),
      contentType: 'multipart/form-data; boundary=b',
    },
    reason: 'Unexpected end of form',
  },
  {
    name: 'an empty form',
    form: { body: Buffer.from(' '), contentType: 'multipart/form-data; boundary=b' },
    reason: 'Unexpected end of form',
  },
];

/** What POST /upload says of each. */
export const malformedUploadMessage = (reason: string) =>
  `expected a well-formed multipart/form-data body with a file in field "image", got one that is not: ${reason}`;
