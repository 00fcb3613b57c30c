/** Small helpers for the command-line scripts' output. */

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

/** Run a script's body; print CommandErrors plainly and exit 1. */
export function main(body: () => Promise<void>): void {
  body().then(
    () => process.exit(0),
    (error: unknown) => {
      if (error instanceof CommandError) {
        process.stderr.write(`\n✖ ${error.message}\n`);
      } else {
        process.stderr.write(
          `\n✖ Unexpected failure:\n${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
        );
      }
      process.exit(1);
    },
  );
}
