/**
 * npm run check:infra [-- --template FILE]
 *
 * Installs cfn-lint and checkov (pinned, cached in .cache/infra/), packages the stack unless a
 * template is given (offline, like `npm run package`), and runs both with the repository's configs
 * (.cfnlintrc.yaml, .checkov.yaml) plus the stack's own rules (scripts/infra/stackPolicies.ts).
 * Prints the counts and every finding; exits 1 when there is any.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { infraProblems, runInfraChecks, summarizeInfraReport } from './infraChecks';
import { installCheckers } from './installCheckers';
import { packagedTemplate } from './packagedTemplate';

const { values } = parseArgs({ options: { template: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
if (values.help) {
  process.stdout.write('usage: npm run check:infra [-- --template .serverless/cloudformation-template-update-stack.json]\n');
  process.exit(0);
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const checkers = await installCheckers();
const template = values.template ? path.resolve(values.template) : await packagedTemplate(log);
const report = runInfraChecks(checkers, template);
process.stdout.write(`${template}\n${summarizeInfraReport(report)}\n`);
const problems = infraProblems(report);
for (const problem of problems) process.stdout.write(`\n${problem}\n`);
process.exitCode = problems.length > 0 ? 1 : 0;
