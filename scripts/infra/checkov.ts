import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../repoRoot';
import { CheckerRunError } from './errors';

export const CHECKOV_CONFIG = path.join(REPO_ROOT, '.checkov.yaml');

export interface CheckovFinding {
  checkId: string;
  checkName: string;
  /** `Type.LogicalId`, e.g. `AWS::SQS::Queue.ResizeQueue`. */
  resource: string;
  lines: [number, number];
}

export interface CheckovResult {
  /** 0 when no check failed, 1 when some did. */
  exitCode: number;
  summary: { passed: number; failed: number; skipped: number; parsing_errors: number; resource_count: number };
  failed: CheckovFinding[];
}

interface RawReport {
  check_type?: string;
  summary: CheckovResult['summary'];
  results?: {
    failed_checks: Array<{ check_id: string; check_name: string; resource: string; file_line_range: [number, number] }>;
  };
}

/**
 * checkov on a template, offline (BC_SKIP_MAPPING=TRUE, --skip-download: nothing is fetched from
 * the vendor's platform), as JSON. With `useConfig` (the default) it reads .checkov.yaml and its
 * skips; without, it runs every CloudFormation check from an empty folder.
 */
export function runCheckov(checkov: string, template: string, { useConfig = true } = {}): CheckovResult {
  const args = useConfig
    ? ['--config-file', CHECKOV_CONFIG, '--skip-download', '--file', template, '--output', 'json']
    : ['--framework', 'cloudformation', '--skip-download', '--file', template, '--output', 'json'];
  // No platform key either: with one, checkov would talk to the vendor's platform.
  const { BC_API_KEY: _key, PRISMA_API_URL: _url, ...env } = process.env;
  const run = spawnSync(checkov, args, {
    cwd: useConfig ? REPO_ROOT : os.tmpdir(),
    encoding: 'utf8',
    timeout: 180_000,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...env, BC_SKIP_MAPPING: 'TRUE' },
  });
  const exitCode = run.status ?? -1;
  if (exitCode !== 0 && exitCode !== 1) {
    throw new CheckerRunError(
      `checkov: expected exit 0 or 1, got ${run.status ?? run.signal}:\n${run.stderr}${run.stdout.slice(0, 2000)}`,
      {
        cause: run.error,
      },
    );
  }
  let parsed: RawReport | RawReport[];
  try {
    parsed = JSON.parse(run.stdout) as RawReport | RawReport[];
  } catch (cause) {
    throw new CheckerRunError(`checkov: expected a JSON report, got: ${run.stdout.slice(0, 300)}\n${run.stderr}`, { cause });
  }
  // One framework gives one report; several give a list of them.
  const report = Array.isArray(parsed) ? parsed.find((r) => r.check_type === 'cloudformation') : parsed;
  if (!report?.summary) {
    throw new CheckerRunError(`checkov: expected a cloudformation report with a summary, got: ${run.stdout.slice(0, 300)}`);
  }
  const failed = (report.results?.failed_checks ?? []).map((f) => ({
    checkId: f.check_id,
    checkName: f.check_name,
    resource: f.resource,
    lines: f.file_line_range,
  }));
  return { exitCode, summary: report.summary, failed };
}

/** One line per failed check, e.g. `CKV_AWS_27 AWS::SQS::Queue.ResizeQueue (lines 963-975): Ensure …`. */
export function formatCheckovFindings(findings: CheckovFinding[]): string {
  return findings.map((f) => `  ${f.checkId} ${f.resource} (lines ${f.lines[0]}-${f.lines[1]}): ${f.checkName}`).join('\n');
}
