// The stack's own infrastructure rules (scripts/infra/stackPolicies.ts) and the reasoned ignore
// lists (.cfnlintrc.yaml, .checkov.yaml) on small templates and files made here. The real template
// goes through them in test/integration/infra-checks.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { CheckerConfigError } from '../../scripts/infra/errors';
import { checkIamPolicies } from '../../scripts/infra/iamPolicies';
import { readReasonedList } from '../../scripts/infra/reasonedList';
import { checkStackPolicies, type Template } from '../../scripts/infra/stackPolicies';

/** One stage as serverless.yml makes it: a function, its queue with a DLQ, the event source, the API stage. */
function stack(): Template {
  return {
    Resources: {
      ResizeLambdaFunction: { Type: 'AWS::Lambda::Function', Properties: { Timeout: 30 } },
      ResizeDLQ: { Type: 'AWS::SQS::Queue', Properties: { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 } },
      ResizeQueue: {
        Type: 'AWS::SQS::Queue',
        Properties: {
          SqsManagedSseEnabled: true,
          MessageRetentionPeriod: 345600,
          VisibilityTimeout: 180,
          RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['ResizeDLQ', 'Arn'] }, maxReceiveCount: 3 },
        },
      },
      ResizeMapping: {
        Type: 'AWS::Lambda::EventSourceMapping',
        Properties: {
          EventSourceArn: { 'Fn::GetAtt': ['ResizeQueue', 'Arn'] },
          FunctionName: { 'Fn::GetAtt': ['ResizeLambdaFunction', 'Arn'] },
          ScalingConfig: { MaximumConcurrency: 5 },
        },
      },
      HttpApiStage: {
        Type: 'AWS::ApiGatewayV2::Stage',
        Properties: { DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 } },
      },
    },
  };
}

const props = (t: Template, id: string) => t.Resources[id]!.Properties!;

