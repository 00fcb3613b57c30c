/**
 * `npm run entity:new`, end to end, in a throwaway copy of the project:
 *
 * - refusals (every run): a name that exists, a reserved or non-identifier
 *   name, columns outside the grammar: a clear message, nothing written;
 * - generation (on one engine, see HEAVY): a sample entity and an assignable
 *   one are generated into the copy (the generated Drizzle schema and
 *   supabase-js types regenerated from its migrations); a template database
 *   is built from the copy's migrations and seed; the generated pgTAP threat
 *   files (with the core's catalog-wide checks) pass, and fail once a policy
 *   is loosened; the generated helpers' vitest suites and plan guards pass in
 *   the copy; the advisors report nothing; the generated TypeScript
 *   type-checks. The copy and its databases are removed afterwards.
 */
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import {
  cpSync,
  mkdirSync,
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
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serverUrl } from "../tests/support/database.ts";
import { describeFindings, runAdvisors, serious } from "../tooling/checks/advisors.ts";
import { squawk } from "../tooling/checks/checks.ts";
import { describeTenancy, tenancyReport } from "../tooling/checks/tenancy.ts";
import { ROOT, withDatabase } from "../tooling/server/config.ts";
import { applyBaseline, applyMigrations, loadSeed } from "../tooling/build/database.ts";
import { createDatabase, dropDatabase, withSql } from "../tooling/server/sql.ts";
import { runPgProve } from "../tooling/testing/pgprove.ts";
import { installPgtap } from "../tooling/testing/throwaway.ts";
import { EntityInputError, planEntity, runEntityNew } from "./entity/generator.ts";
import { parseArgs } from "./entity-new.ts";
import { camelName, TIMESTAMP_WITH_OFFSET } from "../src/cli/entity/columns.ts";
import { ZOD } from "../src/cli/entity/plan.ts";

/** What a copy of the project needs to generate, migrate, test and type-check. */
const PROJECT_FILES = [
  "package.json",
  "tsconfig.json",
  "vitest.config.ts",
  "drizzle.config.ts",
  "supabase",
  "src",
  "scripts",
  "tooling",
  "tests",
];

function copyProject(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "entity-copy-"));
  for (const entry of PROJECT_FILES) cpSync(path.join(ROOT, entry), path.join(dir, entry), { recursive: true });
  symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
  return dir;
}

/** Every file of the copy (not node_modules) with a hash of its content. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const entry of readdirSync(path.join(dir, rel))) {
      const relPath = path.join(rel, entry);
      if (relPath === "node_modules" || relPath === path.join("supabase", ".temp")) continue;
      const full = path.join(dir, relPath);
      if (statSync(full).isDirectory()) walk(relPath);
      else out.set(relPath, createHash("sha256").update(readFileSync(full)).digest("hex"));
    }
  };
  walk("");
  return out;
}

const refuses = (options: Parameters<typeof planEntity>[0], message: RegExp) => {
  expect(() => planEntity(options)).toThrow(EntityInputError);
  expect(() => planEntity(options)).toThrow(message);
};

/**
 * The tables the tests below generate in copies of the project. entity:new refuses a name a
 * migration already creates, and a project that has a table of its own called projects still runs
 * this suite: these names are the tests' own.
 */
const PLAIN = "sample_projects";
const ASSIGNABLE = "sample_time_entries";

/** A project folder with no table of its own: what the grammar's checks see, whatever this project has. */
function blankProject(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "entity-blank-"));
  mkdirSync(path.join(dir, "supabase", "migrations"), { recursive: true });
  return dir;
}

