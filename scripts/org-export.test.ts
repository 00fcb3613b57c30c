/**
 * npm run org:export as a user runs it: NDJSON to a file written whole or
 * not at all (an existing file is left as it was when the export fails), and
 * to a pipe whose reader stops early (`| head -1`), which ends the export
 * quietly.
 */
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { useTestDatabase } from "../tests/support/database.ts";
import { ORG } from "../tests/support/personas.ts";
import { ROOT } from "../tooling/server/config.ts";

const test = useTestDatabase();
const dir = mkdtempSync(path.join(os.tmpdir(), "org-export-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tsx = path.join(ROOT, "node_modules", ".bin", "tsx");
const script = path.join(ROOT, "scripts", "org-export.ts");

function exportCommand(args: string[], pipe?: string) {
  const run = pipe
    ? ["bash", "-c", `"${tsx}" "${script}" ${args.map((a) => `'${a}'`).join(" ")} | ${pipe}; exit \${PIPESTATUS[0]}`]
    : [tsx, script, ...args];
  const result = spawnSync(run[0]!, run.slice(1), {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, DATABASE_URL: test.url },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("npm run org:export", () => {
  it("writes the organization to --out, from its header to its end record", () => {
    const out = path.join(dir, "globex.ndjson");
    const r = exportCommand([ORG.globex, "--out", out]);
    expect(r.status, r.stderr).toBe(0);
    const types = readFileSync(out, "utf8")
      .trim()
      .split("\n")
      .map((line) => (JSON.parse(line) as { type: string }).type);
    expect(types[0]).toBe("export");
    expect(types.at(-1)).toBe("end");
    expect(readdirSync(dir).filter((f) => f.includes("partial"))).toEqual([]);
  });

  it("leaves an existing --out as it was, and no partial file, when the export fails", () => {
    const out = path.join(dir, "precious.ndjson");
    writeFileSync(out, "precious data\n");
    const r = exportCommand(["10000000-0000-4000-8000-0000000000ff", "--out", out]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/no organization has the id/);
    expect(readFileSync(out, "utf8")).toBe("precious data\n");
    expect(readdirSync(dir).filter((f) => f.includes("partial"))).toEqual([]);
  });

  it("keeps an existing file's mode, and writes through a symlink or a FIFO instead of replacing it", () => {
    const kept = path.join(dir, "private.ndjson");
    writeFileSync(kept, "old\n", { mode: 0o600 });
    chmodSync(kept, 0o600);
    expect(exportCommand([ORG.globex, "--out", kept]).status).toBe(0);
    expect(statSync(kept).mode & 0o777).toBe(0o600);
    expect(readFileSync(kept, "utf8")).toMatch(/^\{"type":"export"/);

    const target = path.join(dir, "target.ndjson");
    writeFileSync(target, "old\n");
    const link = path.join(dir, "link.ndjson");
    symlinkSync(target, link);
    expect(exportCommand([ORG.globex, "--out", link]).status).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, "utf8")).toMatch(/^\{"type":"export"/);

    const fifo = path.join(dir, "fifo");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    const r = spawnSync(
      "bash",
      [
        "-c",
        `cat "${fifo}" > "${fifo}.read" & "${tsx}" "${script}" ${ORG.globex} --out "${fifo}"; s=$?; wait; exit $s`,
      ],
      { cwd: ROOT, encoding: "utf8", env: { ...process.env, DATABASE_URL: test.url } },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(readFileSync(`${fifo}.read`, "utf8")).toMatch(/"type":"end"/);
  });

  it("stops quietly when the reader of its output stops reading (| head -1)", async () => {
    // More than a pipe holds (64 KiB), so that the export is still writing when head has gone.
    await test.sql`insert into public.clients (organization_id, name)
                   select ${ORG.acme}, 'Bulk client ' || g from generate_series(1, 3000) g`;
    const r = exportCommand([ORG.acme], "head -1");
    expect(r.status, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { type: string }).type).toBe("export");
    expect(r.stderr).not.toMatch(/Unexpected failure|EPIPE/);
  });
});
