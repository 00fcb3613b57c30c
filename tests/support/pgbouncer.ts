/**
 * A real PgBouncer (Debian's package) in front of a test database, started
 * and stopped by the suite that needs it. Like PostgreSQL it refuses to run
 * as root, so it runs as the server's OS user when the suite runs as root.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort, portInUse, serverOwner } from "../../tooling/server/cluster.ts";

export type PoolMode = "transaction" | "session";

export interface Bouncer {
  /** URL of the database through PgBouncer. */
  url: string;
  stop(): Promise<void>;
}

export const PGBOUNCER_HINT = "Install PgBouncer (Debian: apt-get install -y pgbouncer); .ci/run does.";

export function pgbouncerBinary(): string {
  for (const candidate of [process.env.PGBOUNCER, "/usr/sbin/pgbouncer", "/usr/bin/pgbouncer"]) {
    if (candidate && spawnSync(candidate, ["--version"], { stdio: "ignore" }).status === 0) return candidate;
  }
  throw new Error(`PgBouncer is not installed. ${PGBOUNCER_HINT}`);
}

export async function startPgBouncer(databaseUrl: string, mode: PoolMode, poolSize = 4): Promise<Bouncer> {
  const target = new URL(databaseUrl);
  const db = decodeURIComponent(target.pathname.slice(1));
  const dir = mkdtempSync(path.join(os.tmpdir(), "pgbouncer-"));
  chmodSync(dir, 0o755);
  const port = await freePort();
  const user = decodeURIComponent(target.username);
  const password = decodeURIComponent(target.password);
  const ini = [
    "[databases]",
    `${db} = host=${target.hostname} port=${target.port} dbname=${db} user=${user} password=${password}`,
    "",
    "[pgbouncer]",
    "listen_addr = 127.0.0.1",
    `listen_port = ${port}`,
    "unix_socket_dir =",
    "auth_type = trust",
    `auth_file = ${path.join(dir, "userlist.txt")}`,
    `pool_mode = ${mode}`,
    `default_pool_size = ${poolSize}`,
    "max_client_conn = 200",
    // What a transaction-mode pooler does between clients: nothing. Session
    // state left behind would reach the next client, which is the point.
    "server_reset_query =",
    "server_reset_query_always = 0",
    "ignore_startup_parameters = extra_float_digits,options",
    `logfile = ${path.join(dir, "pgbouncer.log")}`,
    `pidfile = ${path.join(dir, "pgbouncer.pid")}`,
    "",
  ].join("\n");
  writeFileSync(path.join(dir, "pgbouncer.ini"), ini);
  writeFileSync(path.join(dir, "userlist.txt"), `"${user}" "${password}"\n`);
  const owner = serverOwner();
  if (owner) for (const f of ["", "pgbouncer.ini", "userlist.txt"]) chownSync(path.join(dir, f), owner.uid, owner.gid);
  const child: ChildProcess = spawn(pgbouncerBinary(), [path.join(dir, "pgbouncer.ini")], {
    stdio: "ignore",
    ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
  });
  let exited = false;
  child.once("exit", () => (exited = true));
  for (let i = 0; i < 100 && !(await portInUse(port)); i++) {
    if (exited) throw new Error(`PgBouncer exited at start; see ${dir}/pgbouncer.log`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = new URL(databaseUrl);
  url.port = String(port);
  return {
    url: url.toString(),
    async stop() {
      if (!exited) {
        const done = new Promise((r) => child.once("exit", r));
        child.kill("SIGINT");
        await done;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
