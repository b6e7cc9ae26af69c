import { readFileSync } from 'node:fs';
import { CFN_LINT_CONFIG, type CfnLintResult, formatCfnLintFindings, runCfnLint } from './cfnLint';
import { CHECKOV_CONFIG, type CheckovResult, formatCheckovFindings, runCheckov } from './checkov';
import type { Checkers } from './installCheckers';
import { type ReasonedEntry, readReasonedList } from './reasonedList';
import { checkStackPolicies, type Template } from './stackPolicies';

export interface InfraReport {
  /** With .cfnlintrc.yaml / .checkov.yaml, as a user runs them: what must be empty. */
  cfnLint: CfnLintResult;
  checkov: CheckovResult;
  /** Without the configs: what the ignores and skips hide. */
  cfnLintUnignored: CfnLintResult;
  checkovUnskipped: CheckovResult;
  ignores: ReasonedEntry[];
  skips: ReasonedEntry[];
  /** Ignores and skips that match no finding any more (they would hide the next one). */
  staleIgnores: string[];
  staleSkips: string[];
  policyViolations: string[];
  resourceCount: number;
}

/** cfn-lint and checkov with and without their configs, and the stack's own rules, on one template. */
export function runInfraChecks(checkers: Checkers, templateFile: string): InfraReport {
  const template = JSON.parse(readFileSync(templateFile, 'utf8')) as Template;
  const ignores = readReasonedList(CFN_LINT_CONFIG, 'ignore_checks');
  const skips = readReasonedList(CHECKOV_CONFIG, 'skip-check');
  const cfnLintUnignored = runCfnLint(checkers.cfnLint, templateFile, { useConfig: false });
  const checkovUnskipped = runCheckov(checkers.checkov, templateFile, { useConfig: false });
  const linted = new Set(cfnLintUnignored.findings.map((f) => f.rule));
  const failed = new Set(checkovUnskipped.failed.map((f) => f.checkId));
  return {
    cfnLint: runCfnLint(checkers.cfnLint, templateFile),
    checkov: runCheckov(checkers.checkov, templateFile),
    cfnLintUnignored,
    checkovUnskipped,
    ignores,
    skips,
    staleIgnores: ignores.filter((i) => !linted.has(i.id)).map((i) => i.id),
    staleSkips: skips.filter((s) => !failed.has(s.id)).map((s) => s.id),
    policyViolations: checkStackPolicies(template),
    resourceCount: Object.keys(template.Resources).length,
  };
}

const count = (r: CfnLintResult, level: string) => r.findings.filter((f) => f.level === level).length;

/** The counts, one line per checker, e.g. for the record of a change. */
export function summarizeInfraReport(r: InfraReport): string {
  return [
    `cfn-lint: ${count(r.cfnLint, 'Error')} errors, ${count(r.cfnLint, 'Warning')} warnings` +
      ` (without .cfnlintrc.yaml: ${count(r.cfnLintUnignored, 'Error')} errors, ${count(r.cfnLintUnignored, 'Warning')} warnings; ${r.ignores.length} ignored)`,
    `checkov: ${r.checkov.summary.passed} passed, ${r.checkov.summary.failed} failed` +
      ` (without .checkov.yaml: ${r.checkovUnskipped.summary.passed} passed, ${r.checkovUnskipped.summary.failed} failed; ${r.skips.length} skipped)`,
    `stack policies: ${r.policyViolations.length} violations`,
  ].join('\n');
}

/** Everything that should make the checks fail, as readable sections (empty when all is well). */
export function infraProblems(r: InfraReport): string[] {
  const problems: string[] = [];
  if (r.cfnLint.findings.length > 0 || r.cfnLint.exitCode !== 0) {
    problems.push(
      `cfn-lint exited ${r.cfnLint.exitCode} with ${r.cfnLint.findings.length} findings (fix them, or ignore the rule in .cfnlintrc.yaml with a reason):\n${formatCfnLintFindings(r.cfnLint.findings)}`,
    );
  }
  if (r.checkov.failed.length > 0 || r.checkov.exitCode !== 0) {
    problems.push(
      `checkov exited ${r.checkov.exitCode} with ${r.checkov.failed.length} failed checks (fix them, or skip the check in .checkov.yaml with a reason):\n${formatCheckovFindings(r.checkov.failed)}`,
    );
  }
  if (r.checkov.summary.parsing_errors > 0 || r.checkov.summary.resource_count !== r.resourceCount) {
    problems.push(
      `checkov: expected to parse all ${r.resourceCount} resources, it counted ${r.checkov.summary.resource_count} with ${r.checkov.summary.parsing_errors} parsing errors`,
    );
  }
  if (r.staleIgnores.length > 0)
    problems.push(`.cfnlintrc.yaml ignores rules that find nothing any more, remove them: ${r.staleIgnores.join(', ')}`);
  if (r.staleSkips.length > 0)
    problems.push(`.checkov.yaml skips checks that fail nowhere any more, remove them: ${r.staleSkips.join(', ')}`);
  if (r.policyViolations.length > 0) {
    problems.push(`stack policies (scripts/infra/stackPolicies.ts):\n${r.policyViolations.map((v) => `  ${v}`).join('\n')}`);
  }
  return problems;
}
