/**
 * A PostgreSQL cluster in a data folder, run detached through the engine's own
 * `pg_ctl` so that the server outlives the command that started it.
 *
 * PostgreSQL refuses to run as root. When the tooling runs as root, every
 * server process runs as a dedicated OS user (`postgres`, created when
 * missing) that owns the data folder.
 */
import { execFileSync, spawnSync, type SpawnSyncOptions } from "node:child_process";
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { SUPERUSER } from "./config.ts";
import type { Engine } from "./engine.ts";
import { fail, indent } from "../output.ts";

export const SERVICE_USER = "postgres";

interface Owner {
  uid: number;
  gid: number;
}

let cachedOwner: Owner | null | undefined;

/** The OS user server processes run as: null when not root (run as ourselves). */
export function serverOwner(): Owner | null {
  if (cachedOwner !== undefined) return cachedOwner;
  if (process.getuid?.() !== 0) return (cachedOwner = null);
  const lookup = () => {
    try {
      const uid = Number(execFileSync("id", ["-u", SERVICE_USER], { encoding: "utf8" }).trim());
      const gid = Number(execFileSync("id", ["-g", SERVICE_USER], { encoding: "utf8" }).trim());
      return { uid, gid };
    } catch {
      return null;
    }
  };
  let owner = lookup();
  if (!owner) {
    const made = spawnSync(
      "useradd",
      ["--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVICE_USER],
      {
        encoding: "utf8",
      },
    );
    owner = lookup();
    if (!owner)
      fail(
        `Running as root, and the OS user "${SERVICE_USER}" that PostgreSQL must run as could not be created:\n${made.stderr}`,
      );
  }
  return (cachedOwner = owner);
}

/** Create a folder (and parents) owned by the server user. */
export function makeServerDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const owner = serverOwner();
  if (owner) chownSync(dir, owner.uid, owner.gid);
}

export function runAsServer(file: string, args: string[], options: SpawnSyncOptions = {}) {
  const owner = serverOwner();
  return spawnSync(file, args, {
    encoding: "utf8",
    ...options,
    ...(owner ? { uid: owner.uid, gid: owner.gid } : {}),
    env: { ...process.env, LC_ALL: "C", ...(options.env ?? {}) },
  });
}

/** Fail clearly when the server user cannot reach the binaries or the data folder. */
function checkReachable(engine: Engine, dataDir: string): void {
  if (!serverOwner()) return;
  const probe = (args: string[]) => runAsServer("test", args).status === 0;
  const postgres = path.join(engine.binDir, "postgres");
  const unreachable = !probe(["-x", postgres]) ? postgres : !probe(["-w", dataDir]) ? dataDir : null;
  if (unreachable) {
    fail(
      `Running as root, PostgreSQL runs as the OS user "${SERVICE_USER}", which cannot reach ${unreachable}.\n` +
        `Put the project in a folder every user can enter (for example under /work, /srv or /tmp), or allow it: chmod o+x on each parent folder.`,
    );
  }
}

export interface ClusterOptions {
  engine: Engine;
  dataDir: string;
  port: number;
  /** Password of the bootstrap superuser (and, once the platform roles exist, of `postgres`). */
  password: string;
  /** Throwaway clusters trade durability for speed. */
  throwaway?: boolean;
  /** The URL the commands reach it by (DATABASE_URL): a refusal's advice keeps its user, password and database. */
  url?: string;
  /** Libraries (paths) every session loads, e.g. the local safeupdate build. */
  sessionPreloadLibraries?: string[];
}

/** The line init() adds to postgresql.conf: the data folder is this tooling's to recreate. */
const TOOLING_MARK = "# Written by the project's local database tooling.";

export class Cluster {
  constructor(readonly options: ClusterOptions) {}

  get dataDir(): string {
    return this.options.dataDir;
  }

  get logFile(): string {
    return `${this.options.dataDir}.log`;
  }

  private pgCtl(args: string[], options: SpawnSyncOptions = {}) {
    return runAsServer(path.join(this.options.engine.binDir, "pg_ctl"), args, options);
  }

