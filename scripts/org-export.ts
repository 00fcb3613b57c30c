/**
 * npm run org:export -- <organization id> [--out file.ndjson] [--batch-size n]
 *
 * The server-side export of one organization, as the service, for any size:
 * NDJSON (one JSON record per line: the header, the organization, its
 * members, roles, clients, assignments, invitations without tokens, its audit
 * log, then an `end` record with the counts) to stdout or to --out. Progress
 * goes to stderr. Memory stays bounded: rows come through cursors, and the
 * output's backpressure slows the reading down. DATABASE_URL names the
 * database (default: the local one).
 */
import { createWriteStream, fchmodSync, fchownSync, lstatSync, openSync, renameSync, rmSync } from "node:fs";
import { once } from "node:events";
import path from "node:path";
import type { Writable } from "node:stream";
import { createOrgDb, DatabaseError, NotFoundError, ValidationError } from "../src/index.ts";
import { streamOrganizationExport } from "../src/lifecycle.ts";
import { target } from "../tooling/server/config.ts";
import { fail, main } from "../tooling/output.ts";

const USAGE = "usage: npm run org:export -- <organization id> [--out file.ndjson] [--batch-size n]";

interface Args {
  organizationId: string;
  out: string | null;
  batchSize: number;
}

function parseArgs(argv: string[]): Args {
  const positional: string[] = [];
  let out: string | null = null;
  let batchSize = 1000;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--out" || arg === "--batch-size") {
      const value = argv[++i];
      if (value === undefined || value.startsWith("--")) fail(`${arg} needs a value\n${USAGE}`);
      if (arg === "--out") out = value;
      else {
        batchSize = Number(value);
        if (!Number.isInteger(batchSize) || batchSize < 1)
          fail(`--batch-size must be a positive integer, got: ${value}`);
      }
    } else if (arg.startsWith("--")) {
      fail(`unknown option: ${arg}\n${USAGE}`);
    } else {
      positional.push(arg);
    }
  }
  if (positional.length !== 1) fail(`give exactly one organization id\n${USAGE}`);
  const organizationId = positional[0]!;
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(organizationId)) {
    fail(`not an organization id (a uuid): ${organizationId}\n${USAGE}`);
  }
  return { organizationId, out, batchSize };
}

/** The reader of stdout went away (`| head`): the export stops there, quietly. */
class OutputClosed extends Error {}

/**
 * Writes lines to a stream, waiting when it is full; a failure of the stream
 * (a full disk) fails the next write, and a reader that went away ends the
 * export with OutputClosed.
 */
function lineWriter(stream: Writable): (line: string) => Promise<void> {
  let failed: NodeJS.ErrnoException | undefined;
  let wake = () => {};
  stream.on("error", (error: NodeJS.ErrnoException) => {
    failed ??= error;
    wake();
  });
  const check = () => {
    if (!failed) return;
    if (failed.code === "EPIPE" || failed.code === "ERR_STREAM_DESTROYED") throw new OutputClosed();
    throw failed;
  };
  return async (line) => {
    check();
    if (!stream.write(line))
      await new Promise<void>((resolve) => {
        wake = resolve;
        stream.once("drain", resolve);
      });
    check();
  };
}

/**
 * Where --out is written, opened before the export (a path it cannot write is said at once). A new file, or
 * an existing regular one, is written beside it (`partial`) and renamed over it once complete, with the
 * existing file's mode and owner: a failed or interrupted export leaves no partial file, and an existing file
 * as it was. A symlink, FIFO or device (`/dev/stdout`, `>(gzip > f)`) is written through, as is a file in a
 * folder the command may not write (then a failed export leaves it incomplete).
 */
function openOut(out: string): { fd: number; partial: string | null } {
  const cannot = (error: unknown): never =>
    fail(`cannot write ${out}: ${error instanceof Error ? error.message : String(error)}`);
  const existing = lstatSync(out, { throwIfNoEntry: false });
  if (existing?.isDirectory()) fail(`cannot write ${out}: it is a folder`);
  if (existing && !existing.isFile()) {
    try {
      return { fd: openSync(out, "w"), partial: null };
    } catch (error) {
      return cannot(error);
    }
  }
  const partial = path.join(path.dirname(out), `.${path.basename(out)}.${process.pid}.partial`);
  let fd: number;
  try {
    // A new file as the umask makes it; a replacement private until it has the existing file's mode.
    fd = openSync(partial, "wx", existing ? 0o600 : 0o666);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (!existing || (code !== "EACCES" && code !== "EPERM" && code !== "EROFS")) return cannot(error);
    try {
      return { fd: openSync(out, "w"), partial: null };
    } catch (inPlace) {
      return cannot(inPlace);
    }
  }
  if (existing) {
    fchmodSync(fd, existing.mode & 0o7777);
    if (process.getuid?.() === 0) fchownSync(fd, existing.uid, existing.gid);
  }
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    process.once(signal, () => {
      rmSync(partial, { force: true });
      process.stderr.write(`\n✖ interrupted: nothing written to ${out}\n`);
      process.exit(code);
    });
  }
  return { fd, partial };
}

main(async () => {
  const args = parseArgs(process.argv.slice(2));
  const { fd, partial } = args.out ? openOut(args.out) : { fd: null, partial: null };
  const db = createOrgDb(target().url, { max: 1 });
  const output: Writable = fd !== null ? createWriteStream("", { fd }) : process.stdout;
  const writeLine = lineWriter(output);
  let exported = false;
  const started = Date.now();
  let records = 0;
  let peakRss = process.memoryUsage.rss();
  try {
    const counts = await streamOrganizationExport(
      db,
      { organizationId: args.organizationId, batchSize: args.batchSize },
      async (record) => {
        await writeLine(`${JSON.stringify(record)}\n`);
        if (++records % 1_000 === 0) peakRss = Math.max(peakRss, process.memoryUsage.rss());
        if (records % 50_000 === 0) {
          process.stderr.write(`… ${records.toLocaleString("en-US")} records (${record.type})\n`);
        }
      },
    );
    if (args.out) {
      output.end();
      await once(output, "finish");
      if (partial) renameSync(partial, args.out);
    }
    exported = true;
    const summary = Object.entries(counts)
      .map(([type, n]) => `${type} ${n.toLocaleString("en-US")}`)
      .join(", ");
    process.stderr.write(
      `✔ exported organization ${args.organizationId}: ${summary} (${records.toLocaleString("en-US")} lines, ${((Date.now() - started) / 1000).toFixed(1)} s, peak RSS ${Math.round(peakRss / 2 ** 20)} MiB)${args.out ? ` to ${args.out}` : ""}\n`,
    );
  } catch (error) {
    if (error instanceof OutputClosed) {
      process.stderr.write(
        `… the reader of the output closed it after ${records.toLocaleString("en-US")} records: export stopped\n`,
      );
      return;
    }
    if (error instanceof NotFoundError)
      fail(`no organization has the id ${args.organizationId} (it may have been deleted)`);
    if (error instanceof ValidationError) fail(error.message);
    if (error instanceof DatabaseError) fail(`export failed: ${error.message}${error.code ? ` (${error.code})` : ""}`);
    throw error;
  } finally {
    await db.close();
    if (partial && !exported) {
      output.destroy();
      rmSync(partial, { force: true });
    }
  }
});
