/** Small helpers for the command-line scripts' output. */
import { keepWorkingWhenOutputCloses } from "../src/cli/output.ts";

export class CommandError extends Error {
  override name = "CommandError";
}

/** Stop the command with a clear message (printed without a stack trace by `main`). */
export function fail(message: string): never {
  throw new CommandError(message);
}

export function step(message: string): void {
  process.stdout.write(`• ${message}\n`);
}

export function indent(text: string, prefix = "    "): string {
  return text
    .trimEnd()
    .split("\n")
    .map((line) => prefix + line)
    .join("\n");
}

/** A failure to reach or log in to the database, said plainly (no stack): what to check. */
function connectionFailure(error: unknown): string | null {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (code === "28P01")
    return `${String(message)}: DATABASE_URL must carry the password the local cluster was created with (postgres unless you chose another).`;
  if (code === "ECONNREFUSED")
    return `${String(message)}: no server listens there. Start it (npm run db:start), or make DATABASE_URL name the port it runs on (npm run db:status).`;
  return null;
}

/** Run a script's body; print CommandErrors and connection failures plainly and exit 1. */
export function main(body: () => Promise<void>): void {
  keepWorkingWhenOutputCloses(process.stdout);
  keepWorkingWhenOutputCloses(process.stderr);
  body().then(
    () => process.exit(0),
    (error: unknown) => {
      const known = error instanceof CommandError ? error.message : connectionFailure(error);
      if (known !== null) {
        process.stderr.write(`\n✖ ${known}\n`);
      } else {
        process.stderr.write(
          `\n✖ Unexpected failure:\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
        );
      }
      process.exit(1);
    },
  );
}
