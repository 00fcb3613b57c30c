/**
 * Adoption in an existing Supabase project, as a user does it: a scratch
 * project made by the pinned CLI's `supabase init`, the `npm pack` tarball
 * installed into it, `supabase-org-layer init`, `supabase db push` to a fresh
 * database with the platform baseline, the copied threat suite with pg_prove,
 * `doctor`; then an upgrade from release 0.1.0's migration set on a database
 * holding data; and each refusal of `init` and `upgrade`.
 *
 * npm test runs this file on the embedded engine only, in a vitest run of its
 * own after the other suites (scripts/test.ts): it checks packaging and the
 * CLI, which do not depend on the PostgreSQL major; its minutes of packing,
 * type-checking and pushing would otherwise slow the timing-sensitive suites
 * beside it.
 */
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, superuserUrl } from "../../tooling/server/config.ts";
import { createDatabase, dropDatabase, withSql } from "../../tooling/server/sql.ts";
import { applyBaseline, pushUrl, supabaseCli } from "../../tooling/build/database.ts";
import { installPgtap } from "../../tooling/testing/throwaway.ts";
import { runPgProve } from "../../tooling/testing/pgprove.ts";
import { serverUrl } from "../support/database.ts";
import { fileSha256, layerMigrations, layerTests } from "../../src/cli/layer.ts";
import { nextVersions, type Manifest } from "../../src/cli/install.ts";

const CLI = path.join(ROOT, "node_modules", ".bin", "supabase");
const TSC = path.join(ROOT, "node_modules", ".bin", "tsc");
const V010 = JSON.parse(readFileSync(path.join(import.meta.dirname, "fixtures", "v0.1.0.json"), "utf8")) as {
  migrations: { source: string; sha256: string }[];
};

const tmp = mkdtempSync(path.join(os.tmpdir(), "org-layer-install-"));
const app = path.join(tmp, "app");
let bin = "";
const databases: string[] = [];

