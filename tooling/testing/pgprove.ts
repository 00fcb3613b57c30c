/** Running pg_prove on a database, and reading its (TAP::Harness's) closing report. */
import { spawnSync } from "node:child_process";

export interface PgProveCount {
  /** Tests that ran and passed. */
  passed: number;
  /** Tests that failed, plus tests a file planned but never ran, plus one for a file that died without a failed test. */
  failed: number;
}

/**
 * Count tests, not files, from pg_prove's output: "Files=2, Tests=20" gives
 * the tests run; each file in the "Test Summary Report" says how many of its
 * tests failed ("(Wstat: 0 Tests: 10 Failed: 2)"), and a bad plan how many it
 * never ran ("You planned 12 tests but ran 10").
 */
export function countPgProve(output: string): PgProveCount {
  const ran = Number(/^Files=\d+, Tests=(\d+)/m.exec(output)?.[1] ?? 0);
  const report = output.split(/^Test Summary Report\s*$/m)[1] ?? "";
  let failed = 0;
  let notRun = 0;
  // One block per file: its summary line, then indented details.
  for (const block of report.split(/^(?=\S.*\(Wstat: )/m).slice(1)) {
    const head = /\(Wstat: (\d+)(?: \([^)]*\))? Tests: (\d+) Failed: (\d+)\)/.exec(block);
    if (!head) continue;
    const [, wstat, , failedHere] = head;
    const plan = /You planned (\d+) tests? but ran (\d+)/.exec(block);
    const missing = plan ? Math.max(0, Number(plan[1]) - Number(plan[2])) : 0;
    failed += Number(failedHere);
    notRun += missing;
    // A file that died (or broke its plan) without a failed or missing test still failed.
    if (Number(failedHere) === 0 && missing === 0 && (Number(wstat) !== 0 || /Parse errors:/.test(block))) notRun += 1;
  }
  return { passed: Math.max(0, ran - failed), failed: failed + notRun };
}

export interface PgProveRun extends PgProveCount {
  /** pg_prove's exit status (null when it could not be started). */
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * pg_prove over pgTAP files on the database a URL names (its user and
 * password), with `--failures` and any extra flags (e.g. `--comments`).
 */
export function runPgProve(url: string, files: string[], options: { cwd?: string; flags?: string[] } = {}): PgProveRun {
  const u = new URL(url);
  const result = spawnSync(
    "pg_prove",
    [
      "--host",
      u.hostname,
      "--port",
      u.port,
      "--username",
      decodeURIComponent(u.username),
      "--dbname",
      decodeURIComponent(u.pathname.slice(1)),
      "--failures",
      ...(options.flags ?? []),
      ...files,
    ],
    {
      ...(options.cwd ? { cwd: options.cwd } : {}),
      encoding: "utf8",
      env: { ...process.env, PGPASSWORD: decodeURIComponent(u.password) },
    },
  );
  const stdout = result.stdout ?? "";
  return { ...countPgProve(stdout), status: result.status, stdout, stderr: result.stderr ?? "" };
}
