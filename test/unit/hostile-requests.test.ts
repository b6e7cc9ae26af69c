import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config';
import { describeValue } from '../../src/http/describeValue';
import { HttpError } from '../../src/http/HttpError';
import { jsonDepthGauge } from '../../src/http/jsonBody';
import { boundedBody, readBody } from '../../src/http/readBody';
import { readUploadBody } from '../../src/upload/readUploadBody';
import { memorySpool } from '../../src/upload/spool';
import { apiRequest, httpApiEvent, lambdaContext, lambdaFunctions, testApp } from '../helpers/factories';
import { MALFORMED_FORMS, malformedUploadMessage } from '../helpers/malformedForms';

/** A deadline on a test's own wait: a hang fails with what was awaited. */
function within<T>(promise: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

describe('malformed requests on Lambda (an API Gateway event): the same 4xx as the embedded server, at once', () => {
  const app = testApp();
  const upload = lambdaFunctions(app).upload;

  for (const { name, form, reason } of MALFORMED_FORMS) {
    it(`POST /upload with ${name}: 400 bad_multipart`, async () => {
      const res = await within(upload(httpApiEvent({ body: form.body, contentType: form.contentType }), lambdaContext()), name);
      assert.equal(res.statusCode, 400, res.body);
      assert.deepEqual((JSON.parse(res.body) as { error: unknown }).error, {
        code: 'bad_multipart',
        message: malformedUploadMessage(reason),
      });
    });
  }

  it('POST /uploads with JSON nested 200,000 deep: 400 invalid_json, not a 503', async () => {
    const res = await upload(
      httpApiEvent({
        path: '/uploads',
        body: Buffer.from(`${'['.repeat(200_000)}${']'.repeat(200_000)}`),
        contentType: 'application/json',
      }),
      lambdaContext(),
    );
    assert.equal(res.statusCode, 400, res.body);
    assert.equal((JSON.parse(res.body) as { error: { code: string } }).error.code, 'invalid_json');
    assert.ok(!app.logs.some((l) => l.level === 'ERROR'), 'nothing logged as an error');
  });
});

describe('reading a body never waits for ever', () => {
  it("readUploadBody ends with the request deadline's 408 when the body stops coming", async () => {
    const body = new PassThrough();
    body.write('--b\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n\r\nabc');
    const controller = new AbortController();
    const reading = readUploadBody(
      { headers: { 'content-type': 'multipart/form-data; boundary=b' }, body, signal: controller.signal },
      { maxBytes: 1000, spool: memorySpool },
    );
    controller.abort(new HttpError(408, 'request_timeout', 'expected the whole request within 1 s, got less by then'));
    await assert.rejects(within(reading, 'the aborted read'), { name: 'HttpError', statusCode: 408 });
  });

  it('a body cut short ends the read (the client went away), and one past its limit at once', async () => {
    const cut = new PassThrough();
    cut.write('{"a": ');
    const reading = readBody(cut, { maxBytes: 100, signal: new AbortController().signal, tooLarge: () => new Error('too large') });
    cut.destroy();
    await assert.rejects(within(reading, 'a destroyed body'), { name: 'ClientGoneError' });
    const big = new PassThrough();
    const limited = readBody(big, { maxBytes: 10, signal: new AbortController().signal, tooLarge: () => new Error('too large') });
    big.write(Buffer.alloc(11));
    await assert.rejects(within(limited, 'a body past its limit'), { message: 'too large' });
    assert.ok(big.isPaused(), 'the rest of the body is not read');
  });

  it('boundedBody passes the same bytes on, in order', async () => {
    const chunks: Buffer[] = [];
    const source = new PassThrough();
    const out = boundedBody(source, { maxBytes: 100, signal: new AbortController().signal, tooLarge: () => new Error('x') });
    out.on('data', (c: Buffer) => chunks.push(c));
    source.end(Buffer.from('hello'));
    await within(new Promise((resolve) => out.once('end', resolve)), 'the end');
    assert.equal(Buffer.concat(chunks).toString(), 'hello');
  });

  it('an ApiRequest from an adapter has a deadline by construction', () => {
    assert.ok(apiRequest().signal instanceof AbortSignal);
  });
});

describe('the HTTP settings', () => {
  it('PUBLIC_URL: an http(s) URL, kept without its trailing slash; anything else fails at start, saying what was expected', () => {
    assert.equal(loadConfig({ PUBLIC_URL: 'https://photos.example/pipeline/' }).http.publicUrl, 'https://photos.example/pipeline');
    assert.equal(loadConfig({}).http.publicUrl, undefined);
    for (const bad of ['photos.example', 'ftp://photos.example', 'https://photos.example/?a=1', 'https://user:pw@photos.example']) {
      assert.throws(() => loadConfig({ PUBLIC_URL: bad }), {
        name: 'ConfigError',
        message: `PUBLIC_URL: expected the http or https URL clients reach this server at, such as https://photos.example.com (no query, fragment or credentials), got ${JSON.stringify(bad)}`,
      });
    }
  });

  it('deadlines and the connection cap: the defaults, and a bad value fails at start', () => {
    const { http } = loadConfig({});
    assert.deepEqual(
      [http.headersTimeoutSeconds, http.requestTimeoutSeconds, http.idleTimeoutSeconds, http.maxConnections],
      [20, 300, 30, 256],
    );
    assert.throws(() => loadConfig({ HTTP_REQUEST_TIMEOUT_SECONDS: '0' }), {
      message: 'HTTP_REQUEST_TIMEOUT_SECONDS: expected a number of seconds above 0, at most 86400, got "0"',
    });
    assert.throws(() => loadConfig({ HTTP_MAX_CONNECTIONS: '1.5' }), {
      message: 'HTTP_MAX_CONNECTIONS: expected a positive whole number, got "1.5"',
    });
  });
});

describe('what a hostile value cannot do to an error message or a check', () => {
  it('describeValue: short, bounded and never throwing, whatever the value', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    assert.equal(describeValue(deep), '[[[[…]]]]');
    assert.equal(describeValue('x'.repeat(1000)).length, 61);
    assert.equal(describeValue({ a: 1, b: [1, 2], c: 'd' }), '{"a":1,"b":[1,2],"c":"d"}');
    const hostile = {
      get boom() {
        throw new Error('no');
      },
    };
    assert.equal(describeValue(hostile), '[object Object]');
    assert.equal(describeValue(Array.from({ length: 1_000_000 }, (_, i) => i)), '[0,1,2,3,4,5,6,7,…]');
  });

  it('jsonDepthGauge counts brackets outside strings, across chunks, escapes included', () => {
    const gauge = jsonDepthGauge();
    assert.equal(gauge.feed(Buffer.from('{"a": "[[[\\"[[", "b": [')), 2);
    assert.equal(gauge.feed(Buffer.from('[[1]]]}')), 4);
    assert.equal(jsonDepthGauge().feed(Buffer.from('['.repeat(200_000))), 33, 'stops counting past the limit');
  });
});
