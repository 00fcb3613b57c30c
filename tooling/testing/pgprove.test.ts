/** npm test's pgTAP figures count failed tests, not failed files. */
import { describe, expect, it } from "vitest";
import { countPgProve } from "./pgprove.ts";

describe("countPgProve", () => {
  it("counts every failed test of a file, and tests a bad plan never ran", () => {
    const output = `a.test.sql .. 
not ok 2 - b
not ok 3 - c
Failed 2/4 subtests 
b.test.sql .. 
not ok 2
Failed 2/3 subtests 
c.test.sql .. ok

Test Summary Report
-------------------
a.test.sql (Wstat: 0 Tests: 4 Failed: 2)
  Failed tests:  2-3
b.test.sql (Wstat: 0 Tests: 2 Failed: 1)
  Failed test:  2
  Parse errors: Bad plan.  You planned 3 tests but ran 2.
Files=3, Tests=8,  0 wallclock secs ( 0.02 usr  0.03 sys +  0.01 cusr  0.01 csys =  0.07 CPU)
Result: FAIL
`;
    expect(countPgProve(output)).toEqual({ passed: 5, failed: 4 });
  });

  it("counts a file that died without a failed test as one failure", () => {
    const output = `Test Summary Report
-------------------
d.test.sql (Wstat: 768 (exited 3) Tests: 0 Failed: 0)
  Parse errors: No plan found in TAP output
Files=2, Tests=7,  0 wallclock secs
Result: FAIL
`;
    expect(countPgProve(output)).toEqual({ passed: 7, failed: 1 });
  });

  it("reads a clean run as all passed", () => {
    expect(
      countPgProve("a.test.sql .. ok\nAll tests successful.\nFiles=1, Tests=12,  0 wallclock secs\nResult: PASS\n"),
    ).toEqual({
      passed: 12,
      failed: 0,
    });
  });
});
