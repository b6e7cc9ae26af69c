import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import yaml from 'js-yaml';
import { REPO_ROOT } from '../../scripts/repoRoot';
import { loadConfig } from '../../src/config';
import { STAGE_FOLDERS, UPLOADS_FOLDER } from '../../src/domain/keys';
import { PIPELINE, STAGE_OF_FOLDER, type StageVocabulary } from '../../src/domain/pipeline';
import { QUEUE_KEYS, QUEUES, type QueueKey, STAGES } from '../../src/domain/stages';
import { ROUTES } from '../../src/http/routes';

/**
 * src/domain is the one home of the pipeline's vocabulary; serverless.yml says the same things to
 * AWS in its own words. These tests hold the stack to the vocabulary, so the two cannot drift:
 * functions and stages, each queue's function, name and dead-letter queue, the variables that name
 * the queues, and the folders each function's role may write.
 */
type Cfn = Record<string, unknown>;
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}
interface Stack {
  params: Record<string, Record<string, string>>;
  provider: { environment: Record<string, string> };
  functions: Record<string, { role: string; events?: Array<{ sqs?: { arn: Cfn } }> }>;
  resources: { Resources: Record<string, { Type: string; Properties: Cfn }> };
}

const stack = yaml.load(readFileSync(path.join(REPO_ROOT, 'serverless.yml'), 'utf8')) as Stack;
const resources = stack.resources.Resources;
// biome-ignore lint/suspicious/noTemplateCurlyInString: serverless.yml's own variable, as the file writes it
const PREFIX = '${param:queuePrefix}';

