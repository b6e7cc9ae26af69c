import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { childLogger, createLogger } from '../../src/logger/createLogger';

function capture(level: 'debug' | 'info' | 'warn' | 'error' = 'debug') {
  const lines: Array<{ level: string; record: Record<string, unknown> }> = [];
  const log = createLogger(
    { level, serviceName: 'image-pipeline' },
    { sink: (line, lvl) => lines.push({ level: lvl, record: JSON.parse(line) }) },
  );
  return { log, lines, records: () => lines.map((l) => l.record) };
}

describe('the logger (Powertools Logger)', () => {
  it('writes one JSON object per line with the Powertools keys and the message', () => {
    const { log, records } = capture();
    log.info('stage done', { duration_ms: 12 });
    const [line] = records();
    assert.equal(line!.level, 'INFO');
    assert.equal(line!.message, 'stage done');
    assert.equal(line!.service, 'image-pipeline');
    assert.equal(line!.duration_ms, 12);
    assert.match(String(line!.timestamp), /^\d{4}-\d\d-\d\dT/);
  });

  it('children repeat their keys on every line and write where the parent writes', () => {
    const { log, records } = capture();
    const upload = childLogger(log, { stage: 'upload', request_id: 'req-1', image_id: undefined });
    const image = childLogger(upload, { image_id: '0190f5c2-8a3b-7c4d-9e5f-0123456789ab' });
    upload.info('upload refused');
    image.warn('stage failed; will be retried', { attempt: 1 });
    const [a, b] = records();
    assert.deepEqual([a!.stage, a!.request_id, 'image_id' in a!], ['upload', 'req-1', false]);
    assert.deepEqual([b!.stage, b!.request_id, b!.image_id, b!.attempt], ['upload', 'req-1', '0190f5c2-8a3b-7c4d-9e5f-0123456789ab', 1]);
  });

  it("a child follows its parent's level, also when the parent's level changes after the child was made", () => {
    const { log, records } = capture('error');
    const child = childLogger(log, { stage: 'tag' });
    child.info('not at error level');
    child.warn('not at error level');
    log.setLogLevel('INFO');
    child.info('now at info', { bytes: 3 });
    child.error('and errors', { attempt: 2 });
    assert.deepEqual(
      records().map((r) => [r.level, r.message, r.stage]),
      [
        ['INFO', 'now at info', 'tag'],
        ['ERROR', 'and errors', 'tag'],
      ],
    );
    assert.equal(child.getLevelName(), 'INFO');
  });

  it('logs from its level up, the level coming from the config', () => {
    const { log, lines } = capture('warn');
    log.debug('no');
    log.info('no');
    log.warn('yes');
    log.error('yes');
    assert.deepEqual(
      lines.map((l) => [l.level, l.record.message]),
      [
        ['warn', 'yes'],
        ['error', 'yes'],
      ],
    );
  });

  it('never logs a secret: keys that look like one are [redacted] at any depth, whatever the caller passes', () => {
    const { log, lines } = capture();
    const child = childLogger(log, { stage: 'upload' });
    child.info('request', {
      headers: { authorization: 'Bearer abc.def', 'x-api-key': 'k3y-123', 'content-type': 'image/jpeg' },
      credentials: { accessKeyId: 'AKIA0000', secretAccessKey: 'sssh' },
      presigned: { 'X-Amz-Signature': 'deadbeef' },
      password: 'hunter2',
      sessionToken: 'tok',
      nested: [{ client_secret: 'cs' }],
    });
    const text = lines.map((l) => JSON.stringify(l.record)).join('\n');
    for (const secret of ['abc.def', 'k3y-123', 'AKIA0000', 'sssh', 'deadbeef', 'hunter2', 'tok', '"cs"']) {
      assert.ok(!text.includes(secret), `${secret} logged: ${text}`);
    }
    const record = lines[0]!.record as { headers: Record<string, string>; password: string };
    assert.equal(record.headers['x-api-key'], '[redacted]');
    assert.equal(record.headers['content-type'], 'image/jpeg');
    assert.equal(record.password, '[redacted]');
  });

  it('logs an error with its name, message and cause', () => {
    const { log, records } = capture();
    log.error('upload failed', { error: new TypeError('bad input', { cause: new Error('socket hang up') }) });
    const { error } = records()[0] as { error: { name: string; message: string; cause: { message: string } } };
    assert.deepEqual([error.name, error.message, error.cause.message], ['TypeError', 'bad input', 'socket hang up']);
  });

  it('escapes control and bidi characters in every string and key, the message and errors included: none reaches a line raw', () => {
    const { log, lines } = capture();
    const name = 'gpj.\u202eexe\u2066\u200f\u061c\u0085\u007f\u001b[31m\u0000\r\nforged\tline\u2028';
    log.warn(`upload refused: ${name}`, { file_name: name, headers: { [`x-${name}`]: name }, error: new Error(`bad ${name}`) });
    const [line] = lines;
    const raw = JSON.stringify(line!.record);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is what this pattern is for
    assert.doesNotMatch(raw, /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
    const escaped = 'gpj.\\u202eexe\\u2066\\u200f\\u061c\\u0085\\u007f\\u001b[31m\\u0000\\r\\nforged\\tline\\u2028';
    const record = line!.record as { message: string; file_name: string; headers: Record<string, string>; error: { message: string } };
    assert.equal(record.file_name, escaped);
    assert.equal(record.message, `upload refused: ${escaped}`);
    assert.deepEqual(record.headers, { [`x-${escaped}`]: escaped });
    assert.equal(record.error.message, `bad ${escaped}`);
  });

  it('never throws on a value it cannot write (nested 100,000 deep): the line goes out without its fields, saying why', () => {
    const { log, records } = capture();
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    log.warn('upload form refused', { got: deep });
    const [line] = records() as Array<{ message: string; log_error?: string; got?: unknown }>;
    assert.equal(line!.message, 'upload form refused');
    assert.match(line!.log_error ?? '', /^the fields of this line could not be written: Maximum call stack size exceeded/);
    assert.equal(line!.got, undefined);
  });
});