  exists(): boolean {
    return existsSync(path.join(this.dataDir, "PG_VERSION"));
  }

  /** Whether this tooling made the data folder (its postgresql.conf carries the mark init() writes). */
  madeHere(): boolean {
    const conf = path.join(this.dataDir, "postgresql.conf");
    return existsSync(conf) && readFileSync(conf, "utf8").includes(TOOLING_MARK);
  }

  /** The major version that created the data folder. */
  dataMajor(): number {
    return Number.parseInt(readFileSync(path.join(this.dataDir, "PG_VERSION"), "utf8"), 10);
  }

  /** Fail when the data folder was made by another PostgreSQL major. */
  checkMajor(): void {
    const { engine } = this.options;
    const dataMajor = this.dataMajor();
    if (dataMajor !== engine.major) {
      fail(
        `The data folder ${this.dataDir} was created by PostgreSQL ${dataMajor}, but this engine (${engine.name}) is PostgreSQL ${engine.major}.\n` +
          `PostgreSQL cannot open another major's data folder. Either use the engine that made it, or recreate it (this deletes the local data): npm run db:reset`,
      );
    }
  }

  /** The running server's port, or null when it is not running. */
  runningPort(): number | null {
    if (!this.exists()) return null;
    const status = this.pgCtl(["status", "-D", this.dataDir]);
    if (status.status !== 0) return null;
    return postmasterPid(this.dataDir)?.port ?? null;
  }

  /** The server running from this data folder, whichever engine started it (liveServer), or null. */
  liveServer(): { pid: number; port: number } | null {
    return liveServer(this.dataDir);
  }

  /**
   * initdb into a new or empty data folder. A folder that holds anything
   * else (the user's files, or a damaged cluster without its PG_VERSION) is
   * refused and left as it is; on failure only a folder made here is removed.
   */
  init(): void {
    const { engine, password, throwaway } = this.options;
    const madeHere = !existsSync(this.dataDir);
    if (!madeHere && readdirSync(this.dataDir).length > 0) {
      fail(
        `${this.dataDir} is not empty and is no PostgreSQL data folder (it has no PG_VERSION), so it is left as it is.\n` +
          `Point DB_DATA_DIR at a new or empty folder. If it is a damaged local database, remove it yourself ` +
          `(rm -rf ${this.dataDir}; every database in it is lost), then run npm run db:start.`,
      );
    }
    makeServerDir(this.dataDir);
    checkReachable(engine, this.dataDir);
    const pwFile = path.join(os.tmpdir(), `pgpass-${process.pid}-${Date.now()}`);
    writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
    const owner = serverOwner();
    if (owner) chownSync(pwFile, owner.uid, owner.gid);
    try {
      const result = runAsServer(path.join(engine.binDir, "initdb"), [
        "--pgdata",
        this.dataDir,
        // The bootstrap superuser is supabase_admin, as on hosted Supabase;
        // `postgres` is created afterwards as an ordinary role (roles.sql).
        "--username",
        SUPERUSER,
        "--pwfile",
        pwFile,
        "--auth-local",
        "trust",
        "--auth-host",
        "scram-sha-256",
        "--encoding",
        "UTF8",
        "--locale",
        "C",
        ...(throwaway ? ["--no-sync"] : []),
      ]);
      if (result.status !== 0) {
        // initdb empties a folder it was given empty; one made here goes.
        if (madeHere) rmSync(this.dataDir, { recursive: true, force: true });
        fail(`initdb failed:\n${indent(`${String(result.stdout)}${String(result.stderr)}`)}`);
      }
    } finally {
      rmSync(pwFile, { force: true });
    }
    const settings = [
      TOOLING_MARK,
      "listen_addresses = '127.0.0.1'",
      "unix_socket_directories = ''",
      "max_connections = 200",
      "shared_buffers = '256MB'",
      "work_mem = '16MB'",
      "maintenance_work_mem = '256MB'",
      "max_wal_size = '2GB'",
      "log_min_messages = 'warning'",
      ...(throwaway ? ["fsync = off", "synchronous_commit = off", "full_page_writes = off"] : []),
      ...(this.options.sessionPreloadLibraries?.length
        ? [`session_preload_libraries = '${this.options.sessionPreloadLibraries.join(", ")}'`]
        : []),
    ];
    const conf = path.join(this.dataDir, "postgresql.conf");
    writeFileSync(conf, `${readFileSync(conf, "utf8")}\n${settings.join("\n")}\n`);
  }

