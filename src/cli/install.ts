/**
 * `init`, `init --adopt` and `upgrade`: copy the layer's migrations and
 * threat suite into a project made by `supabase init`, and keep a manifest of
 * what was copied (package version, file mapping, checksums).
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  fileSha256,
  layerMigrations,
  layerExtensionsOutside,
  layerObjects,
  layerTests,
  LAYER_MIGRATIONS_DIR,
  LAYER_TESTS_DIR,
  MANIFEST_FILE,
  migrationNames,
  nameOf,
  objectsLeftBy,
  projectMigrations,
  packageInfo,
  versionOf,
} from "./layer.ts";

export interface ManifestEntry {
  /** File name in the package (`supabase/migrations/<source>` or `supabase/tests/database/<source>`). */
  source: string;
  /** Path in the project, relative to its workdir. */
  file: string;
  /** SHA-256 of the file as copied (or as found, for `init --adopt`). */
  sha256: string;
  /** Set when `upgrade --keep-edits` accepted a copied file that was edited afterwards. */
  edited?: boolean;
}

export interface Manifest {
  package: string;
  version: string;
  migrations: ManifestEntry[];
  tests: ManifestEntry[];
}

/** A refusal: the command writes nothing and exits non-zero with this reason. */
export class Refusal extends Error {}

const MIGRATIONS = path.join("supabase", "migrations");
const TESTS = path.join("supabase", "tests", "database");

export function readManifest(workdir: string): Manifest | null {
  const file = path.join(workdir, MANIFEST_FILE);
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, "utf8")) as Manifest;
}

/**
 * The copied migrations a manifest lists that are no longer as copied: gone
 * from the project, or edited since (unless an upgrade kept the edit). In the
 * manifest's order; `upgrade` refuses on them, `doctor` reports them.
 */
export function copiedMigrationDrift(
  workdir: string,
  manifest: Manifest,
): { missing: ManifestEntry[]; edited: ManifestEntry[]; changedInPackage: ManifestEntry[] } {
  const missing = manifest.migrations.filter((m) => !existsSync(path.join(workdir, m.file)));
  const edited = manifest.migrations.filter(
    (m) => !m.edited && !missing.includes(m) && fileSha256(path.join(workdir, m.file)) !== m.sha256,
  );
  // The package's own file under a listed name no longer matches what was copied: the package changed a
  // migration it shipped before, so the project will never receive that change by upgrade.
  const changedInPackage = manifest.migrations.filter((m) => {
    const source = path.join(LAYER_MIGRATIONS_DIR, m.source);
    return existsSync(source) && fileSha256(source) !== m.sha256;
  });
  return { missing, edited, changedInPackage };
}

/** The package's migrations a project's manifest does not list yet (what `upgrade` would add). */
export function pendingMigrations(manifest: Manifest): string[] {
  const listed = new Set(manifest.migrations.map((m) => m.source));
  return layerMigrations().filter((m) => !listed.has(m));
}

