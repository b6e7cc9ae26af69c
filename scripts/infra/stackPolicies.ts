/**
 * The stack's own rules, checked on the packaged template where a checkov check is skipped
 * (.checkov.yaml) but what it guards still matters, and where no checker looks at all:
 * - every queue encrypted at rest, SSE-SQS or KMS (checkov CKV_AWS_27 counts only KMS);
 * - every SQS event source capped by ScalingConfig.MaximumConcurrency and the HTTP API stage
 *   throttled (instead of reserved concurrency, CKV_AWS_115);
 * - every consumed queue with a redrive policy to a DLQ that keeps messages longer than it does
 *   (instead of a Lambda DLQ, CKV_AWS_116), and a visibility timeout of at least 6 times its
 *   consumer's timeout (AWS's advice for SQS event sources, so a batch in flight is not received twice);
 * - every consumer's MAX_RECEIVE_COUNT (config default 3) equal to its queue's maxReceiveCount: the
 *   handler takes that receive for the last one (the "Image Failed" event, the failed status) before
 *   the redrive policy dead-letters the message;
 * - who is calling: with AUTH=jwt, the JWT authorizer on every HTTP API route that needs a caller
 *   (src/http/routes.ts), and no function with AUTH=none unless AUTH_NONE_PUBLIC says only its owner
 *   reaches the API (it would refuse to start anyway: src/auth/noneModeRule.ts);
 * - least privilege and no secret in the environment: scripts/infra/iamPolicies.ts.
 */
import { ROUTES } from '../../src/http/routes';
import { checkIamPolicies } from './iamPolicies';

import { referencedId, type Template } from './template';

export type { Template } from './template';

type Value = unknown;

const SQS_DEFAULT_RETENTION = 345_600; // 4 days
const CONFIG_DEFAULT_MAX_RECEIVE_COUNT = 3; // src/config.ts
const LAMBDA_DEFAULT_TIMEOUT = 3;

/** Every violation of the rules above, one sentence each (empty when the stack keeps them all). */
export function checkStackPolicies(template: Template): string[] {
  const violations: string[] = [];
  const resources = Object.entries(template.Resources);
  const ofType = (type: string) => resources.filter(([, r]) => r.Type === type);
  const props = (id: string) => template.Resources[id]?.Properties ?? {};

  for (const [id, queue] of ofType('AWS::SQS::Queue')) {
    const p = queue.Properties ?? {};
    if (p.SqsManagedSseEnabled !== true && !p.KmsMasterKeyId) {
      violations.push(`${id}: expected SqsManagedSseEnabled: true or a KmsMasterKeyId, found neither`);
    }
  }

  for (const [id, mapping] of ofType('AWS::Lambda::EventSourceMapping')) {
    const p = mapping.Properties ?? {};
    const queueId = referencedId(p.EventSourceArn);
    if (!queueId || template.Resources[queueId]?.Type !== 'AWS::SQS::Queue') continue;
    const max = (p.ScalingConfig as { MaximumConcurrency?: unknown } | undefined)?.MaximumConcurrency;
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 2 || max > 1000) {
      violations.push(`${id}: expected ScalingConfig.MaximumConcurrency, an integer from 2 to 1000, found ${JSON.stringify(max)}`);
    }
    const queue = props(queueId);
    const redrive = queue.RedrivePolicy as { deadLetterTargetArn?: Value; maxReceiveCount?: unknown } | undefined;
    const dlqId = referencedId(redrive?.deadLetterTargetArn);
    if (!dlqId || typeof redrive?.maxReceiveCount !== 'number') {
      violations.push(
        `${queueId}: expected a RedrivePolicy with a deadLetterTargetArn in the stack and a maxReceiveCount, found ${JSON.stringify(redrive)}`,
      );
    } else {
      const retention = (q: Record<string, Value>) => Number(q.MessageRetentionPeriod ?? SQS_DEFAULT_RETENTION);
      if (retention(props(dlqId)) <= retention(queue)) {
        violations.push(
          `${dlqId}: expected a MessageRetentionPeriod above its source ${queueId}'s ${retention(queue)} s (a dead-lettered message keeps its first enqueue time), found ${retention(props(dlqId))} s`,
        );
      }
    }
    const fnId = referencedId(p.FunctionName);
    const env = (props(fnId ?? '').Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    const handlerCount = Number(env.MAX_RECEIVE_COUNT ?? CONFIG_DEFAULT_MAX_RECEIVE_COUNT);
    if (fnId && typeof redrive?.maxReceiveCount === 'number' && handlerCount !== redrive.maxReceiveCount) {
      violations.push(
        `${fnId}: expected MAX_RECEIVE_COUNT ${redrive.maxReceiveCount}, the maxReceiveCount of ${queueId}'s RedrivePolicy (its last receive), found ${handlerCount}`,
      );
    }
    const timeout = fnId ? Number(props(fnId).Timeout ?? LAMBDA_DEFAULT_TIMEOUT) : undefined;
    const visibility = Number(queue.VisibilityTimeout ?? 30);
    if (timeout !== undefined && visibility < 6 * timeout) {
      violations.push(
        `${queueId}: expected a VisibilityTimeout of at least 6 x ${fnId}'s ${timeout} s = ${6 * timeout} s, found ${visibility} s`,
      );
    }
  }

  const authOf = (id: string) =>
    ((props(id).Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {}) as Record<string, unknown>;
  const functions = ofType('AWS::Lambda::Function').map(([id]) => [id, authOf(id)] as const);
  for (const [id, env] of functions) {
    if (env.AUTH === 'none' && env.AUTH_NONE_PUBLIC !== 'true') {
      violations.push(
        `${id}: AUTH=none behind API Gateway shows every photo to anyone: expected AUTH jwt or api-key (or AUTH_NONE_PUBLIC "true")`,
      );
    }
  }
  if (functions.some(([, env]) => env.AUTH === 'jwt')) {
    const routes = new Map(
      ofType('AWS::ApiGatewayV2::Route').map(([id, r]) => [String(r.Properties?.RouteKey), { id, p: r.Properties ?? {} }]),
    );
    for (const r of ROUTES.filter((route) => route.needsCaller)) {
      const found = routes.get(`${r.method} ${r.path}`);
      if (found && found.p.AuthorizationType !== 'JWT') {
        violations.push(
          `${found.id}: ${r.method} ${r.path} needs a caller: expected AuthorizationType JWT with AUTH=jwt, found ${JSON.stringify(found.p.AuthorizationType)}`,
        );
      }
    }
  }

  for (const [id, stage] of ofType('AWS::ApiGatewayV2::Stage')) {
    const route = (stage.Properties?.DefaultRouteSettings ?? {}) as { ThrottlingRateLimit?: unknown; ThrottlingBurstLimit?: unknown };
    if (typeof route.ThrottlingRateLimit !== 'number' || typeof route.ThrottlingBurstLimit !== 'number') {
      violations.push(
        `${id}: expected DefaultRouteSettings.ThrottlingRateLimit and ThrottlingBurstLimit, found ${JSON.stringify(route.ThrottlingRateLimit)} and ${JSON.stringify(route.ThrottlingBurstLimit)}`,
      );
    }
  }
  violations.push(...checkIamPolicies(template));
  return violations;
}
