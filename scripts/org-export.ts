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
import { createWriteStream, openSync, rmSync } from "node:fs";
import { once } from "node:events";
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

async function writeLine(stream: Writable, line: string): Promise<void> {
  if (!stream.write(line)) await once(stream, "drain");
}

main(async () => {
  const args = parseArgs(process.argv.slice(2));
  // The file is opened first, so that a path it cannot write is said at once; it is removed when the export fails.
  let fd: number | null = null;
  if (args.out) {
    try {
      fd = openSync(args.out, "w");
    } catch (error) {
      fail(`cannot write ${args.out}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const db = createOrgDb(target().url, { max: 1 });
  const output: Writable = fd !== null ? createWriteStream("", { fd }) : process.stdout;
  let exported = false;
  const started = Date.now();
  let records = 0;
  let peakRss = process.memoryUsage.rss();
  try {
    const counts = await streamOrganizationExport(
      db,
      { organizationId: args.organizationId, batchSize: args.batchSize },
      async (record) => {
        await writeLine(output, `${JSON.stringify(record)}\n`);
        if (++records % 1_000 === 0) peakRss = Math.max(peakRss, process.memoryUsage.rss());
        if (records % 50_000 === 0) {
          process.stderr.write(`… ${records.toLocaleString("en-US")} records (${record.type})\n`);
        }
      },
    );
    if (args.out) {
      output.end();
      await once(output, "finish");
    }
    exported = true;
    const summary = Object.entries(counts)
      .map(([type, n]) => `${type} ${n.toLocaleString("en-US")}`)
      .join(", ");
    process.stderr.write(
      `✔ exported organization ${args.organizationId}: ${summary} (${records.toLocaleString("en-US")} lines, ${((Date.now() - started) / 1000).toFixed(1)} s, peak RSS ${Math.round(peakRss / 2 ** 20)} MiB)${args.out ? ` to ${args.out}` : ""}\n`,
    );
  } catch (error) {
    if (error instanceof NotFoundError)
      fail(`no organization has the id ${args.organizationId} (it may have been deleted)`);
    if (error instanceof ValidationError) fail(error.message);
    if (error instanceof DatabaseError) fail(`export failed: ${error.message}${error.code ? ` (${error.code})` : ""}`);
    throw error;
  } finally {
    await db.close();
    if (args.out && !exported) {
      output.destroy();
      rmSync(args.out, { force: true });
    }
  }
});