describe('checkStackPolicies', () => {
  it('finds nothing in a stack that keeps every rule', () => {
    assert.deepEqual(checkStackPolicies(stack()), []);
  });

  it("names a consumer whose MAX_RECEIVE_COUNT is not its queue's maxReceiveCount (its last receive)", () => {
    const t = stack();
    props(t, 'ResizeLambdaFunction').Environment = { Variables: { MAX_RECEIVE_COUNT: '5' } };
    assert.deepEqual(checkStackPolicies(t), [
      "ResizeLambdaFunction: expected MAX_RECEIVE_COUNT 3, the maxReceiveCount of ResizeQueue's RedrivePolicy (its last receive), found 5",
    ]);
    props(t, 'ResizeLambdaFunction').Environment = { Variables: { MAX_RECEIVE_COUNT: '3' } };
    assert.deepEqual(checkStackPolicies(t), []);
  });

  it('accepts a KMS key instead of SSE-SQS, and names a queue with neither', () => {
    const t = stack();
    delete props(t, 'ResizeDLQ').SqsManagedSseEnabled;
    props(t, 'ResizeDLQ').KmsMasterKeyId = 'alias/aws/sqs';
    props(t, 'ResizeQueue').SqsManagedSseEnabled = false;
    assert.deepEqual(checkStackPolicies(t), ['ResizeQueue: expected SqsManagedSseEnabled: true or a KmsMasterKeyId, found neither']);
  });

  it('names an SQS event source without a maximum concurrency, or with one out of range', () => {
    const t = stack();
    delete props(t, 'ResizeMapping').ScalingConfig;
    assert.deepEqual(checkStackPolicies(t), [
      'ResizeMapping: expected ScalingConfig.MaximumConcurrency, an integer from 2 to 1000, found undefined',
    ]);
    props(t, 'ResizeMapping').ScalingConfig = { MaximumConcurrency: 1 };
    assert.deepEqual(checkStackPolicies(t), [
      'ResizeMapping: expected ScalingConfig.MaximumConcurrency, an integer from 2 to 1000, found 1',
    ]);
  });

  it('names a consumed queue without a redrive policy', () => {
    const t = stack();
    delete props(t, 'ResizeQueue').RedrivePolicy;
    assert.deepEqual(checkStackPolicies(t), [
      'ResizeQueue: expected a RedrivePolicy with a deadLetterTargetArn in the stack and a maxReceiveCount, found undefined',
    ]);
  });

  it('names a DLQ that keeps messages no longer than its source queue (the SQS default being 4 days)', () => {
    const t = stack();
    delete props(t, 'ResizeDLQ').MessageRetentionPeriod;
    assert.deepEqual(checkStackPolicies(t), [
      "ResizeDLQ: expected a MessageRetentionPeriod above its source ResizeQueue's 345600 s (a dead-lettered message keeps its first enqueue time), found 345600 s",
    ]);
  });

  it('names a queue whose visibility timeout is under 6 times its consumer timeout', () => {
    const t = stack();
    props(t, 'ResizeQueue').VisibilityTimeout = 60;
    assert.deepEqual(checkStackPolicies(t), [
      "ResizeQueue: expected a VisibilityTimeout of at least 6 x ResizeLambdaFunction's 30 s = 180 s, found 60 s",
    ]);
  });

  it('names an HTTP API stage without throttling', () => {
    const t = stack();
    props(t, 'HttpApiStage').DefaultRouteSettings = { DetailedMetricsEnabled: false };
    assert.deepEqual(checkStackPolicies(t), [
      'HttpApiStage: expected DefaultRouteSettings.ThrottlingRateLimit and ThrottlingBurstLimit, found undefined and undefined',
    ]);
  });

  it('with AUTH=jwt, names a route that needs a caller but has no JWT authorizer; names AUTH=none behind API Gateway', () => {
    const t = stack();
    t.Resources.ApiLambdaFunction = { Type: 'AWS::Lambda::Function', Properties: { Environment: { Variables: { AUTH: 'jwt' } } } };
    t.Resources.HttpApiRouteGet = { Type: 'AWS::ApiGatewayV2::Route', Properties: { RouteKey: 'GET /' } };
    t.Resources.HttpApiRouteGetImages = {
      Type: 'AWS::ApiGatewayV2::Route',
      Properties: { RouteKey: 'GET /images', AuthorizationType: 'JWT' },
    };
    assert.deepEqual(checkStackPolicies(t), []);
    delete props(t, 'HttpApiRouteGetImages').AuthorizationType;
    assert.deepEqual(checkStackPolicies(t), [
      'HttpApiRouteGetImages: GET /images needs a caller: expected AuthorizationType JWT with AUTH=jwt, found undefined',
    ]);
    props(t, 'ApiLambdaFunction').Environment = { Variables: { AUTH: 'none' } };
    assert.deepEqual(checkStackPolicies(t), [
      'ApiLambdaFunction: AUTH=none behind API Gateway shows every photo to anyone: expected AUTH jwt or api-key (or AUTH_NONE_PUBLIC "true")',
    ]);
    props(t, 'ApiLambdaFunction').Environment = { Variables: { AUTH: 'none', AUTH_NONE_PUBLIC: 'true' } };
    assert.deepEqual(checkStackPolicies(t), []);
  });
});

/** How serverless.yml names the bucket's ARN in a Fn::Sub. */
const BUCKET_ARN = '$' + '{ImagesBucket.Arn}';

