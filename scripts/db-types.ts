/**
 * npm run db:types — regenerate the Drizzle schema (drizzle-kit pull, repaired
 * for its known Supabase faults) and the supabase-js Database types (supabase
 * gen types typescript) from a throwaway database built from the migrations.
 *
 * `npm run db:types -- --check` writes nothing and fails when a committed file
 * differs from what the migrations produce.
 */
import { drift, generate, writeGenerated } from "../tooling/build/codegen.ts";
import { withDatabase } from "../tooling/server/config.ts";
import { build } from "../tooling/build/database.ts";
import { createDatabase } from "../tooling/server/sql.ts";
import { resolveEngine } from "../tooling/server/engine.ts";
import { fail, main, step } from "../tooling/output.ts";
import { startThrowawayServer } from "../tooling/testing/throwaway.ts";

main(async () => {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => a !== "--check" && !/^--engine=(embedded|system)$/.test(a));
  if (unknown.length)
    fail(
      `unknown argument(s): ${unknown.join(" ")}\nusage: npm run db:types [-- --check] [-- --engine=embedded|system]`,
    );
  const check = args.includes("--check");
  step("starting a throwaway PostgreSQL and building the schema from the migrations");
  const server = await startThrowawayServer(await resolveEngine());
  try {
    await createDatabase(server.url, "codegen");
    const url = withDatabase(server.url, "codegen");
    await build(url, { seed: false });
    step("drizzle-kit pull, supabase gen types typescript");
    const generated = await generate(url);
    const changed = drift(generated);
    if (check) {
      if (changed.length)
        fail(
          `Generated files are out of date with the migrations: ${changed.join(", ")}\nRun \`npm run db:types\` and commit the result.`,
        );
      step("generated files match the migrations");
      return;
    }
    writeGenerated(generated);
    step(changed.length ? `updated ${changed.join(", ")}` : "no change: the generated files match the migrations");
  } finally {
    server.stop();
  }
});
