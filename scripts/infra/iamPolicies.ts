import { referencedId, type Template } from './template';

/**
 * The stack's least-privilege rules for IAM and secrets, checked on the packaged template (no
 * checker knows what this stack's folders mean):
 * - no role reads every object of a bucket (`s3:GetObject` on `<bucket>/*`), and only the function
 *   that consumes the bucket's ObjectCreated queue (ingest) reads `uploads/`, where unchecked bytes are;
 * - every `s3:ListBucket` is conditioned on `s3:prefix`, each pattern a folder (`original/*`), never `*`;
 * - every `events:PutEvents` is conditioned on `events:source` (a named source, not a wildcard);
 * - no function's environment holds a secret in clear: a variable named like one (…SECRET, …API_KEY,
 *   …TOKEN, …PASSWORD) is empty; its `…_PARAMETER` sibling names where the function reads it at init.
 */
type Value = unknown;

interface Statement {
  Effect?: string;
  Action?: string | string[];
  Resource?: Value;
  Condition?: Record<string, Record<string, Value>>;
}

const SECRET_NAME = /(SECRET|API_KEY|TOKEN|PASSWORD)$/;

/** A resource as text: a string, the template of a Fn::Sub, or `<Id>.Arn` for a Fn::GetAtt. */
function resourceText(value: Value): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const v = value as { 'Fn::Sub'?: unknown; 'Fn::GetAtt'?: unknown };
    if (typeof v['Fn::Sub'] === 'string') return v['Fn::Sub'];
    if (Array.isArray(v['Fn::Sub']) && typeof v['Fn::Sub'][0] === 'string') return v['Fn::Sub'][0];
    if (Array.isArray(v['Fn::GetAtt'])) return `${v['Fn::GetAtt'].join('.')}`;
  }
  return JSON.stringify(value);
}

const list = (value: Value): Value[] => (Array.isArray(value) ? value : value === undefined ? [] : [value]);
const actionsOf = (s: Statement) => list(s.Action).map(String);

/** The roles of the functions that consume a queue a bucket sends its ObjectCreated notifications to. */
function notifiedRoles(template: Template): Set<string> {
  const resources = Object.entries(template.Resources);
  const queues = new Set<string>();
  for (const [, r] of resources.filter(([, r]) => r.Type === 'AWS::S3::Bucket')) {
    const config = r.Properties?.NotificationConfiguration as { QueueConfigurations?: Array<{ Queue?: Value }> } | undefined;
    for (const q of config?.QueueConfigurations ?? []) {
      const id = referencedId(q.Queue);
      if (id) queues.add(id);
    }
  }
  const roles = new Set<string>();
  for (const [, m] of resources.filter(([, r]) => r.Type === 'AWS::Lambda::EventSourceMapping')) {
    const queue = referencedId(m.Properties?.EventSourceArn);
    const fn = referencedId(m.Properties?.FunctionName);
    const role = fn ? referencedId(template.Resources[fn]?.Properties?.Role) : undefined;
    if (queue && queues.has(queue) && role) roles.add(role);
  }
  return roles;
}

/** Every violation of the rules above, one sentence each. */
export function checkIamPolicies(template: Template): string[] {
  const violations: string[] = [];
  const resources = Object.entries(template.Resources);
  const readers = notifiedRoles(template);

  for (const [id, role] of resources.filter(([, r]) => r.Type === 'AWS::IAM::Role')) {
    const policies = list(role.Properties?.Policies) as Array<{ PolicyDocument?: { Statement?: Value } }>;
    for (const statement of policies.flatMap((p) => list(p.PolicyDocument?.Statement)) as Statement[]) {
      if (statement.Effect !== 'Allow') continue;
      const actions = actionsOf(statement);
      const texts = list(statement.Resource).map(resourceText);
      if (actions.includes('s3:GetObject')) {
        for (const text of texts) {
          if (/\.Arn\}\/\*$|:::[^/]+\/\*$/.test(text)) {
            violations.push(`${id}: expected s3:GetObject on the folders it reads, found every object of the bucket (${text})`);
          } else if (/\/uploads\/\*$/.test(text) && !readers.has(id)) {
            violations.push(
              `${id}: expected only the role of the function consuming the bucket's notifications to read uploads/ (unchecked bytes), found ${text}`,
            );
          }
        }
      }
      if (actions.includes('s3:ListBucket')) {
        const patterns = list(statement.Condition?.StringLike?.['s3:prefix']).map(String);
        if (patterns.length === 0 || patterns.some((p) => !/^[a-z0-9-]+\/\*$/.test(p))) {
          violations.push(
            `${id}: expected s3:ListBucket conditioned on s3:prefix (StringLike, each a folder such as original/*), found ${JSON.stringify(statement.Condition)}`,
          );
        }
      }
      if (actions.includes('events:PutEvents')) {
        const sources = list(statement.Condition?.StringEquals?.['events:source']).map(String);
        if (sources.length === 0 || sources.some((s) => s === '' || s.includes('*'))) {
          violations.push(
            `${id}: expected events:PutEvents conditioned on events:source (StringEquals, a named source), found ${JSON.stringify(statement.Condition)}`,
          );
        }
      }
    }
  }

  for (const [id, fn] of resources.filter(([, r]) => r.Type === 'AWS::Lambda::Function')) {
    const variables = (fn.Properties?.Environment as { Variables?: Record<string, Value> } | undefined)?.Variables ?? {};
    for (const [name, value] of Object.entries(variables)) {
      if (SECRET_NAME.test(name) && value !== '' && value !== undefined) {
        violations.push(
          `${id}: expected no secret in clear in the environment: ${name} is set; put it in SSM Parameter Store (SecureString) and set ${name}_PARAMETER to its name`,
        );
      }
    }
  }
  return violations;
}
