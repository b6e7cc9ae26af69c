/** A CloudFormation template as the stack rules read it (stackPolicies.ts, iamPolicies.ts): its resources. */
export interface Template {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}
