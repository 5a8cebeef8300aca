import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { countReport, readReport, type ExpectedProject } from './jest-report';

// Real Jest runs on fixture suites, each broken in a way that `numFailedTests` alone misses.
const fixtures = path.join(__dirname, 'fixtures');
const expected: ExpectedProject[] = [
  { name: 'fixtures', pattern: /fixtures\/[^/]+\.fixture-test\.ts$/ },
  { name: 'empty', pattern: /fixtures\/none\// },
];

describe(countReport.name, () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'murmur-jest-report-'));
  const reportFile = path.join(dir, 'report.json');
  const run = (...only: string[]): ReturnType<typeof readReport> => {
    rmSync(reportFile, { force: true });
    spawnSync(
      process.execPath,
      [
        path.join(__dirname, '..', '..', 'node_modules', 'jest', 'bin', 'jest.js'),
        '-c',
        path.join(fixtures, 'jest.config.js'),
        '--json',
        `--outputFile=${reportFile}`,
        ...only,
      ],
      { encoding: 'utf8' },
    );
    return readReport(reportFile, expected.slice(0, only.length > 0 ? 1 : 2));
  };
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('counts a passing suite as passed and nothing failed', () => {
    const sut = run('passes');
    expect(sut).toEqual({ passed: 1, failed: 0, problems: [] });
  });

  it('counts a suite that fails to load as a failure', () => {
    const sut = run('load-error');
    expect(sut.failed).toBe(1);
    expect(sut.problems).toEqual([
      expect.stringMatching(/load-error.*failed to load: fixture: this suite cannot load/),
    ]);
  });

  it('counts a failing afterAll as a failure although every test passed', () => {
    const sut = run('after-all');
    expect(sut.passed).toBe(1);
    expect(sut.failed).toBe(1);
    expect(sut.problems).toEqual([expect.stringMatching(/after-all.*a hook failed: fixture/)]);
  });

  it('counts a project that matched no file as a failure', () => {
    const sut = run();
    expect(sut.problems).toContain('project empty: no test file matched');
    expect(sut.failed).toBe(3);
  });

  it('counts a run that wrote no report as a failure, not a stale one', () => {
    const sut = readReport(path.join(dir, 'missing.json'));
    expect(sut.failed).toBe(1);
  });
});
