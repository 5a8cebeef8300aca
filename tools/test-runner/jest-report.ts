/**
 * Reads a Jest `--json` report (Jest 30's format) into the counts `npm test` prints, counting as
 * failures everything Jest reports as broken, not only failed tests: a suite that fails to load
 * (`numRuntimeErrorTestSuites`), a failing `beforeAll`/`afterAll` (a failed suite with no failed
 * test), and a project that matched no test file at all.
 */
import { existsSync, readFileSync } from 'node:fs';

export interface JestJsonReport {
  numPassedTests: number;
  numFailedTests: number;
  numFailedTestSuites: number;
  numRuntimeErrorTestSuites: number;
  numTotalTestSuites: number;
  success: boolean;
  testResults: Array<{
    name: string;
    status: string;
    message?: string;
    assertionResults: Array<{ status: string }>;
  }>;
}

/** A project the stage must run: its name, and a pattern its test files' paths match. */
export interface ExpectedProject {
  name: string;
  pattern: RegExp;
}

export interface StageCount {
  passed: number;
  failed: number;
  /** why each failure that is not a failed test counts: load errors, hooks, empty projects */
  problems: string[];
}

export function countReport(report: JestJsonReport, expected: ExpectedProject[] = []): StageCount {
  const problems: string[] = [];
  let broken = 0;
  for (const suite of report.testResults) {
    const failedTests = suite.assertionResults.filter((a) => a.status === 'failed').length;
    if (suite.status === 'failed' && failedTests === 0) {
      broken += 1;
      const ran = suite.assertionResults.length;
      problems.push(
        `${suite.name}: ${ran === 0 ? 'failed to load' : 'a hook failed'}: ${firstLine(suite.message)}`,
      );
    }
  }
  for (const project of expected) {
    if (!report.testResults.some((s) => project.pattern.test(s.name))) {
      broken += 1;
      problems.push(`project ${project.name}: no test file matched`);
    }
  }
  if (report.testResults.length === 0 && expected.length === 0) {
    broken += 1;
    problems.push('no test file matched');
  }
  return { passed: report.numPassedTests, failed: report.numFailedTests + broken, problems };
}

/** The report Jest wrote in this run, or a count of one failure when it wrote none. */
export function readReport(file: string, expected: ExpectedProject[] = []): StageCount {
  if (!existsSync(file)) {
    return { passed: 0, failed: 1, problems: [`Jest wrote no report (${file})`] };
  }
  return countReport(JSON.parse(readFileSync(file, 'utf8')) as JestJsonReport, expected);
}

function firstLine(message: string | undefined): string {
  const line = (message ?? '')
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.length > 0 && !l.startsWith('●'));
  return (line ?? 'no message').slice(0, 200);
}