function sh(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(file, args, { cwd, encoding: "utf8", env: { ...process.env, ...env } });
  return { status: r.status, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

/** The installed bin, in `workdir`. */
function layer(args: string[], workdir: string) {
  return sh(process.execPath, [bin, ...args], workdir);
}

function supabaseInit(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const r = sh(CLI, ["init", "--workdir", dir], dir, { SUPABASE_TELEMETRY_DISABLED: "1", DO_NOT_TRACK: "1" });
  expect(r.status, r.out).toBe(0);
  expect(existsSync(path.join(dir, "supabase", "config.toml"))).toBe(true);
}

/** Every file under a folder with its checksum: to show that a refusal wrote nothing. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const f of readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, f.name);
      if (f.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = fileSha256(p);
    }
  };
  walk(dir);
  return out;
}

/** A bare project folder as `supabase init` leaves it, plus the given migrations. */
function project(name: string, migrations: Record<string, string> = {}): string {
  const dir = path.join(tmp, name);
  mkdirSync(path.join(dir, "supabase", "migrations"), { recursive: true });
  writeFileSync(path.join(dir, "supabase", "config.toml"), 'project_id = "scratch"\n');
  for (const [file, text] of Object.entries(migrations))
    writeFileSync(path.join(dir, "supabase", "migrations", file), text);
  return dir;
}

async function freshDatabase(): Promise<string> {
  const name = `install_${databases.length}_${process.pid}`;
  databases.push(name);
  await createDatabase(serverUrl(), name);
  const url = new URL(serverUrl());
  url.pathname = `/${name}`;
  await applyBaseline(url.toString());
  return url.toString();
}

/**
 * Set (or, with null, reset) one of PostgREST's in-database settings for this
 * database only, as a superuser: what docs/security.md has the project's
 * owner run where `db push` may not.
 */
async function setPostgrest(url: string, name: string, value: string | null): Promise<void> {
  const database = new URL(url).pathname.slice(1);
  const change = value === null ? `reset pgrst.${name}` : `set pgrst.${name} = '${value}'`;
  await withSql(superuserUrl(url), (sql) => sql.unsafe(`alter role authenticator in database "${database}" ${change}`));
}

/** Name the layer's check as PostgREST's pre-request function. */
const namePreRequest = (url: string) => setPostgrest(url, "db_pre_request", "api_guard.check_request");

function push(url: string, workdir: string): void {
  const r = supabaseCli(["db", "push", "--db-url", pushUrl(url), "--yes", "--include-all"], { workdir });
  expect(r.status, r.output).toBe(0);
}

/** pg_prove over pgTAP files on the database at `url`: every test passes. */
function prove(url: string, files: string[]): { passed: number; failed: number } {
  const r = runPgProve(url, files);
  expect(`${r.stdout}${r.stderr}`).toContain("All tests successful");
  expect(r.failed).toBe(0);
  return r;
}

/** The project's pgTAP suite: every supabase/tests/database/*.test.sql. */
function suiteFiles(dir: string): string[] {
  const tests = path.join(dir, "supabase", "tests", "database");
  return readdirSync(tests)
    .filter((f) => f.endsWith(".test.sql"))
    .sort()
    .map((f) => path.join(tests, f));
}

function manifestOf(dir: string): Manifest {
  return JSON.parse(readFileSync(path.join(dir, "supabase", "supabase-org-layer.json"), "utf8")) as Manifest;
}

beforeAll(() => {
  const pack = sh("npm", ["pack", "--pack-destination", tmp, "--silent"], ROOT);
  expect(pack.status, pack.out).toBe(0);
  const tarball = path.join(tmp, pack.out.trim().split("\n").at(-1)!);
  expect(existsSync(tarball), pack.out).toBe(true);
  supabaseInit(app);
  writeFileSync(
    path.join(app, "package.json"),
    JSON.stringify({ name: "app", private: true, type: "module" }, null, 2),
  );
  // The project's own history, before the layer arrives.
  mkdirSync(path.join(app, "supabase", "migrations"), { recursive: true });
  writeFileSync(
    path.join(app, "supabase", "migrations", "20250101000000_app_projects.sql"),
    "create table public.app_projects (id bigint generated always as identity primary key, name text not null);\n" +
      "alter table public.app_projects enable row level security;\n" +
      // A function of the project's own, written as Supabase's guides write them: the copied
      // threat suite judges the layer's functions, not this one.
      "create function public.app_project_count() returns bigint language sql security definer set search_path = ''\n" +
      "  as $$ select count(*) from public.app_projects $$;\n",
  );
  const install = sh(
    "npm",
    ["install", tarball, "--no-audit", "--no-fund", "--prefer-offline", "--ignore-scripts"],
    app,
  );
  expect(install.status, install.out).toBe(0);
  bin = path.join(app, "node_modules", "supabase-org-layer", "dist", "cli", "main.js");
  expect(existsSync(bin)).toBe(true);
}, 600_000);

afterAll(async () => {
  for (const name of databases) await dropDatabase(serverUrl(), name);
  rmSync(tmp, { recursive: true, force: true });
});

describe("the package", () => {
  it("ships the migrations and the threat suite, not the repository's tests", () => {
    const root = path.join(app, "node_modules", "supabase-org-layer");
    expect(readdirSync(path.join(root, "supabase", "migrations")).sort()).toEqual(layerMigrations());
    expect(existsSync(path.join(root, "supabase", "tests", "database", "personas.psql"))).toBe(true);
    expect(existsSync(path.join(root, "supabase", "tests", "database", "000_platform_baseline.test.sql"))).toBe(false);
    expect(existsSync(path.join(root, "src"))).toBe(false);
    expect(readdirSync(path.join(root, "dist")).filter((f) => f.includes(".test."))).toEqual([]);
  });

  it("imports from a plain Node ESM project", () => {
    writeFileSync(
      path.join(app, "check.mjs"),
      'import { createOrgDb, DatabaseError } from "supabase-org-layer";\n' +
        'import * as schema from "supabase-org-layer/schema";\n' +
        'import * as errors from "supabase-org-layer/errors";\n' +
        'import { clientInsertSchema } from "supabase-org-layer/schema/clients.table";\n' +
        "console.log(typeof createOrgDb, typeof DatabaseError, typeof schema.organizations, typeof errors.RULES,\n" +
        "  clientInsertSchema.safeParse({}).success);\n",
    );
    const r = sh(process.execPath, ["check.mjs"], app);
    expect(r.status, r.out).toBe(0);
    expect(r.out.trim()).toBe("function function object object false");
  });

  it.each(["bundler", "nodenext"])(
    "type-checks under moduleResolution %s",
    (resolution) => {
      const dir = path.join(app, `ts-${resolution}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(
        path.join(dir, "check.ts"),
        'import { createOrgDb, type OrgDb } from "supabase-org-layer";\n' +
          'import type { Database } from "supabase-org-layer/database-types";\n' +
          'import type { Client } from "supabase-org-layer/schema/clients.table";\n' +
          'export const client: Pick<Client, "name"> = { name: "Northwind" };\n' +
          'const db: OrgDb = createOrgDb("postgresql://postgres@127.0.0.1:5432/postgres");\n' +
          'type Org = Database["public"]["Tables"]["organizations"]["Row"];\n' +
          'export const slug: Org["slug"] = "acme";\n' +
          "// @ts-expect-error the typed layer knows its handles: no such member\n" +
          "db.noSuchMember();\n",
      );
      writeFileSync(
        path.join(dir, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            target: "ES2022",
            module: resolution === "bundler" ? "ESNext" : "NodeNext",
            moduleResolution: resolution === "bundler" ? "Bundler" : "NodeNext",
            strict: true,
            noEmit: true,
            skipLibCheck: true,
            types: [],
          },
          files: ["check.ts"],
        }),
      );
      writeFileSync(path.join(dir, "package.json"), JSON.stringify({ type: "module" }));
      const r = sh(TSC, ["-p", "tsconfig.json"], dir);
      expect(r.out).toBe("");
      expect(r.status).toBe(0);
    },
    120_000,
  );
});

describe("init, push, threat suite, doctor", () => {
  let url = "";

  it("init copies the migrations after the project's latest, in order, and the threat suite, with a manifest", () => {
    const r = layer(["init"], app);
    expect(r.status, r.out).toBe(0);
    // It says what the layer's default privileges mean for the project's own tables and functions.
    expect(r.out).toContain("grant what your own tables and functions need in your migrations");
    const manifest = manifestOf(app);
    expect(manifest.version).toBe(
      (JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string }).version,
    );
    expect(manifest.migrations.map((m) => m.source)).toEqual(layerMigrations());
    const files = manifest.migrations.map((m) => path.basename(m.file));
    expect([...files].sort()).toEqual(files);
    expect(files.every((f) => f > "20250101000000_app_projects.sql")).toBe(true);
    expect(new Set(files.map((f) => f.split("_")[0])).size).toBe(files.length);
    for (const m of manifest.migrations) {
      expect(fileSha256(path.join(app, m.file))).toBe(fileSha256(path.join(ROOT, "supabase", "migrations", m.source)));
    }
    expect(manifest.tests.map((t) => t.source)).toEqual(layerTests());
    expect(existsSync(path.join(app, "supabase", "tests", "database", "personas.psql"))).toBe(true);
  });

  it("supabase db push applies them to a database with the platform baseline", async () => {
    url = await freshDatabase();
    push(url, app);
    const rows = await withSql(
      url,
      (sql) => sql<{ version: string }[]>`select version from supabase_migrations.schema_migrations`,
    );
    expect(rows.length).toBe(layerMigrations().length + 1);
  }, 180_000);

  it("the copied threat suite passes there", async () => {
    await installPgtap(url);
    const { passed } = prove(url, suiteFiles(app));
    expect(passed).toBeGreaterThan(700);
  }, 300_000);

  it("doctor fails until PostgREST's pre-request function refuses estimated counts, then passes every check, and fails when RLS is off on a layer table", async () => {
    const unnamed = layer(["doctor", "--db-url", url, "--workdir", app, "--no-advisors"], app);
    expect(unnamed.status, unnamed.out).toBe(1);
    expect(unnamed.out).toMatch(
      /✖ estimated counts: no PostgREST pre-request function: run `alter role authenticator set pgrst\.db_pre_request = 'api_guard\.check_request'/,
    );
    await namePreRequest(url);
    const ok = layer(["doctor", "--db-url", url, "--workdir", app, "--supabase-cli", CLI], app);
    expect(ok.out).toMatch(/✔ estimated counts/);
    expect(ok.out).toMatch(/✔ query plans/);
    expect(ok.out).toMatch(/✔ migrations applied/);
    expect(ok.out).toMatch(/✔ row-level security/);
    expect(ok.out).toMatch(/✔ functions/);
    expect(ok.out).toMatch(/✔ API grants/);
    expect(ok.out).toMatch(/✔ advisors/);
    expect(ok.status, ok.out).toBe(0);
    await withSql(url, (sql) => sql`alter table public.clients disable row level security`);
    await withSql(url, (sql) => sql`grant select on public.organizations to anon`);
    // The service may read the tombstones (a grant of the layer's), not the audit registry.
    await withSql(url, (sql) => sql`grant select on private.audited_tables to service_role`);
    await setPostgrest(url, "db_plan_enabled", "true");
    const bad = layer(["doctor", "--db-url", url, "--workdir", app, "--no-advisors"], app);
    expect(bad.status).toBe(1);
    expect(bad.out).toMatch(/✖ row-level security: RLS off: clients/);
    expect(bad.out).toMatch(/✖ API grants: .*SELECT on table public\.organizations to anon/);
    expect(bad.out).toMatch(/✖ API grants: .*SELECT on table private\.audited_tables to service_role/);
    expect(bad.out).not.toMatch(/private\.deleted_organizations/);
    expect(bad.out).toMatch(/✖ query plans: pgrst\.db_plan_enabled is true/);
    await withSql(url, (sql) => sql`alter table public.clients enable row level security`);
    await withSql(url, (sql) => sql`revoke select on public.organizations from anon`);
    await withSql(url, (sql) => sql`revoke select on private.audited_tables from service_role`);
    await setPostgrest(url, "db_plan_enabled", null);
  }, 180_000);

  it("doctor --workdir: a copied migration edited or deleted since it was copied fails the migration-files check; restored, it passes", () => {
    const manifest = manifestOf(app);
    const [first, second] = manifest.migrations.map((m) => path.join(app, m.file));
    const original = readFileSync(first!, "utf8");
    const kept = readFileSync(second!, "utf8");
    try {
      writeFileSync(first!, `${original}\n-- edited by hand\n`);
      rmSync(second!);
      const bad = layer(["doctor", "--db-url", url, "--workdir", app, "--no-advisors"], app);
      expect(bad.status, bad.out).toBe(1);
      expect(bad.out).toMatch(
        /✖ migration files: listed in supabase\/supabase-org-layer\.json but missing: .*; edited since copied/,
      );
      expect(bad.out).toContain(path.basename(first!));
      expect(bad.out).toContain(path.basename(second!));
    } finally {
      writeFileSync(first!, original);
      writeFileSync(second!, kept);
    }
    const ok = layer(["doctor", "--db-url", url, "--workdir", app, "--no-advisors"], app);
    expect(ok.out).toMatch(/✔ migration files: \d+ copied migration\(s\), each as copied/);
  }, 120_000);

  it("doctor --workdir: a copy that matches the manifest but not the installed package's file (the package changed a shipped migration) fails the migration-files check", () => {
    const manifestFile = path.join(app, "supabase", "supabase-org-layer.json");
    const manifestText = readFileSync(manifestFile, "utf8");
    const manifest = manifestOf(app);
    const third = manifest.migrations[2]!;
    const copy = path.join(app, third.file);
    const original = readFileSync(copy, "utf8");
    try {
      // What an earlier build of the package shipped under the same name, copied and recorded as such.
      writeFileSync(copy, `${original}\n-- as an earlier build shipped it\n`);
      third.sha256 = fileSha256(copy);
      writeFileSync(manifestFile, JSON.stringify(manifest, null, 2));
      const bad = layer(["doctor", "--db-url", url, "--workdir", app, "--no-advisors"], app);
      expect(bad.status, bad.out).toBe(1);
      expect(bad.out).toMatch(/✖ migration files: differ from the installed package's file of the same name/);
      expect(bad.out).toContain(`${third.file} (package: ${third.source})`);
      expect(bad.out).not.toMatch(/edited since copied/);
    } finally {
      writeFileSync(copy, original);
      writeFileSync(manifestFile, manifestText);
    }
  }, 120_000);

  it("doctor: a pre-request function named but missing from the database fails the estimated-counts check; a --db-url that is no URL is refused, naming the form", async () => {
    const bare = await freshDatabase();
    await setPostgrest(bare, "db_pre_request", "api_guard.check_request");
    const missing = layer(["doctor", "--db-url", bare, "--no-advisors"], app);
    expect(missing.status, missing.out).toBe(1);
    expect(missing.out).toMatch(
      /✖ estimated counts: PostgREST's pre-request function is api_guard\.check_request, which this database lacks/,
    );
    const notUrl = layer(["doctor", "--db-url", "notaurl"], app);
    expect(notUrl.status).toBe(2);
    expect(notUrl.out).toMatch(/--db-url must be a postgresql:\/\/ URL/);
  }, 120_000);

  it("entity scaffolds a table of the project's own: db push applies it, its threat cases pass, its helpers type-check and run through the package", async () => {
    const before = snapshot(path.join(app, "supabase"));
    const columns = "title text not null, due date";
    const r = layer(["entity", "app_tasks", "--assignable", "--columns", columns, "--out", "src/db"], app);
    expect(r.status, r.out).toBe(0);
    const after = snapshot(path.join(app, "supabase"));
    for (const [file, hash] of Object.entries(before)) expect(after[file], file).toBe(hash);
    const added = Object.keys(after).filter((f) => !(f in before));
    expect(added.map((f) => f.replace(/\d+_/, "N_")).sort()).toEqual([
      "migrations/N_app_tasks.sql",
      "tests/database/N_app_tasks.test.sql",
    ]);
    const migration = added.find((f) => f.startsWith("migrations/"))!;
    expect(path.basename(migration) > path.basename(manifestOf(app).migrations.at(-1)!.file)).toBe(true);
    // The TypeScript reaches the layer through the package's exports only.
    for (const file of ["app_tasks.table.ts", "app_tasks.ts"]) {
      const text = readFileSync(path.join(app, "src", "db", file), "utf8");
      const specifiers = [...text.matchAll(/from "([^"]+)"/g)].map((m) => m[1]!);
      expect(
        specifiers.filter(
          (s) =>
            !/^(supabase-org-layer(\/[a-z./-]+)?|drizzle-orm(\/pg-core)?|drizzle-zod|zod|\.\/app_tasks\.table\.js)$/.test(
              s,
            ),
        ),
        file,
      ).toEqual([]);
    }
    push(url, app);
    // Its own threat cases, and every case of the layer's suite beside them (they make no
    // assumption that the permission catalog holds the layer's permissions only).
    const suite = suiteFiles(app);
    expect(suite).toContain(
      path.join(
        app,
        "supabase",
        added.find((f) => f.startsWith("tests/"))!,
      ),
    );
    prove(url, suite);

    // A server module of the project uses the helpers as a signed-in user.
    writeFileSync(
      path.join(app, "use-tasks.ts"),
      'import { createOrgDb } from "supabase-org-layer";\n' +
        'import { createAppTask, listAppTasks } from "./src/db/app_tasks.js";\n' +
        "const db = createOrgDb(process.env.APP_DB_URL!);\n" +
        "const org = process.env.APP_ORG!;\n" +
        'const task = await db.asUser(process.env.APP_OWNER!, (tx) => createAppTask(tx, { organizationId: org, title: "First task", due: "2027-01-31" }));\n' +
        "const mine = await db.asUser(process.env.APP_OWNER!, (tx) => listAppTasks(tx, { organizationId: org }));\n" +
        "const theirs = await db.asUser(process.env.APP_OUTSIDER!, (tx) => listAppTasks(tx, { organizationId: org }));\n" +
        "console.log(JSON.stringify({ title: task.title, due: task.due, mine: mine.items.length, theirs: theirs.items.length }));\n" +
        "await db.close();\n",
    );
    for (const resolution of ["Bundler", "NodeNext"]) {
      writeFileSync(
        path.join(app, "tsconfig.entity.json"),
        JSON.stringify({
          compilerOptions: {
            target: "ES2022",
            module: resolution === "Bundler" ? "ESNext" : "NodeNext",
            moduleResolution: resolution,
            strict: true,
            noEmit: true,
            skipLibCheck: true,
            types: ["node"],
          },
          files: ["src/db/app_tasks.table.ts", "src/db/app_tasks.ts", "use-tasks.ts"],
        }),
      );
      const tsc = sh(
        TSC,
        ["-p", "tsconfig.entity.json", "--typeRoots", path.join(ROOT, "node_modules", "@types")],
        app,
      );
      expect(tsc.out, resolution).toBe("");
    }
    const ids = { owner: "e0000000-0000-4000-a000-0000000000a1", outsider: "e0000000-0000-4000-a000-0000000000a2" };
    const org = "e1000000-0000-4000-8000-0000000000a1";
    await withSql(url, async (sql) => {
      await sql`insert into auth.users (id, email, email_confirmed_at) values (${ids.owner}, 'tasks-owner@app.test', now()), (${ids.outsider}, 'tasks-outsider@app.test', now())`;
      await sql.begin(async (tx) => {
        await tx`insert into public.organizations (id, name, slug) values (${org}, 'Tasks', 'tasks-app')`;
        await tx`insert into public.organization_users (organization_id, user_id) values (${org}, ${ids.owner})`;
        await tx`insert into public.user_roles (organization_id, user_id, role_id) select ${org}, ${ids.owner}, id from public.roles where key = 'owner' and organization_id is null`;
      });
    });
    const run = sh(path.join(ROOT, "node_modules", ".bin", "tsx"), ["use-tasks.ts"], app, {
      APP_DB_URL: url,
      APP_ORG: org,
      APP_OWNER: ids.owner,
      APP_OUTSIDER: ids.outsider,
    });
    expect(run.status, run.out).toBe(0);
    expect(JSON.parse(run.out.trim().split("\n").at(-1)!)).toEqual({
      title: "First task",
      due: "2027-01-31",
      mine: 1,
      theirs: 0,
    });
  }, 300_000);
});

describe("upgrade from release 0.1.0", () => {
  it("the changelog names every migration of the package under a release", () => {
    const changelog = readFileSync(path.join(ROOT, "CHANGELOG.md"), "utf8");
    // A table a project added to its copy of the layer (entity:new) is the project's to release.
    const own = (m: string) =>
      /made by `npm run entity:new -- /.test(readFileSync(path.join(ROOT, "supabase", "migrations", m), "utf8"));
    const unlisted = layerMigrations().filter((m) => !changelog.includes(`\`${m}\``) && !own(m));
    expect(unlisted).toEqual([]);
  });

  it("the 0.1.0 migrations are still in the package, unchanged", () => {
    for (const m of V010.migrations)
      expect(fileSha256(path.join(ROOT, "supabase", "migrations", m.source)), m.source).toBe(m.sha256);
  });

  it("adds only the new migrations, after the project's latest, to a database holding data", async () => {
    const old = path.join(tmp, "old");
    supabaseInit(old);
    expect(layer(["init"], old).status).toBe(0);
    // What 0.1.0's init left: its migrations only, and a manifest of them.
    const manifest = manifestOf(old);
    const keep = new Set(V010.migrations.map((m) => m.source));
    for (const m of manifest.migrations.filter((e) => !keep.has(e.source))) rmSync(path.join(old, m.file));
    manifest.migrations = manifest.migrations.filter((e) => keep.has(e.source));
    manifest.version = "0.1.0";
    writeFileSync(path.join(old, "supabase", "supabase-org-layer.json"), JSON.stringify(manifest, null, 2));
    const url = await freshDatabase();
    push(url, old);
    await withSql(url, async (sql) => {
      await sql`insert into auth.users (id, email, email_confirmed_at) values ('e0000000-0000-4000-a000-000000000001', 'owner@app.test', now())`;
      await sql.begin(async (tx) => {
        await tx`insert into public.organizations (id, name, slug) values ('e1000000-0000-4000-8000-000000000001', 'Existing', 'existing')`;
        await tx`insert into public.organization_users (organization_id, user_id) values ('e1000000-0000-4000-8000-000000000001', 'e0000000-0000-4000-a000-000000000001')`;
        await tx`insert into public.user_roles (organization_id, user_id, role_id)
                 select 'e1000000-0000-4000-8000-000000000001', 'e0000000-0000-4000-a000-000000000001', id from public.roles where key = 'owner'`;
        await tx`insert into public.clients (organization_id, name) values ('e1000000-0000-4000-8000-000000000001', 'Kept Client')`;
      });
    });
    const before = snapshot(path.join(old, "supabase", "migrations"));
    const r = layer(["upgrade"], old);
    expect(r.status, r.out).toBe(0);
    const after = snapshot(path.join(old, "supabase", "migrations"));
    for (const [file, hash] of Object.entries(before)) expect(after[file], file).toBe(hash);
    const added = Object.keys(after)
      .filter((f) => !(f in before))
      .sort();
    const fresh = layerMigrations().filter((m) => !keep.has(m));
    expect(fresh.length).toBeGreaterThan(0);
    expect(added.map((f) => f.replace(/^\d+_org_layer_/, ""))).toEqual(fresh.map((f) => f.replace(/^\d+_/, "")));
    expect(added.every((f) => f > Object.keys(before).sort().at(-1)!)).toBe(true);
    expect(manifestOf(old).version).not.toBe("0.1.0");
    push(url, old);
    const [row] = await withSql(
      url,
      (sql) => sql<{ n: number }[]>`select count(*)::int as n from public.clients where name = 'Kept Client'`,
    );
    expect(row?.n).toBe(1);
    await namePreRequest(url);
    const doctor = layer(["doctor", "--db-url", url, "--workdir", old, "--no-advisors"], old);
    expect(doctor.status, doctor.out).toBe(0);
    const again = layer(["upgrade"], old);
    expect(again.status, again.out).toBe(0);
    expect(again.out).toContain("no new migration");
  }, 300_000);
});

describe("refusals write nothing", () => {
  function refused(dir: string, args: string[], reason: RegExp): void {
    const before = existsSync(dir) ? snapshot(dir) : null;
    const r = layer(args, existsSync(dir) ? dir : tmp);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/Refused, nothing written/);
    expect(r.out).toMatch(reason);
    if (before) expect(snapshot(dir)).toEqual(before);
  }

  it("init when the manifest exists", () => {
    refused(app, ["init"], /supabase-org-layer\.json already exists/);
  });

  it("init when supabase/ is missing", () => {
    const dir = path.join(tmp, "no-supabase");
    mkdirSync(dir, { recursive: true });
    refused(dir, ["init", "--workdir", dir], /supabase init/);
  });

  it("init when the project's migrations define a layer table", () => {
    const dir = project("own-organizations", {
      "20240101000000_orgs.sql": "create table organizations (id uuid primary key);\n",
    });
    refused(dir, ["init"], /20240101000000_orgs\.sql defines table public\.organizations/);
  });

  it("init when the project's migrations define a layer function", () => {
    const dir = project("own-function", {
      "20240101000000_fn.sql":
        "create or replace function public.create_organization(name text, slug text) returns uuid language sql as $$ select null::uuid $$;\n",
    });
    refused(dir, ["init"], /defines function public\.create_organization/);
  });

  it("init when the project has Supabase's guide trigger on auth.users (on_auth_user_created)", () => {
    const dir = project("guide-trigger", {
      "20240101000000_profiles.sql":
        "create function public.handle_new_user() returns trigger language plpgsql security definer set search_path = '' as $$ begin return new; end $$;\n" +
        "create trigger on_auth_user_created\n  after insert on auth.users\n  for each row execute procedure public.handle_new_user();\n",
    });
    refused(dir, ["init"], /defines trigger auth\.users\.on_auth_user_created/);
  });

  it("init once the project's own migrations dropped or renamed what clashed (as its refusal advises)", () => {
    const guide =
      "create function public.handle_new_user() returns trigger language plpgsql security definer set search_path = '' as $$ begin return new; end $$;\n" +
      "create trigger on_auth_user_created\n  after insert on auth.users\n  for each row execute procedure public.handle_new_user();\n";
    const dropped = project("guide-trigger-dropped", {
      "20240101000000_profiles.sql": guide,
      "20240102000000_drop.sql": "drop trigger if exists on_auth_user_created on auth.users;\n",
    });
    const r1 = layer(["init"], dropped);
    expect(r1.status, r1.out).toBe(0);
    const renamed = project("own-tables-renamed", {
      "20240101000000_profiles.sql": guide + "create table public.organizations (id uuid primary key);\n",
      "20240102000000_rename.sql":
        "alter trigger on_auth_user_created on auth.users rename to on_auth_user_created_profile;\n" +
        "alter table public.organizations rename to teams;\n",
    });
    const r2 = layer(["init"], renamed);
    expect(r2.status, r2.out).toBe(0);
    // Dropped, then created again: still a clash, named with the file that created it last.
    const again = project("own-table-again", {
      "20240101000000_orgs.sql": "create table organizations (id uuid primary key);\ndrop table organizations;\n",
      "20240102000000_orgs_again.sql": "create table if not exists public.organizations (id uuid primary key);\n",
    });
    refused(again, ["init"], /20240102000000_orgs_again\.sql defines table public\.organizations/);
  });

  it("init when the project's migrations leave pg_trgm or btree_gin outside schema extensions", () => {
    const dir = project("trgm-public", {
      "20240101000000_search.sql":
        "create extension if not exists pg_trgm;\ncreate table public.notes (body text);\n" +
        "create index on public.notes using gin (body gin_trgm_ops);\n",
      "20240102000000_gin.sql": "create extension btree_gin schema extensions;\n",
    });
    refused(dir, ["init"], /20240101000000_search\.sql creates pg_trgm in schema public[\s\S]*with schema extensions/);
    // Created in extensions, moved there, or dropped later: nothing in the way.
    const accepted: Record<string, Record<string, string>> = {
      "trgm-extensions": {
        "20240101000000_a.sql": 'create extension if not exists "pg_trgm" with schema "extensions";\n',
      },
      // Created in extensions, then `if not exists` without a schema: it stays where it is.
      "trgm-extensions-again": {
        "20240101000000_a.sql": "create extension pg_trgm with schema extensions version '1.6';\n",
        "20240102000000_b.sql": "create extension if not exists pg_trgm;\n",
      },
      "trgm-moved": {
        "20240101000000_a.sql": "create extension pg_trgm;\n",
        "20240102000000_b.sql": "alter extension pg_trgm set schema extensions;\n",
      },
      "trgm-dropped": {
        "20240101000000_a.sql": "create extension pg_trgm;\n",
        "20240102000000_b.sql": "drop extension if exists pg_trgm cascade;\n",
      },
    };
    for (const [name, migrations] of Object.entries(accepted)) {
      const ok = layer(["init"], project(name, migrations));
      expect(ok.status, `${name}: ${ok.out}`).toBe(0);
    }
  });

  it("init when a project's migration does not parse, naming its file and line; words in strings, comments and bodies count for nothing", () => {
    const broken = project("does-not-parse", {
      "20240101000000_a.sql": "create table public.notes (body text);\n",
      "20240102000000_b.sql": "alter table public.notes\n  add colum title text;\n",
    });
    refused(broken, ["init"], /20240102000000_b\.sql \(line 2\): syntax error at or near "text"/);
    const prose = project("create-in-prose", {
      "20240101000000_a.sql":
        "comment on schema public is 'create table public.clients; create extension pg_trgm';\n" +
        "create function public.setup() returns void language plpgsql as $$ begin\n" +
        "  execute 'create table public.organizations (id uuid)';\nend $$;\n",
    });
    const ok = layer(["init"], prose);
    expect(ok.status, ok.out).toBe(0);
  });

  it("an option given twice (entity --columns ... --columns ...), instead of keeping only the last", () => {
    const r = layer(["entity", "widgets", "--columns", "a text", "--columns", "b text"], app);
    expect(r.status).toBe(2);
    expect(r.out).toMatch(/--columns is given twice/);
  });

  it("upgrade when a copied migration was edited, unless told to keep the edit", () => {
    const dir = project("edited");
    expect(layer(["init"], dir).status).toBe(0);
    const manifest = manifestOf(dir);
    const first = path.join(dir, manifest.migrations[0]!.file);
    writeFileSync(first, `${readFileSync(first, "utf8")}\n-- a local change\n`);
    manifest.migrations = manifest.migrations.slice(0, 3);
    writeFileSync(path.join(dir, "supabase", "supabase-org-layer.json"), JSON.stringify(manifest, null, 2));
    refused(dir, ["upgrade"], /edited since they were copied/);
    const kept = layer(["upgrade", "--keep-edits"], dir);
    expect(kept.status, kept.out).toBe(0);
    expect(readFileSync(first, "utf8")).toContain("-- a local change");
    expect(manifestOf(dir).migrations.length).toBe(layerMigrations().length);
    expect(manifestOf(dir).migrations[0]!.edited).toBe(true);
  });

  it("upgrade when the package changed a migration the project already copied", () => {
    const dir = project("stale-copy");
    expect(layer(["init"], dir).status).toBe(0);
    const manifest = manifestOf(dir);
    const first = manifest.migrations[0]!;
    const copy = path.join(dir, first.file);
    // The copy and the manifest agree (nothing edited by hand), the package's file of that name does not.
    writeFileSync(copy, `${readFileSync(copy, "utf8")}\n-- as an earlier build shipped it\n`);
    first.sha256 = fileSha256(copy);
    manifest.migrations = manifest.migrations.slice(0, 3);
    writeFileSync(path.join(dir, "supabase", "supabase-org-layer.json"), JSON.stringify(manifest, null, 2));
    refused(
      dir,
      ["upgrade"],
      new RegExp(
        `differ from what was copied:\\s+${first.source} \\(copied as ${first.file.replace(/[./]/g, "\\$&")}\\)`,
      ),
    );
  });

  it("upgrade without a manifest", () => {
    refused(project("no-manifest"), ["upgrade"], /run `supabase-org-layer init`/);
  });
});