describe("entity:new refuses bad input, writing nothing", () => {
  const workdir = ROOT;
  const blank = blankProject();
  afterAll(() => rmSync(blank, { recursive: true, force: true }));
  it("a name that exists: a core table, or a table a migration creates", () => {
    refuses({ workdir, name: "clients" }, /reserved|exists/);
    refuses({ workdir, name: "organizations" }, /reserved|exists/);
    refuses({ workdir, name: "user_clients" }, /reserved|exists|assignment table/);
  });
  it("a reserved name: an SQL keyword, a name JavaScript refuses, a platform prefix, a name the layer's files use", () => {
    refuses({ workdir, name: "users" }, /reserved/);
    refuses({ workdir, name: "values" }, /reserved/);
    refuses({ workdir, name: "this" }, /reserved/);
    refuses({ workdir, name: "implements" }, /reserved/);
    refuses({ workdir, name: "extends" }, /reserved/);
    refuses({ workdir, name: "pg_things" }, /reserved/);
    refuses({ workdir, name: "members" }, /reserved/);
  });
  it("a name that ends like a threat-suite file of the layer (280_organization_limits.test.sql) is free: only <n>_<name>.test.sql is taken", () => {
    const dir = blankProject();
    try {
      mkdirSync(path.join(dir, "supabase", "tests", "database"), { recursive: true });
      writeFileSync(path.join(dir, "supabase", "tests", "database", "280_organization_limits.test.sql"), "");
      writeFileSync(path.join(dir, "supabase", "tests", "database", "600_gadgets.test.sql"), "");
      expect(planEntity({ workdir: dir, name: "limits" }).names.name).toBe("limits");
      refuses({ workdir: dir, name: "gadgets" }, /600_gadgets\.test\.sql exists already/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("a table a migration creates unqualified or quoted (as `supabase db diff` writes it), unless dropped later", () => {
    const dir = blankProject();
    try {
      const migrations = path.join(dir, "supabase", "migrations");
      writeFileSync(
        path.join(migrations, "20240101000000_invoices.sql"),
        "create table invoices (id uuid primary key);\n",
      );
      writeFileSync(
        path.join(migrations, "20240102000000_gadgets.sql"),
        'create table if not exists "public"."gadgets" ("id" uuid primary key);\ncreate table public.widgets (id uuid);\n',
      );
      writeFileSync(path.join(migrations, "20240103000000_drop.sql"), "drop table public.widgets;\n");
      refuses({ workdir: dir, name: "invoices" }, /public\.invoices exists already/);
      refuses({ workdir: dir, name: "gadgets" }, /public\.gadgets exists already/);
      expect(planEntity({ workdir: dir, name: "widgets" }).names.name).toBe("widgets");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("a name whose row type is a name the helpers import (txes: Tx), or whose singular an assignable table of the project has (boxs after boxes)", () => {
    refuses({ workdir: blank, name: "txes" }, /row type Tx, a name the generated helpers import/);
    const dir = blankProject();
    try {
      writeFileSync(
        path.join(dir, "supabase", "migrations", "20240101000000_boxes.sql"),
        "create function private.assigned_box_ids() returns uuid[] language sql as $$ select '{}'::uuid[] $$;\n",
      );
      refuses(
        { workdir: dir, name: "boxs", assignable: true },
        /names its rows box, as .*20240101000000_boxes\.sql does/,
      );
      // Not assignable: it defines neither helper.
      expect(planEntity({ workdir: dir, name: "boxs" }).names.singular).toBe("box");
      // A helper only named in a comment, or dropped since, is in nobody's way.
      writeFileSync(
        path.join(dir, "supabase", "migrations", "20240102000000_crates.sql"),
        "-- like private.assign_crate_to_creator() elsewhere\ndrop function private.assigned_box_ids();\n",
      );
      expect(planEntity({ workdir: dir, name: "crates", assignable: true }).names.singular).toBe("crate");
      expect(planEntity({ workdir: dir, name: "boxs", assignable: true }).names.singular).toBe("box");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("TypeScript names as drizzle-kit pull spells them: a letter after digits is upper-cased", () => {
    const plan = planEntity({ workdir: blank, name: "projects2s", columns: "line2_name text" });
    expect(plan.names.camel).toBe("projects2S");
    expect(camelName("line2name")).toBe("line2Name");
    expect(camelName("a_2b")).toBe("a2B");
    expect(camelName("time_entries")).toBe("timeEntries");
  });
  it("a plural whose singular is an SQL keyword: the singular only appears inside names (order_id)", () => {
    const plan = planEntity({ workdir: blank, name: "orders", assignable: true });
    expect(plan.names.idCol).toBe("order_id");
  });
  it("a name that is not a plural lowercase snake_case identifier", () => {
    for (const name of [
      "Projects",
      "my-projects",
      "1projects",
      "projects;drop",
      "pro jects",
      "projects_",
      "pro__jects",
      "",
      "ab",
    ]) {
      expect(() => planEntity({ workdir, name }), name).toThrow(EntityInputError);
    }
    refuses({ workdir, name: "project" }, /not plural/);
    refuses({ workdir, name: `${"x".repeat(30)}s` }, /3 to 30/);
    // Every identifier the migration names fits PostgreSQL's 63 bytes at the longest name allowed.
    const longest = planEntity({ workdir: blank, name: `${"x".repeat(29)}s`, assignable: true });
    const migration = longest.files.find((f) => f.path.startsWith("supabase/migrations/"))!.content;
    const named = [
      ...migration.matchAll(
        /\b(?:index|constraint|trigger|policy|function)\s+(?:if not exists\s+)?(?:public\.|private\.)?([a-z_0-9]+)/g,
      ),
    ];
    expect(named.length).toBeGreaterThan(5);
    for (const [, identifier] of named) expect(identifier!.length, identifier).toBeLessThanOrEqual(63);
  });
  it("columns outside the grammar", () => {
    const cases: [string, RegExp][] = [
      ["title varchar(20)", /the types are/],
      ["price numeric(10,2)", /has type "numeric\(10,2\)"; the types are/],
      ["title text primary key", /not <name> <type>/],
      ["title text references public.users", /not <name> <type>/],
      ["title text not null check (true)", /default of title|not <name> <type>/],
      ["id uuid", /every generated table has/],
      ["organization_id uuid", /every generated table has/],
      ["select text", /SQL keyword/],
      ["Title text", /not a column name/],
      ["title text, title text", /given twice/],
      ["title text,", /empty column/],
      ["", /empty/],
      ["title text default now()", /quoted string/],
      ["title text default 'a'); drop table public.clients; --'", /quoted string|not closed/],
      ["n integer default 1.5", /whole number/],
      ["n integer default 3000000000", /range of integer/],
      ["b boolean default 1", /true or false/],
      ["d date default '2026-13-45'", /quoted date/],
      ["d date default '2026-02-31'", /quoted date of the calendar/],
      ["t timestamptz default '2026-02-30T09:00:00Z'", /now\(\) or a quoted timestamp/],
      ["a_1 text, a1 text", /one name in TypeScript \(a1\)/],
      ["constructor text", /property every JavaScript object has/],
      ["to_string text", /property every JavaScript object has \(toString\)/],
      ["t timestamptz default 'yesterday'", /now\(\) or a quoted timestamp/],
      ["u uuid default 'abc'", /gen_random_uuid\(\) or a quoted/],
      ["j jsonb default '{oops'", /JSON value/],
      ["title text not null default 'unclosed", /not closed/],
      ["project_id uuid", /assignment table uses/],
      ["xmin integer", /system column/],
      ["note_ text", /not a column name/],
      ["a__b text", /not a column name/],
      ["big bigint default 9007199254740993", /JavaScript holds exactly/],
      ["tableoid integer", /system column/],
    ];
    for (const [columns, message] of cases) {
      expect(() => planEntity({ workdir: blank, name: "projects", columns }), columns).toThrow(EntityInputError);
      expect(() => planEntity({ workdir: blank, name: "projects", columns }), columns).toThrow(message);
    }
  });
  it("accepts the grammar, defaults included", () => {
    const plan = planEntity({
      workdir: blank,
      name: "projects",
      columns:
        "title text not null default 'it''s, new', due date, budget numeric default 12.50, done boolean not null default false, " +
        "starts timestamptz default now(), ref uuid default gen_random_uuid(), meta jsonb default '{\"a\": [1, 2]}', n integer default -3, big bigint",
    });
    expect(plan.columns.map((c) => c.name)).toEqual([
      "title",
      "due",
      "budget",
      "done",
      "starts",
      "ref",
      "meta",
      "n",
      "big",
    ]);
    expect(plan.columns[0]!.default).toBe("'it''s, new'");
    // The command is quoted in the files' comments: one that would end a comment is named by its table only.
    const closing = planEntity({
      workdir: blank,
      name: "notices",
      columns: "note text default '*/ export const injected = 1; /*'",
    });
    for (const file of closing.files.filter((f) => f.path.endsWith(".ts")))
      expect(file.content, file.path).not.toContain("export const injected");
    expect(
      plan.files.map((f) => f.path.replace(/^supabase\/migrations\/\d+_/, "supabase/migrations/<version>_")),
    ).toEqual([
      "supabase/migrations/<version>_projects.sql",
      expect.stringMatching(/^supabase\/tests\/database\/\d+_projects\.test\.sql$/),
      "src/schema/projects.table.ts",
      "src/projects.ts",
      "src/projects.test.ts",
      "tests/plans/projects.plan.test.ts",
    ]);
  });
  it("the helpers' timestamps take back what they return (PostgreSQL's text) as well as ISO 8601, with an offset", () => {
    expect(ZOD.timestamptz).toContain(TIMESTAMP_WITH_OFFSET.source);
    for (const ok of ["2026-12-04 23:20:01.131523+00", "2026-01-31T09:00:00Z", "2026-01-31T09:00:00.5+05:30"])
      expect(TIMESTAMP_WITH_OFFSET.test(ok), ok).toBe(true);
    for (const bad of ["2026-01-31T09:00:00", "yesterday", "2026-01-31"])
      expect(TIMESTAMP_WITH_OFFSET.test(bad), bad).toBe(false);
  });
  it("command-line arguments: one name, known options only", () => {
    expect(parseArgs(["projects", "--assignable", "--columns", "title text"])).toEqual({
      name: "projects",
      assignable: true,
      columns: "title text",
    });
    expect(parseArgs(["--columns=title text", "projects"])).toEqual({
      name: "projects",
      assignable: false,
      columns: "title text",
    });
    expect(() => parseArgs([])).toThrow(/give the table's name/);
    expect(() => parseArgs(["projects", "tasks"])).toThrow(/one table at a time/);
    expect(() => parseArgs(["projects", "--force"])).toThrow(/unknown option --force/);
    expect(() => parseArgs(["projects", "--columns"])).toThrow(/needs a value/);
    expect(() => parseArgs(["projects", "--columns", "a text", "--columns=b text"])).toThrow(/given twice/);
  });
  it("the command prints the reason and leaves the project as it was", () => {
    const dir = copyProject();
    try {
      const before = snapshot(dir);
      const result = spawnSync(
        path.join(dir, "node_modules", ".bin", "tsx"),
        ["scripts/entity-new.ts", PLAIN, "--columns", "title varchar"],
        {
          cwd: dir,
          encoding: "utf8",
        },
      );
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(
        /entity:new refused: --columns: title has type "varchar"; the types are text, integer/,
      );
      expect(result.stderr).toMatch(/Nothing was written/);
      expect(snapshot(dir)).toEqual(before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * The generation and the generated suites run on one engine: the system
 * PostgreSQL 15, whose sessions run under safeupdate as hosted's API path
 * does (the strictest of the two). What they prove (policies, grants,
 * triggers, plans of the generated SQL) is the same SQL the core suites prove
 * on both majors; running them once keeps npm test's time modest. With
 * DATABASE_URL (one external server), they run there.
 */
const HEAVY = process.env.TEST_ENGINE !== "embedded";

if (HEAVY) {
  describe("entity:new in a throwaway copy: generate, migrate, prove", () => {
    let dir = "";
    let before = new Map<string, string>();
    const template = `entity_template_${randomBytes(4).toString("hex")}`;
    const databases: string[] = [template];
    const generated: string[] = [];

    const newDatabase = async (label: string) => {
      const name = `entity_${label}_${randomBytes(4).toString("hex")}`;
      databases.push(name);
      await createDatabase(serverUrl(), name, { template });
      const url = withDatabase(serverUrl(), name);
      await withSql(url, (sql) => sql`select private.revoke_temporary_from_api_roles()`);
      return url;
    };
    const pgProve = (url: string, files: string[]) => {
      const result = runPgProve(url, files, { cwd: dir });
      return { ...result, output: `${result.stdout}${result.stderr}` };
    };

    beforeAll(async () => {
      dir = copyProject();
      before = snapshot(dir);
      const log: string[] = [];
      for (const options of [
        {
          name: PLAIN,
          // sha256sum: drizzle-kit pull leaves its name out (tooling/build/codegen.ts, repair 7).
          columns:
            "title text not null, due date, budget numeric default 0, done boolean not null default false, sha256sum text",
        },
        { name: ASSIGNABLE, assignable: true, columns: "note text, minutes integer not null" },
      ]) {
        const plan = await runEntityNew({ workdir: dir, serverUrl: serverUrl(), log: (m) => log.push(m), ...options });
        generated.push(...plan.files.map((f) => f.path));
      }
      // The template the copy's suites use: baseline, the copy's migrations, its seed.
      await createDatabase(serverUrl(), template);
      const url = withDatabase(serverUrl(), template);
      await applyBaseline(url);
      await applyMigrations(url, dir);
      await loadSeed(url, path.join(dir, "supabase", "seed.sql"));
      await withSql(serverUrl(), (sql) => sql`alter database ${sql(template)} with is_template true`);
    }, 600_000);

    afterAll(async () => {
      for (const name of databases) {
        if (name === template)
          await withSql(serverUrl(), (sql) => sql`alter database ${sql(name)} with is_template false`).catch(() => {});
        await dropDatabase(serverUrl(), name).catch(() => {});
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("writes only new files and the generated code: no hand-written file changes", () => {
      const after = snapshot(dir);
      const changed = [...after.keys()].filter((f) => before.has(f) && before.get(f) !== after.get(f)).sort();
      const added = [...after.keys()].filter((f) => !before.has(f)).sort();
      expect(changed).toEqual([
        "src/schema/generated/relations.ts",
        "src/schema/generated/schema.ts",
        "src/types/database.types.ts",
      ]);
      expect(added).toEqual([...generated].sort());
      expect(readFileSync(path.join(dir, "src/schema/generated/schema.ts"), "utf8")).toMatch(
        /export const userSampleTimeEntries = pgTable\(\s*"user_sample_time_entries"/,
      );
      expect(readFileSync(path.join(dir, "src/types/database.types.ts"), "utf8")).toMatch(/ sample_time_entries: \{/);
    });

    it("refuses a name it generated before, writing nothing", () => {
      const now = snapshot(dir);
      expect(() => planEntity({ workdir: dir, name: PLAIN })).toThrow(`public.${PLAIN} exists already`);
      expect(() => planEntity({ workdir: dir, name: `user_${PLAIN}` })).toThrow(/exists already|assignment table/);
      expect(snapshot(dir)).toEqual(now);
    });

    it("the whole threat suite passes with the generated tables: their own cases and every core case", async () => {
      const url = await newDatabase("pgtap");
      await installPgtap(url);
      const tests = path.join("supabase", "tests", "database");
      const files = readdirSync(path.join(dir, tests)).filter((f) => f.endsWith(".test.sql"));
      const own = files.filter((f) => f.endsWith(`_${PLAIN}.test.sql`) || f.endsWith(`_${ASSIGNABLE}.test.sql`));
      expect(own).toHaveLength(2);
      // The core's cases must not assume the catalog holds SPEC 4's permissions only: a project's
      // tables register their own and grant them to the built-in roles.
      expect(files).toEqual(expect.arrayContaining(["030_roles_catalog.test.sql", "100_rpc_authorize.test.sql"]));
      const result = pgProve(
        url,
        files.map((f) => path.join(tests, f)),
      );
      expect(result.failed, result.output).toBe(0);
      expect(result.passed).toBeGreaterThan(1400);
    });

    it("the generated threat cases can fail: a read policy loosened to every signed-in user is caught", async () => {
      const url = await newDatabase("loose");
      await installPgtap(url);
      await withSql(url, (sql) => sql.unsafe(`alter policy ${PLAIN}_select on public.${PLAIN} using (true)`));
      const own = readdirSync(path.join(dir, "supabase", "tests", "database")).find((f) =>
        f.endsWith(`_${PLAIN}.test.sql`),
      )!;
      expect(pgProve(url, [path.join("supabase", "tests", "database", own)]).failed).toBeGreaterThan(0);
    });

    it("squawk accepts the generated migrations", () => {
      const files = generated.filter((f) => f.startsWith("supabase/migrations/")).map((f) => path.join(dir, f));
      expect(files).toHaveLength(2);
      const result = squawk(files);
      expect(result.ok, result.output).toBe(true);
    });

    it("the tenant-key check (npm run db:check) finds no failure in the generated tables", async () => {
      const url = await newDatabase("tenancy");
      const report = await withSql(url, (sql) => tenancyReport(sql));
      expect(Object.keys(report.tenantTables)).toEqual(
        expect.arrayContaining([PLAIN, ASSIGNABLE, `user_${ASSIGNABLE}`]),
      );
      expect(report.failures, describeTenancy(report).failures).toEqual([]);
    });

    it("the advisors report nothing at warn level or above", async () => {
      const url = await newDatabase("advisors");
      const findings = serious(runAdvisors(url));
      expect(findings, describeFindings(findings)).toEqual([]);
    });

    it("the generated helpers' vitest suites and plan guards pass in the copy", () => {
      const reportDir = mkdtempSync(path.join(os.tmpdir(), "entity-vitest-"));
      const report = path.join(reportDir, "report.json");
      try {
        const files = generated.filter((f) => f.endsWith(".test.ts"));
        expect(files).toHaveLength(4);
        const result = spawnSync(
          path.join(dir, "node_modules", ".bin", "vitest"),
          ["run", "--reporter=json", `--outputFile.json=${report}`, ...files],
          {
            cwd: dir,
            encoding: "utf8",
            env: { ...process.env, TEST_SERVER_URL: serverUrl(), TEST_TEMPLATE_DB: template },
          },
        );
        const json = JSON.parse(readFileSync(report, "utf8")) as { numPassedTests: number; numFailedTests: number };
        expect(json.numFailedTests, `${result.stdout}${result.stderr}`).toBe(0);
        expect(json.numPassedTests).toBeGreaterThanOrEqual(20);
      } finally {
        rmSync(reportDir, { recursive: true, force: true });
      }
    }, 600_000);

    it("the generated TypeScript type-checks with the project", () => {
      const config = path.join(dir, "tsconfig.entity.json");
      writeFileSync(
        config,
        JSON.stringify({ extends: "./tsconfig.json", include: generated.filter((f) => f.endsWith(".ts")) }),
      );
      const result = spawnSync(path.join(dir, "node_modules", ".bin", "tsc"), ["--noEmit", "-p", config], {
        cwd: dir,
        encoding: "utf8",
      });
      expect(`${result.stdout}${result.stderr}`).toBe("");
      expect(result.status).toBe(0);
    }, 300_000);
  });
}