/** The roles as serverless.yml makes them: ingest (fed by the bucket's notifications), api, a stage. */
function roles(): Template {
  const bucketArn = (folder: string) => ({ 'Fn::Sub': `${BUCKET_ARN}/${folder}/*` });
  const role = (statements: unknown[]) => ({
    Type: 'AWS::IAM::Role',
    Properties: { Policies: [{ PolicyName: 'p', PolicyDocument: { Version: '2012-10-17', Statement: statements } }] },
  });
  const putEvents = {
    Effect: 'Allow',
    Action: ['events:PutEvents'],
    Resource: ['arn:aws:events:us-east-1:1:event-bus/default'],
    Condition: { StringEquals: { 'events:source': 'image-pipeline' } },
  };
  return {
    Resources: {
      ImagesBucket: {
        Type: 'AWS::S3::Bucket',
        Properties: { NotificationConfiguration: { QueueConfigurations: [{ Queue: { 'Fn::GetAtt': ['IngestQueue', 'Arn'] } }] } },
      },
      IngestQueue: { Type: 'AWS::SQS::Queue', Properties: {} },
      IngestMapping: {
        Type: 'AWS::Lambda::EventSourceMapping',
        Properties: {
          EventSourceArn: { 'Fn::GetAtt': ['IngestQueue', 'Arn'] },
          FunctionName: { 'Fn::GetAtt': ['IngestLambdaFunction', 'Arn'] },
        },
      },
      IngestLambdaFunction: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          Role: { 'Fn::GetAtt': ['IngestRole', 'Arn'] },
          Environment: { Variables: { WEBHOOK_SECRET: '', API_KEY_PARAMETER: '/image-pipeline/prod/api-key' } },
        },
      },
      IngestRole: role([
        { Effect: 'Allow', Action: ['s3:GetObject', 's3:DeleteObject'], Resource: [bucketArn('uploads')] },
        {
          Effect: 'Allow',
          Action: ['s3:ListBucket'],
          Resource: [{ 'Fn::GetAtt': ['ImagesBucket', 'Arn'] }],
          Condition: { StringLike: { 's3:prefix': ['uploads/*'] } },
        },
        putEvents,
      ]),
      ApiLambdaFunction: { Type: 'AWS::Lambda::Function', Properties: { Role: { 'Fn::GetAtt': ['ApiRole', 'Arn'] } } },
      ApiRole: role([
        { Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['original', 'resized', 'grayscale', 'tagged', 'status'].map(bucketArn) },
        {
          Effect: 'Allow',
          Action: ['s3:ListBucket'],
          Resource: [{ 'Fn::GetAtt': ['ImagesBucket', 'Arn'] }],
          Condition: { StringLike: { 's3:prefix': ['original/*', 'status/*', 'labels/*'] } },
        },
      ]),
      TagRole: role([putEvents]),
    },
  };
}

const statements = (t: Template, role: string) =>
  (t.Resources[role]!.Properties!.Policies as Array<{ PolicyDocument: { Statement: Array<Record<string, unknown>> } }>)[0]!.PolicyDocument
    .Statement;