function writeManifest(workdir: string, manifest: Manifest): void {
  writeFileSync(path.join(workdir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

function requireSupabaseDir(workdir: string): void {
  if (!existsSync(path.join(workdir, "supabase"))) {
    throw new Refusal(
      `${path.join(workdir, "supabase")} does not exist: run \`supabase init\` first (or pass --workdir).`,
    );
  }
}

/** A migration version as a UTC date when it is a 14-digit timestamp. */
function stampDate(version: string): Date | null {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(version);
  if (!m) return null;
  const d = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
  // A time of the calendar only (Date.UTC rolls month 99 over into later years).
  return Number.isNaN(d.getTime()) || stamp(d) !== version ? null : d;
}

function stamp(d: Date): string {
  return d.toISOString().replace(/\D/g, "").slice(0, 14);
}

/**
 * `count` new migration versions, one second apart, after the project's
 * latest migration, the last of them now when that leaves room: a migration
 * the project adds next (`supabase migration new`) then sorts after them.
 */
export function nextVersions(existing: string[], count: number, now = new Date()): string[] {
  const latest = existing.map(versionOf).sort().at(-1);
  let start = new Date(Math.floor(now.getTime() / 1000) * 1000 - Math.max(count - 1, 0) * 1000);
  if (latest) {
    const date = stampDate(latest);
    if (date && date.getTime() >= start.getTime()) start = new Date(date.getTime() + 1000);
    if (!date && latest >= stamp(start)) {
      // Not a timestamp: count on from it.
      return Array.from({ length: count }, (_, i) => (BigInt(latest) + BigInt(i + 1)).toString());
    }
  }
  return Array.from({ length: count }, (_, i) => stamp(new Date(start.getTime() + i * 1000)));
}

/**
 * The project's migrations that define one of the layer's objects, with the
 * objects: those their migrations, in order, leave defined (one dropped or
 * renamed by a later migration is no conflict).
 */
function conflicts(migrations: { file: string; sql: string }[]): string[] {
  const layer = layerObjects();
  const left = objectsLeftBy(migrations);
  const byFile = new Map<string, string[]>();
  for (const [object, file] of left) if (layer.has(object)) byFile.set(file, [...(byFile.get(file) ?? []), object]);
  return [...byFile].sort().map(([file, objects]) => `${file} defines ${objects.sort().join(", ")}`);
}

/**
 * What the foundation migration changes for the project's own objects, said
 * by `init`: tables and functions the project creates later get no API grants
 * by default.
 */
export const DEFAULT_PRIVILEGES_NOTE =
  "note: the layer's first migration revokes the privileges postgres's new tables, sequences and functions in public " +
  "would give anon and authenticated by default (and execute on new functions from public): grant what your own " +
  "tables and functions need in your migrations, e.g. `grant select on public.todos to authenticated;` " +
  '(docs/install.md, "Your own tables and functions").';

export interface Plan {
  /** Files written, relative to the workdir. */
  written: string[];
  notes: string[];
}

function copyTests(workdir: string, manifest: Manifest, plan: Plan, previous: Map<string, ManifestEntry>): void {
  mkdirSync(path.join(workdir, TESTS), { recursive: true });
  for (const source of layerTests()) {
    const file = path.join(TESTS, source);
    const target = path.join(workdir, file);
    const before = previous.get(source);
    if (existsSync(target) && (!before || fileSha256(target) !== before.sha256)) {
      // A file the project owns or edited: leave it, keep its record.
      plan.notes.push(`kept ${file} (${before ? "edited since it was copied" : "not copied by supabase-org-layer"})`);
      if (before) manifest.tests.push({ ...before, edited: true });
      continue;
    }
    const fresh = path.join(LAYER_TESTS_DIR, source);
    if (!existsSync(target) || fileSha256(target) !== fileSha256(fresh)) {
      copyFileSync(fresh, target);
      plan.written.push(file);
    }
    manifest.tests.push({ source, file, sha256: fileSha256(target) });
  }
}

function copyMigrations(workdir: string, sources: string[], manifest: Manifest, plan: Plan): void {
  const dir = path.join(workdir, MIGRATIONS);
  mkdirSync(dir, { recursive: true });
  const versions = nextVersions(migrationNames(dir), sources.length);
  sources.forEach((source, i) => {
    const file = path.join(MIGRATIONS, `${versions[i]}_org_layer_${nameOf(source)}.sql`);
    copyFileSync(path.join(LAYER_MIGRATIONS_DIR, source), path.join(workdir, file));
    manifest.migrations.push({ source, file, sha256: fileSha256(path.join(workdir, file)) });
    plan.written.push(file);
  });
}

function testClashes(workdir: string): string[] {
  return layerTests()
    .map((t) => path.join(TESTS, t))
    .filter((t) => existsSync(path.join(workdir, t)));
}

/** `init`: copy everything into a project that has none of it. */
export function init(workdir: string): Plan {
  requireSupabaseDir(workdir);
  if (existsSync(path.join(workdir, MANIFEST_FILE))) {
    throw new Refusal(
      `${MANIFEST_FILE} already exists: the layer is installed here; use \`supabase-org-layer upgrade\`.`,
    );
  }
  const migrations = projectMigrations(workdir);
  const clash = conflicts(migrations);
  if (clash.length) {
    throw new Refusal(
      `the project's own migrations already define objects of the layer:\n${clash.map((c) => `  ${c}`).join("\n")}\n` +
        "Rename or drop them in a migration of your own first; if the project started from a copy of this layer, use `init --adopt`.",
    );
  }
  const tests = testClashes(workdir);
  if (tests.length) throw new Refusal(`threat-suite files already exist:\n${tests.map((t) => `  ${t}`).join("\n")}`);
  const outside = layerExtensionsOutside(migrations);
  if (outside.length) {
    throw new Refusal(
      `the project's own migrations leave extensions the layer installs in schema extensions elsewhere:\n` +
        outside.map((e) => `  ${e.file} creates ${e.extension} in schema ${e.schema}`).join("\n") +
        "\nOn Supabase an extension's functions in public are exposed to anon, and the layer's migrations refuse such a database." +
        "\nCreate it `with schema extensions` instead: where that migration is already applied, in a migration of your own," +
        " `drop extension <name> cascade; create extension <name> with schema extensions;` and build again the indexes that used it" +
        " (`alter extension ... set schema` needs the extension's owner, supabase_admin on hosted projects).",
    );
  }
  const { name, version } = packageInfo();
  const manifest: Manifest = { package: name, version, migrations: [], tests: [] };
  const plan: Plan = { written: [], notes: [] };
  copyMigrations(workdir, layerMigrations(), manifest, plan);
  copyTests(workdir, manifest, plan, new Map());
  writeManifest(workdir, manifest);
  plan.written.push(MANIFEST_FILE);
  plan.notes.push(DEFAULT_PRIVILEGES_NOTE);
  return plan;
}

/**
 * `init --adopt`: for a project that started from a copy of this repository.
 * Recognizes the layer's migrations by content and writes the manifest
 * without copying them; the ones it lacks are left to `upgrade`.
 */
export function adopt(workdir: string): Plan {
  requireSupabaseDir(workdir);
  if (existsSync(path.join(workdir, MANIFEST_FILE))) {
    throw new Refusal(
      `${MANIFEST_FILE} already exists: the layer is installed here; use \`supabase-org-layer upgrade\`.`,
    );
  }
  const byHash = new Map<string, string>();
  for (const f of migrationNames(path.join(workdir, MIGRATIONS))) {
    byHash.set(fileSha256(path.join(workdir, MIGRATIONS, f)), path.join(MIGRATIONS, f));
  }
  const { name, version } = packageInfo();
  const manifest: Manifest = { package: name, version, migrations: [], tests: [] };
  const plan: Plan = { written: [], notes: [] };
  const missing: string[] = [];
  for (const source of layerMigrations()) {
    const hash = fileSha256(path.join(LAYER_MIGRATIONS_DIR, source));
    const file = byHash.get(hash);
    if (file) manifest.migrations.push({ source, file, sha256: hash });
    else missing.push(source);
  }
  if (manifest.migrations.length === 0) {
    throw new Refusal(
      "none of the layer's migrations is in supabase/migrations (compared by content): use `init` instead.",
    );
  }
  if (missing.length) {
    manifest.version = "0.0.0";
    plan.notes.push(`not found, left to \`supabase-org-layer upgrade\`: ${missing.join(", ")}`);
  }
  const previous = new Map<string, ManifestEntry>();
  for (const source of layerTests()) {
    const file = path.join(workdir, TESTS, source);
    if (existsSync(file) && fileSha256(file) === fileSha256(path.join(LAYER_TESTS_DIR, source))) {
      previous.set(source, { source, file: path.join(TESTS, source), sha256: fileSha256(file) });
    }
  }
  copyTests(workdir, manifest, plan, previous);
  writeManifest(workdir, manifest);
  plan.written.push(MANIFEST_FILE);
  return plan;
}

/**
 * `upgrade`: add the package's migrations the manifest does not list, after
 * the project's latest migration; refresh the threat suite. Refuses when a
 * copied migration was edited or removed, unless `keepEdits` (an edited file
 * is then left as it is and marked `edited`). Never rewrites a migration.
 */
export function upgrade(workdir: string, options: { keepEdits?: boolean } = {}): Plan {
  requireSupabaseDir(workdir);
  const manifest = readManifest(workdir);
  if (!manifest)
    throw new Refusal(`${MANIFEST_FILE} does not exist: run \`supabase-org-layer init\` (or \`init --adopt\`) first.`);
  const plan: Plan = { written: [], notes: [] };
  const drift = copiedMigrationDrift(workdir, manifest);
  const [gone] = drift.missing;
  if (gone) throw new Refusal(`${gone.file} (from ${gone.source}) is listed in ${MANIFEST_FILE} but missing.`);
  if (drift.changedInPackage.length) {
    throw new Refusal(
      `the package's copies of migrations the project already has differ from what was copied:\n` +
        drift.changedInPackage.map((m) => `  ${m.source} (copied as ${m.file})`).join("\n") +
        "\nA released migration must never change; upgrade cannot deliver such a change. Report it to the package's maintainers.",
    );
  }
  const edited = drift.edited.map((entry) => entry.file);
  if (edited.length && !options.keepEdits) {
    throw new Refusal(
      `copied migrations were edited since they were copied:\n${edited.map((e) => `  ${e}`).join("\n")}\n` +
        "An applied migration must not change; put the change in a new migration. To keep the edit and go on, run `upgrade --keep-edits`.",
    );
  }
  for (const entry of manifest.migrations) {
    if (edited.includes(entry.file)) {
      entry.edited = true;
      plan.notes.push(`kept the edit of ${entry.file}`);
    }
  }
  const fresh = pendingMigrations(manifest);
  const { name, version } = packageInfo();
  const next: Manifest = { package: name, version, migrations: [...manifest.migrations], tests: [] };
  copyMigrations(workdir, fresh, next, plan);
  copyTests(workdir, next, plan, new Map(manifest.tests.map((t) => [t.source, t])));
  writeManifest(workdir, next);
  plan.written.push(MANIFEST_FILE);
  if (fresh.length === 0) plan.notes.push("no new migration: the project has every migration of this version");
  return plan;
}
