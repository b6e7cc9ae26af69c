import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../scripts/repoRoot';
import { newImageId } from '../../src/domain/imageId';
import { matchRoute, ROUTES, routePattern } from '../../src/http/routes';

/**
 * The httpApi events of each function in serverless.yml, as `METHOD path`, with ` (authorizer)` when
 * the event names the route authorizer of the stage's auth mode (the JWT authorizer with auth=jwt).
 */
function serverlessRoutes(): Record<string, string[]> {
  const lines = readFileSync(path.join(REPO_ROOT, 'serverless.yml'), 'utf8').split('\n');
  const out: Record<string, string[]> = {};
  let fn: string | undefined;
  for (const line of lines) {
    const handler = /handler: \.build\/functions\/(\w+)\/handler\.handler/.exec(line);
    if (handler) fn = handler[1]!;
    const inline =
      /httpApi: \{ method: (\w+), path: (?:'([^']+)'|([^\s},]+))(, authorizer: '\$\{self:custom\.routeAuthorizer\.\$\{param:auth\}\}')? \}/.exec(
        line,
      );
    if (/^\s+- httpApi:/.test(line)) assert.ok(inline, `serverless.yml: an httpApi event this test cannot read: ${line.trim()}`);
    if (inline && fn) out[fn] = [...(out[fn] ?? []), `${inline[1]} ${inline[2] ?? inline[3]}${inline[4] ? ' (authorizer)' : ''}`];
  }
  return out;
}

describe('the route list (src/http/routes.ts)', () => {
  it('is what serverless.yml deploys, function by function, the authorizer on exactly the routes that need a caller', () => {
    const listed: Record<string, string[]> = {};
    for (const r of ROUTES) listed[r.fn] = [...(listed[r.fn] ?? []), `${r.method} ${r.path}${r.needsCaller ? ' (authorizer)' : ''}`];
    assert.deepEqual(serverlessRoutes(), listed);
  });

  it('matches paths to their templates, with decoded parameters', () => {
    const id = newImageId();
    assert.equal(matchRoute('/')?.route.path, '/');
    assert.equal(matchRoute('/index.html')?.route.path, '/');
    assert.equal(matchRoute('/images/')?.route.path, '/images');
    assert.deepEqual(matchRoute(`/images/${id}/tagged`)?.params, { id, kind: 'tagged' });
    assert.deepEqual(matchRoute('/images/a%2Fb')?.params, { id: 'a/b' });
    assert.equal(matchRoute('/upload', 'api'), undefined);
    assert.equal(matchRoute('/upload')?.route.fn, 'upload');
    assert.equal(matchRoute('/images/a/b/c'), undefined);
    assert.equal(routePattern('/images/{id}').test('/images/x/'), true);
  });
});
