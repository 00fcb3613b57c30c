#!/usr/bin/env node
/**
 * The `supabase-org-layer` command: `init`, `init --adopt`, `upgrade`,
 * `doctor` and `entity`. Run it in a project made by `supabase init`
 * (`npx supabase-org-layer init`), or point it there with `--workdir DIR`.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { doctor } from "./doctor.ts";
import { EntityInputError, formatFiles, planEntity, writeFiles } from "./entity/plan.ts";
import { adopt, init, pendingMigrations, readManifest, Refusal, upgrade, type Plan } from "./install.ts";
import { packageInfo } from "./layer.ts";
import { keepWorkingWhenOutputCloses } from "./output.ts";
import { SqlSyntaxError } from "./sql.ts";

const USAGE = `Usage: supabase-org-layer <command> [options]

Commands:
  init [--workdir DIR]               copy the layer's migrations and threat suite into the project
  init --adopt [--workdir DIR]       record a layer the project already holds (started from a copy of it)
  upgrade [--workdir DIR] [--keep-edits]
                                     add the migrations of this version the project lacks
  doctor --db-url URL [--workdir DIR] [--supabase-cli PATH] [--no-advisors]
                                     check a live database: migrations, RLS, functions, grants, advisors
  entity <name> [--assignable] [--columns "title text not null, due date"] [--out DIR] [--workdir DIR]
                                     scaffold an organization-scoped table of your own: migration,
                                     pgTAP threat cases, Drizzle/zod module and helpers (in DIR, default src)
  --version                          print the package version
`;

function report(plan: Plan): void {
  for (const file of plan.written) console.log(`  wrote ${file}`);
  for (const note of plan.notes) console.log(`  ${note}`);
}

async function run(argv: string[]): Promise<number> {
  const { values, positionals, tokens } = parseArgs({
    args: argv,
    allowPositionals: true,
    tokens: true,
    options: {
      workdir: { type: "string" },
      adopt: { type: "boolean" },
      "keep-edits": { type: "boolean" },
      "db-url": { type: "string" },
      "supabase-cli": { type: "string" },
      "no-advisors": { type: "boolean" },
      assignable: { type: "boolean" },
      columns: { type: "string" },
      out: { type: "string" },
      version: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  // parseArgs keeps the last of an option given twice: say so instead of dropping the first.
  const given = tokens.filter((t) => t.kind === "option").map((t) => t.name);
  const twice = given.find((option, i) => given.indexOf(option) !== i);
  if (twice) {
    console.error(`--${twice} is given twice: give it once.\n\n${USAGE}`);
    return 2;
  }
  const { name, version } = packageInfo();
  if (values.version) {
    console.log(version);
    return 0;
  }
  const [command] = positionals;
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return command || values.help ? 0 : 1;
  }
  const workdir = path.resolve(values.workdir ?? process.cwd());
  switch (command) {
    case "init": {
      const plan = values.adopt ? adopt(workdir) : init(workdir);
      console.log(`${name} ${version}: ${values.adopt ? "adopted the layer already in" : "installed into"} ${workdir}`);
      report(plan);
      const left = values.adopt ? pendingMigrations(readManifest(workdir)!).length : 0;
      console.log(
        `Next: ${left ? `run \`supabase-org-layer upgrade\` (it adds the ${left} migration(s) left above), then ` : ""}apply the migrations (supabase db push, or supabase migration up locally) and run the threat suite (supabase test db).`,
      );
      return 0;
    }
    case "upgrade": {
      const plan = upgrade(workdir, { keepEdits: values["keep-edits"] === true });
      console.log(`${name} ${version}: upgraded ${workdir}`);
      report(plan);
      return 0;
    }
    case "doctor": {
      const dbUrl = values["db-url"] ?? process.env.DATABASE_URL;
      if (!dbUrl) {
        console.error("doctor needs --db-url URL (or DATABASE_URL).");
        return 2;
      }
      if (!/^postgres(ql)?:\/\/[^\s]+$/.test(dbUrl) || !URL.canParse(dbUrl)) {
        console.error(
          `doctor: --db-url must be a postgresql:// URL, e.g. postgresql://postgres:PASSWORD@HOST:5432/postgres (got ${JSON.stringify(dbUrl)}).`,
        );
        return 2;
      }
      const checks = await doctor({
        dbUrl,
        ...(values.workdir ? { workdir } : {}),
        ...(values["supabase-cli"] ? { supabaseCli: values["supabase-cli"] } : {}),
        skipAdvisors: values["no-advisors"] === true,
      });
      for (const check of checks) console.log(`${check.ok ? "✔" : "✖"} ${check.name}: ${check.detail}`);
      const failed = checks.filter((c) => !c.ok).length;
      console.log(failed ? `${failed} check(s) failed` : `all ${checks.length} checks passed`);
      return failed ? 1 : 0;
    }
    case "entity": {
      const [, table, ...rest] = positionals;
      if (!table || rest.length) {
        console.error(`entity needs one table name (plural snake_case, e.g. projects).\n\n${USAGE}`);
        return 2;
      }
      let plan;
      try {
        plan = planEntity({
          workdir,
          name: table,
          assignable: values.assignable === true,
          ...(values.columns !== undefined ? { columns: values.columns } : {}),
          ...(values.out !== undefined ? { out: values.out } : {}),
          target: "project",
        });
        writeFiles(workdir, await formatFiles(plan.files));
      } catch (error) {
        if (error instanceof EntityInputError) throw new Refusal(error.message);
        throw error;
      }
      console.log(`${name} ${version}: public.${plan.names.name} scaffolded in ${workdir}`);
      for (const file of plan.files) console.log(`  wrote ${file.path}`);
      console.log(
        "Next: apply the migration (supabase db push, or supabase migration up locally), run its threat cases\n" +
          "(supabase test db), and use the helpers from your server code; drizzle-orm, drizzle-zod and zod must be\n" +
          "dependencies of your project. docs/install.md in the package says what each file guarantees.",
      );
      return 0;
    }
    default:
      console.error(`Unknown command "${command}".\n\n${USAGE}`);
      return 2;
  }
}

keepWorkingWhenOutputCloses(process.stdout);
keepWorkingWhenOutputCloses(process.stderr);
run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof Refusal || error instanceof SqlSyntaxError) {
      console.error(`Refused, nothing written: ${error.message}`);
    } else {
      console.error(error instanceof Error ? error.message : String(error));
    }
    process.exitCode = 1;
  },
);
