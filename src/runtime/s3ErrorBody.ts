/** Element text: only & < > need escaping (the quotes of a policy condition stay readable). */
const xmlEscape = (s: string) => s.replace(/[<>&]/g, (c) => `&#${c.charCodeAt(0)};`);

/** S3's XML error, as the folder store's own routes answer (POST /bucket, GET /bucket/<key>). */
export function s3ErrorBody(code: string, message: string, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message><RequestId>${requestId}</RequestId></Error>`;
}