describe("migration versions of the copied layer", () => {
  const now = new Date("2026-12-03T10:00:00.400Z");
  it("end now, so that the project's next migration sorts after them", () => {
    expect(nextVersions(["20240101000000_a.sql"], 3, now)).toEqual([
      "20261203095958",
      "20261203095959",
      "20261203100000",
    ]);
  });
  it("come after the project's latest migration, even one stamped later than now", () => {
    expect(nextVersions(["20261203095959_a.sql"], 2, now)).toEqual(["20261203100000", "20261203100001"]);
    expect(nextVersions(["20261203110000_a.sql"], 2, now)).toEqual(["20261203110001", "20261203110002"]);
  });
  it("count on from a latest version that is not a timestamp", () => {
    expect(nextVersions(["99999999999999_a.sql"], 2, now)).toEqual(["100000000000000", "100000000000001"]);
  });
});

describe("init --adopt and entity", () => {
  it("init --adopt recognizes the layer's migrations by content and copies none", () => {
    const dir = project("clone");
    cpSync(path.join(ROOT, "supabase", "migrations"), path.join(dir, "supabase", "migrations"), { recursive: true });
    const before = snapshot(path.join(dir, "supabase", "migrations"));
    const r = layer(["init", "--adopt"], dir);
    expect(r.status, r.out).toBe(0);
    expect(snapshot(path.join(dir, "supabase", "migrations"))).toEqual(before);
    expect(manifestOf(dir).migrations.map((m) => path.basename(m.file))).toEqual(layerMigrations());
    expect(layer(["upgrade"], dir).out).toContain("no new migration");
  });

  it("init --adopt of a copy missing the newest migrations leaves them to upgrade, and entity waits for it", () => {
    const dir = project("old-clone");
    const migrations = path.join(dir, "supabase", "migrations");
    cpSync(path.join(ROOT, "supabase", "migrations"), migrations, { recursive: true });
    const newest = layerMigrations().slice(-3);
    for (const file of newest) rmSync(path.join(migrations, file));
    const adopted = layer(["init", "--adopt"], dir);
    expect(adopted.status, adopted.out).toBe(0);
    expect(adopted.out).toContain(`left to \`supabase-org-layer upgrade\`: ${newest.join(", ")}`);
    expect(adopted.out).toMatch(
      /Next: run `supabase-org-layer upgrade` \(it adds the 3 migration\(s\) left above\), then apply/,
    );
    const before = snapshot(dir);
    const early = layer(["entity", "tasks"], dir);
    expect(early.status).toBe(1);
    expect(early.out).toMatch(/lacks 3 of this version's migrations .*run `supabase-org-layer upgrade` first/);
    expect(snapshot(dir)).toEqual(before);
    expect(layer(["upgrade"], dir).status).toBe(0);
    expect(manifestOf(dir).migrations.length).toBe(layerMigrations().length);
  });

  it("init --adopt refuses a project without any of the layer's migrations", () => {
    const dir = project("not-a-clone");
    const r = layer(["init", "--adopt"], dir);
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/none of the layer's migrations/);
    expect(existsSync(path.join(dir, "supabase", "supabase-org-layer.json"))).toBe(false);
  });

  it("entity refuses a project without the layer, and a table the project already has, writing nothing", () => {
    const bare = project("no-layer");
    const before = snapshot(bare);
    const none = layer(["entity", "tasks"], bare);
    expect(none.status).toBe(1);
    expect(none.out).toMatch(/Refused, nothing written: .*install the layer first/);
    expect(snapshot(bare)).toEqual(before);
    const own = snapshot(path.join(app, "supabase"));
    const taken = layer(["entity", "app_projects"], app);
    expect(taken.status).toBe(1);
    expect(taken.out).toMatch(/a table public\.app_projects exists already/);
    const bad = layer(["entity", "Task"], app);
    expect(bad.status).toBe(1);
    expect(bad.out).toMatch(/is not a table name/);
    const outside = layer(["entity", "notes", "--out", "../elsewhere"], app);
    expect(outside.status).toBe(1);
    expect(outside.out).toMatch(/--out \.\.\/elsewhere: give a folder inside the project/);
    expect(snapshot(path.join(app, "supabase"))).toEqual(own);
    expect(readdirSync(path.join(app, "src", "db")).sort()).toEqual(["app_tasks.table.ts", "app_tasks.ts"]);
  });
});
