/**
 * npm run entity:new -- <name> [--assignable] [--columns "title text not null, due date"]
 *
 * Scaffold an organization-scoped table public.<name> (plural snake_case) with
 * its permissions, policies, grants, audit, pgTAP threat cases, Drizzle/zod
 * module and helpers, then regenerate the Drizzle schema and supabase-js
 * types. Writes new files only; see docs/extending.md.
 */
import { ROOT } from "../tooling/server/config.ts";
import { CommandError, main, step } from "../tooling/output.ts";
import { EntityInputError, runEntityNew } from "./entity/generator.ts";
import { SqlSyntaxError } from "../src/cli/sql.ts";

export interface EntityArgs {
  name: string;
  assignable: boolean;
  columns?: string;
}

const USAGE = 'usage: npm run entity:new -- <name> [--assignable] [--columns "title text not null, due date"]';

export function parseArgs(argv: string[]): EntityArgs {
  let name: string | undefined;
  let assignable = false;
  let columns: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--assignable") assignable = true;
    else if (arg === "--columns" || arg.startsWith("--columns=")) {
      if (columns !== undefined)
        throw new EntityInputError(`--columns is given twice: list every column in one --columns\n${USAGE}`);
      if (arg === "--columns" && argv[i + 1] === undefined)
        throw new EntityInputError(`--columns needs a value\n${USAGE}`);
      columns = arg === "--columns" ? argv[++i] : arg.slice("--columns=".length);
    } else if (arg.startsWith("-")) throw new EntityInputError(`unknown option ${arg}\n${USAGE}`);
    else if (name === undefined) name = arg;
    else throw new EntityInputError(`one table at a time: got "${name}" and "${arg}"\n${USAGE}`);
  }
  if (name === undefined) throw new EntityInputError(`give the table's name\n${USAGE}`);
  return { name, assignable, ...(columns !== undefined ? { columns } : {}) };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split("/").pop()!)) {
  main(async () => {
    let args: EntityArgs;
    try {
      args = parseArgs(process.argv.slice(2));
      const plan = await runEntityNew({ workdir: ROOT, ...args, log: step });
      console.log(
        `\npublic.${plan.names.name} is ready. Apply it to your local database with \`npm run db:start\` (pending migrations) or \`npm run db:reset\`,\n` +
          `then run its tests: npm test. Adjust the new files as you like; docs/extending.md says what each part guarantees.`,
      );
    } catch (error) {
      if (error instanceof EntityInputError || error instanceof SqlSyntaxError)
        throw new CommandError(`entity:new refused: ${error.message}\nNothing was written.`);
      throw error;
    }
  });
}
