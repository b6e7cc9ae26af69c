import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../repoRoot';
import { CheckerRunError } from './errors';

export const CFN_LINT_CONFIG = path.join(REPO_ROOT, '.cfnlintrc.yaml');

export interface CfnLintFinding {
  rule: string;
  level: 'Error' | 'Warning' | 'Informational';
  path: string;
  line: number;
  message: string;
}

export interface CfnLintResult {
  /** A bit mask: 2 errors, 4 warnings, 8 informational; 0 when there is nothing to say. */
  exitCode: number;
  findings: CfnLintFinding[];
}

interface RawMatch {
  Level: CfnLintFinding['level'];
  Location: { Path: Array<string | number>; Start: { LineNumber: number } };
  Message: string;
  Rule: { Id: string };
}

/**
 * cfn-lint on a template, as JSON. With `useConfig` (the default) it reads .cfnlintrc.yaml, as a user
 * running `cfn-lint` in the repository does; without, it runs from an empty folder with the same
 * region, so that every finding the config ignores shows up.
 */
export function runCfnLint(cfnLint: string, template: string, { useConfig = true } = {}): CfnLintResult {
  const args = useConfig
    ? ['--config-file', CFN_LINT_CONFIG, '--format', 'json', '--', template]
    : ['--regions', 'us-east-1', '--format', 'json', '--', template];
  const run = spawnSync(cfnLint, args, { cwd: useConfig ? REPO_ROOT : os.tmpdir(), encoding: 'utf8', timeout: 120_000 });
  const exitCode = run.status ?? -1;
  // Bit 1 (or no exit code at all) is cfn-lint failing to run, not a finding.
  if (exitCode < 0 || exitCode & 1) {
    throw new CheckerRunError(
      `cfn-lint: expected an exit code of 0 or a mask of 2/4/8, got ${run.status ?? run.signal}:\n${run.stderr}${run.stdout}`,
      { cause: run.error },
    );
  }
  let matches: RawMatch[];
  try {
    matches = JSON.parse(run.stdout) as RawMatch[];
  } catch (cause) {
    throw new CheckerRunError(`cfn-lint: expected a JSON list of matches, got: ${run.stdout.slice(0, 300)}`, { cause });
  }
  const findings = matches.map((m) => ({
    rule: m.Rule.Id,
    level: m.Level,
    path: m.Location.Path.join('/'),
    line: m.Location.Start.LineNumber,
    message: m.Message,
  }));
  return { exitCode, findings };
}

/** One line per finding, e.g. `W2531 Warning Resources/UploadLambdaFunction/Properties/Runtime (line 208): Runtime …`. */
export function formatCfnLintFindings(findings: CfnLintFinding[]): string {
  return findings.map((f) => `  ${f.rule} ${f.level} ${f.path} (line ${f.line}): ${f.message}`).join('\n');
}