  /** Start the server detached; returns once it accepts connections. */
  async start(): Promise<void> {
    const { engine, port } = this.options;
    checkReachable(engine, this.dataDir);
    this.checkMajor();
    const running = this.runningPort();
    if (running === port) return;
    if (running !== null) {
      fail(
        `The local server in ${this.dataDir} is already running on port ${running}, not ${port}. Stop it first: npm run db:stop`,
      );
    }
    await this.checkPortFree();
    const owner = serverOwner();
    writeFileSync(this.logFile, "", { flag: "a" });
    if (owner) chownSync(this.logFile, owner.uid, owner.gid);
    const result = this.pgCtl(["start", "-D", this.dataDir, "-l", this.logFile, "-w", "-t", "60", "-o", `-p ${port}`], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    if (result.status !== 0) {
      const log = existsSync(this.logFile) ? readFileSync(this.logFile, "utf8").split("\n").slice(-15).join("\n") : "";
      fail(
        `PostgreSQL did not start:\n${indent(`${String(result.stdout)}${String(result.stderr)}`)}\nLast lines of ${this.logFile}:\n${indent(log)}\n` +
          `If the log says the data folder is damaged (a missing or unreadable file under it), neither db:start nor db:reset can repair it: ` +
          `remove it (rm -rf ${this.dataDir}; every database in it is lost) and run npm run db:start, which creates it anew.`,
      );
    }
  }

  /** Fail, naming a free port to use instead, when something else listens on the cluster's port. */
  async checkPortFree(): Promise<void> {
    const { port } = this.options;
    if (!(await portInUse(port))) return;
    let suggestion = port + 1;
    while (suggestion < 65535 && (await portInUse(suggestion))) suggestion++;
    fail(
      `Port ${port} on 127.0.0.1 is already in use by another program (another PostgreSQL, or this project's other engine:\n` +
        `npm run db:stop -- --engine=embedded|system), so the local database cannot start there.\n` +
        `Stop that program, or use another port, e.g.: DATABASE_URL=${this.urlOnPort(suggestion)} npm run db:start`,
    );
  }

  /** The cluster's URL with another port (the default URL when it has none). */
  private urlOnPort(port: number): string {
    const url = new URL(this.options.url ?? "postgresql://postgres:postgres@127.0.0.1/postgres");
    url.port = String(port);
    return url.toString();
  }

  /** Stop the server if it runs; true when it was running. */
  stop(): boolean {
    if (this.runningPort() === null) return false;
    const result = this.pgCtl(["stop", "-D", this.dataDir, "-m", "fast", "-w", "-t", "60"]);
    if (result.status !== 0) fail(`pg_ctl stop failed:\n${indent(`${String(result.stdout)}${String(result.stderr)}`)}`);
    return true;
  }

  /** Stop and delete the data folder and its log. */
  destroy(): void {
    this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
    rmSync(this.logFile, { force: true });
  }
}

/** The server process and port a data folder's postmaster.pid names, or null when it has none. */
export function postmasterPid(dataDir: string): { pid: number; port: number } | null {
  const pidFile = path.join(dataDir, "postmaster.pid");
  if (!existsSync(pidFile)) return null;
  const lines = readFileSync(pidFile, "utf8").split("\n");
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  return Number.isInteger(pid) && Number.isInteger(port) ? { pid, port } : null;
}

/** The server running from a data folder: its postmaster.pid names a live process (a stale one: null). */
export function liveServer(dataDir: string): { pid: number; port: number } | null {
  const server = postmasterPid(dataDir);
  if (!server) return null;
  try {
    process.kill(server.pid, 0);
  } catch (error) {
    // EPERM: the process exists, owned by another user.
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return null;
  }
  return server;
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export function portInUse(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.setTimeout(1000, () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** A TCP port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
  });
}