describe('least privilege and secrets (iamPolicies)', () => {
  it('finds nothing in roles that keep every rule', () => {
    assert.deepEqual(checkIamPolicies(roles()), []);
  });

  it('names a role that reads every object of the bucket (the API role once did, uploads/ included)', () => {
    const t = roles();
    statements(t, 'ApiRole')[0]!.Resource = [{ 'Fn::Sub': `${BUCKET_ARN}/*` }];
    assert.deepEqual(checkIamPolicies(t), [
      `ApiRole: expected s3:GetObject on the folders it reads, found every object of the bucket (${BUCKET_ARN}/*)`,
    ]);
  });

  it('names a role other than the notified consumer that reads uploads/', () => {
    const t = roles();
    (statements(t, 'ApiRole')[0]!.Resource as unknown[]).push({ 'Fn::Sub': `${BUCKET_ARN}/uploads/*` });
    assert.deepEqual(checkIamPolicies(t), [
      `ApiRole: expected only the role of the function consuming the bucket's notifications to read uploads/ (unchecked bytes), found ${BUCKET_ARN}/uploads/*`,
    ]);
  });

  it('names a ListBucket without an s3:prefix condition, or one that lets it list everything', () => {
    const t = roles();
    delete statements(t, 'IngestRole')[1]!.Condition;
    statements(t, 'ApiRole')[1]!.Condition = { StringLike: { 's3:prefix': ['original/*', '*'] } };
    assert.deepEqual(checkIamPolicies(t), [
      'IngestRole: expected s3:ListBucket conditioned on s3:prefix (StringLike, each a folder such as original/*), found undefined',
      'ApiRole: expected s3:ListBucket conditioned on s3:prefix (StringLike, each a folder such as original/*), found {"StringLike":{"s3:prefix":["original/*","*"]}}',
    ]);
  });

  it('names a PutEvents not conditioned on its source', () => {
    const t = roles();
    statements(t, 'TagRole')[0] = { ...statements(t, 'TagRole')[0]!, Condition: undefined };
    assert.deepEqual(checkIamPolicies(t), [
      'TagRole: expected events:PutEvents conditioned on events:source (StringEquals, a named source), found undefined',
    ]);
    statements(t, 'TagRole')[0]!.Condition = { StringEquals: { 'events:source': '*' } };
    assert.equal(checkIamPolicies(t).length, 1);
  });

  it('names a secret in clear in a function environment (WEBHOOK_SECRET was a plain parameter)', () => {
    const t = roles();
    const env = (t.Resources.IngestLambdaFunction!.Properties!.Environment as { Variables: Record<string, string> }).Variables;
    env.WEBHOOK_SECRET = 'a-secret-of-16-or-more';
    env.API_KEY = 'k';
    assert.deepEqual(checkIamPolicies(t), [
      'IngestLambdaFunction: expected no secret in clear in the environment: WEBHOOK_SECRET is set; put it in SSM Parameter Store (SecureString) and set WEBHOOK_SECRET_PARAMETER to its name',
      'IngestLambdaFunction: expected no secret in clear in the environment: API_KEY is set; put it in SSM Parameter Store (SecureString) and set API_KEY_PARAMETER to its name',
    ]);
  });
});

describe('readReasonedList', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'reasoned-list-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string) => {
    const f = path.join(dir, name);
    writeFileSync(f, text);
    return f;
  };

  it('reads each entry of the list with the reason on its line, up to the next top-level key', () => {
    const f = file(
      'ok.yaml',
      'framework:\n  - cloudformation\nskip-check:\n  # a comment line\n  - CKV_AWS_1 # the reason for one\n\n  - CKV_AWS_22 #  another reason here\nnext: 1\n  - NOT_THIS\n',
    );
    assert.deepEqual(readReasonedList(f, 'skip-check'), [
      { id: 'CKV_AWS_1', reason: 'the reason for one' },
      { id: 'CKV_AWS_22', reason: 'another reason here' },
    ]);
  });

  it('refuses an entry without a reason, with the line and the expected form', () => {
    const f = file('bare.yaml', 'ignore_checks:\n  - W3005 # harmless, written by the framework\n  - W2531\n');
    assert.throws(
      () => readReasonedList(f, 'ignore_checks'),
      (error: unknown) =>
        error instanceof CheckerConfigError &&
        error.name === 'CheckerConfigError' &&
        error.message === `${f}:3: W2531 has no reason: expected '  - W2531 # why it is ignored'`,
    );
  });

  it('refuses a file without the list, and an entry that is not an id', () => {
    const f = file('none.yaml', 'templates:\n  - a.json\n');
    assert.throws(() => readReasonedList(f, 'ignore_checks'), {
      name: 'CheckerConfigError',
      message: `${f}: expected a top-level list 'ignore_checks:', found none`,
    });
    const g = file('flow.yaml', 'skip-check:\n  - [CKV_AWS_1, CKV_AWS_2]\n');
    assert.throws(() => readReasonedList(g, 'skip-check'), {
      name: 'CheckerConfigError',
      message: `${g}:2: expected '  - ID # reason' in 'skip-check', found '- [CKV_AWS_1, CKV_AWS_2]'`,
    });
  });
});