/** The resource a `{ 'Fn::GetAtt': [Name, Arn] }` names. */
function getAtt(value: unknown): string {
  const att = (value as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
  assert.ok(att, `expected a Fn::GetAtt, got ${JSON.stringify(value)}`);
  return att[0];
}

/** The SQS queue resource consumed by a function, from its one SQS event. */
function queueOfFunction(fn: string): string {
  const events = (stack.functions[fn]?.events ?? []).filter((e) => e.sqs);
  assert.equal(events.length, 1, `${fn} has one SQS event`);
  return getAtt(events[0]!.sqs!.arn);
}

/** Every statement of a function's role that allows `action`, with its resources as strings (`Fn::Sub` text, GetAtt names). */
function allowed(fn: string, action: string): string[] {
  const role = resources[stack.functions[fn]!.role]!;
  const policies = role.Properties.Policies as Array<{ PolicyDocument: { Statement: Statement[] } }>;
  return policies
    .flatMap((p) => p.PolicyDocument.Statement)
    .filter((s) => s.Effect === 'Allow' && [s.Action].flat().includes(action))
    .flatMap((s) => [s.Resource].flat())
    .map((r) => {
      const sub = (r as { 'Fn::Sub'?: string })['Fn::Sub'];
      return sub ?? getAtt(r);
    });
}

const folderArn = (folder: string) => `\${ImagesBucket.Arn}/${folder}/*`;

describe('the vocabulary (src/domain)', () => {
  it('chains the stages in order: each sends to the queue the next one consumes', () => {
    const table: Record<string, StageVocabulary> = PIPELINE;
    STAGES.forEach((stage, i) => {
      const next = STAGES[i + 1];
      assert.equal(table[stage]!.next, next, `${stage} sends to ${next ?? 'nobody'}`);
      if (i > 0) {
        assert.equal(table[stage]!.input, stage, `${stage} consumes its own queue`);
        assert.ok(table[stage]!.message, `${stage} has a message schema`);
      }
    });
  });

  it('gives every stage folder exactly one stage that writes it', () => {
    const writers = STAGES.filter((s) => (PIPELINE as Record<string, StageVocabulary>)[s]!.output !== undefined);
    assert.deepEqual(
      writers.map((s) => (PIPELINE as Record<string, StageVocabulary>)[s]!.output),
      [...STAGE_FOLDERS],
    );
    assert.deepEqual(STAGE_OF_FOLDER, { original: 'upload', resized: 'resize', grayscale: 'grayscale', tagged: 'tag' });
  });

  it('names the queues config reads by default, each from its own variable', () => {
    assert.deepEqual(loadConfig({}).queues, QUEUES);
    for (const key of QUEUE_KEYS) {
      const variable = queueVariable(key);
      assert.equal(loadConfig({ [variable]: 'renamed' }).queues[key], 'renamed', variable);
    }
  });
});

/** The variable of serverless.yml's provider.environment that renames this queue in the config. */
function queueVariable(key: QueueKey): string {
  const found = Object.keys(stack.provider.environment).filter(
    (name) => /_QUEUE$/.test(name) && loadConfig({ [name]: 'probe' }).queues[key] === 'probe',
  );
  assert.equal(found.length, 1, `one variable of serverless.yml names the ${key} queue, found ${found.join(', ') || 'none'}`);
  return found[0]!;
}

describe('serverless.yml against src/domain', () => {
  it('has a function for every stage, every queue and every route, and no other', () => {
    const expected = new Set<string>([...STAGES, ...QUEUE_KEYS, ...ROUTES.map((r) => r.fn)]);
    assert.deepEqual(Object.keys(stack.functions).sort(), [...expected].sort());
  });

  it("has SQS events exactly on the queues' functions, each on its own queue, named as the vocabulary names it", () => {
    const withSqs = Object.keys(stack.functions).filter((fn) => (stack.functions[fn]!.events ?? []).some((e) => e.sqs));
    assert.deepEqual(withSqs.sort(), [...QUEUE_KEYS].sort());
    for (const fn of QUEUE_KEYS) {
      const queue = resources[queueOfFunction(fn)]!;
      assert.equal(queue.Type, 'AWS::SQS::Queue');
      assert.equal(queue.Properties.QueueName, `${PREFIX}${QUEUES[fn]}`, fn);
      // Its dead letters go to <name>_dlq, which `npm run dlq` and the stages' dead-lettering address by that name.
      const dlq = resources[getAtt((queue.Properties.RedrivePolicy as { deadLetterTargetArn: unknown }).deadLetterTargetArn)]!;
      assert.equal(dlq.Properties.QueueName, `${PREFIX}${QUEUES[fn]}_dlq`, `${fn}'s dead-letter queue`);
    }
  });

  it('hands every function the queue names the vocabulary gives (prefixed per deployment; unprefixed where the tools expect them)', () => {
    for (const key of QUEUE_KEYS) assert.equal(stack.provider.environment[queueVariable(key)], `${PREFIX}${QUEUES[key]}`, key);
    // npm run dev and the stack deployed onto MiniStack use the bare names (DEPLOYED_QUEUES, the dev stack's queues).
    assert.equal(stack.params.local!.queuePrefix, '');
    assert.equal(stack.params.localstack!.queuePrefix, '');
  });

  it("lets each function's role consume its queue, send to the next one and write its stage's folder and status", () => {
    for (const fn of QUEUE_KEYS) {
      assert.ok(allowed(fn, 'sqs:ReceiveMessage').includes(queueOfFunction(fn)), `${fn} receives from its queue`);
    }
    for (const stage of STAGES) {
      const { input, next, output } = PIPELINE[stage] as StageVocabulary;
      // upload's work is done by two functions: POST /upload and ingest (uploads/ through ingest_queue).
      const functions = stage === 'upload' ? ['upload', 'ingest'] : [stage];
      for (const fn of functions) {
        if (input) assert.equal(queueOfFunction(fn), queueOfFunction(input));
        if (next) assert.ok(allowed(fn, 'sqs:SendMessage').includes(queueOfFunction(next)), `${fn} sends to the ${next} queue`);
        if (output) assert.ok(allowed(fn, 's3:PutObject').includes(folderArn(output)), `${fn} writes ${output}/`);
        assert.ok(allowed(fn, 's3:PutObject').includes(folderArn('status')), `${fn} writes its status record`);
      }
    }
  });

  it("has the bucket notify the ingest function's queue of what is created under uploads/", () => {
    const notification = resources.ImagesBucket!.Properties.NotificationConfiguration as {
      QueueConfigurations: Array<{ Queue: unknown; Filter: { S3Key: { Rules: Array<{ Name: string; Value: string }> } } }>;
    };
    assert.deepEqual(
      notification.QueueConfigurations.map((q) => [getAtt(q.Queue), q.Filter.S3Key.Rules]),
      [[queueOfFunction('ingest'), [{ Name: 'prefix', Value: `${UPLOADS_FOLDER}/` }]]],
    );
  });
});
