import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { formatCfnLintFindings } from '../../scripts/infra/cfnLint';
import { formatCheckovFindings } from '../../scripts/infra/checkov';
import { type InfraReport, runInfraChecks, summarizeInfraReport } from '../../scripts/infra/infraChecks';
import { installCheckers } from '../../scripts/infra/installCheckers';
import { packagedTemplate } from '../../scripts/infra/packagedTemplate';

/**
 * The packaged stack (`sls package`, offline; reused while newer than its inputs) through cfn-lint and
 * checkov, pinned and offline, as `npm run check:infra` runs them: no finding beyond what
 * .cfnlintrc.yaml and .checkov.yaml set aside, each with its reason, none of them stale; and the
 * stack's own rules (scripts/infra/stackPolicies.ts) where a skipped check guarded something.
 * First run: about 35 s to install the checkers into .cache/infra/, about 15 s to package.
 */
describe('infrastructure checks on the packaged stack (cfn-lint, checkov)', { timeout: 600_000 }, () => {
  let report: InfraReport;

  before(async () => {
    const checkers = await installCheckers();
    const template = await packagedTemplate((line) => process.stderr.write(`${line}\n`));
    report = runInfraChecks(checkers, template);
    process.stderr.write(`${summarizeInfraReport(report)}\n`);
  });

  it('cfn-lint finds no error and no warning that .cfnlintrc.yaml does not ignore', () => {
    const { exitCode, findings } = report.cfnLint;
    assert.equal(
      findings.length,
      0,
      `cfn-lint (exit ${exitCode}), fix these or ignore the rule with a reason:\n${formatCfnLintFindings(findings)}`,
    );
    assert.equal(exitCode, 0, 'cfn-lint exit code with no findings');
  });

  it('checkov fails no check that .checkov.yaml does not skip, and reads the whole template', () => {
    const { exitCode, failed, summary } = report.checkov;
    assert.equal(
      failed.length,
      0,
      `checkov (exit ${exitCode}), fix these or skip the check with a reason:\n${formatCheckovFindings(failed)}`,
    );
    assert.equal(exitCode, 0, 'checkov exit code with no failed check');
    assert.equal(summary.parsing_errors, 0, 'checkov parsing errors');
    assert.equal(summary.resource_count, report.resourceCount, 'checkov saw every resource of the template');
    assert.ok(summary.passed >= 90, `checkov ran its CloudFormation checks: ${summary.passed} passed, expected at least 90`);
  });

  it('ignores and skips each have a reason and each still hides a finding', () => {
    assert.ok(report.ignores.length > 0 && report.skips.length > 0, 'both configs were read');
    assert.deepEqual(report.staleIgnores, [], '.cfnlintrc.yaml ignores rules that find nothing any more: remove them');
    assert.deepEqual(report.staleSkips, [], '.checkov.yaml skips checks that fail nowhere any more: remove them');
    // Without the configs the tools do find what they set aside: the runs above are not vacuous.
    assert.ok(report.checkovUnskipped.failed.length > 0 && report.cfnLintUnignored.findings.length > 0);
  });

  it('keeps the stack rules that stand in for the skipped checks (stackPolicies)', () => {
    assert.deepEqual(report.policyViolations, []);
  });
});
