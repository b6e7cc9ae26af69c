/** A CloudFormation template as the stack rules read it (stackPolicies.ts, iamPolicies.ts): its resources. */
export interface Template {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}

/** The logical id a `{ 'Fn::GetAtt': [Id, …] }` or `{ Ref: Id }` points at, if it is one. */
export function referencedId(value: unknown): string | undefined {
  if (value && typeof value === 'object') {
    const v = value as { 'Fn::GetAtt'?: unknown; Ref?: unknown };
    if (Array.isArray(v['Fn::GetAtt']) && typeof v['Fn::GetAtt'][0] === 'string') return v['Fn::GetAtt'][0];
    if (typeof v.Ref === 'string') return v.Ref;
  }
  return undefined;
}
