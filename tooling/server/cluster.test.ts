/**
 * The local cluster refuses clearly what it cannot do: a port taken by
 * another program, a data folder made by another PostgreSQL major, a folder
 * of other files (never removed).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Cluster, freePort, makeServerDir } from "./cluster.ts";
import { resolveEngine } from "./engine.ts";

const engineName = process.env.TEST_ENGINE === "system" ? "system" : "embedded";
const base = mkdtempSync(path.join(os.tmpdir(), "org-layer-cluster-"));
makeServerDir(base);
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe(`cluster (${engineName})`, () => {
  it("refuses a data folder made by another PostgreSQL major", async () => {
    const engine = await resolveEngine(engineName);
    const dataDir = path.join(base, "other-major");
    makeServerDir(dataDir);
    writeFileSync(path.join(dataDir, "PG_VERSION"), `${engine.major - 1}\n`);
    const cluster = new Cluster({ engine, dataDir, port: await freePort(), password: "x" });
    await expect(cluster.start()).rejects.toThrow(
      new RegExp(`created by PostgreSQL ${engine.major - 1}[\\s\\S]*npm run db:reset`),
    );
  });

  it("refuses a folder that is not empty and holds no cluster, and leaves it as it is", async () => {
    const engine = await resolveEngine(engineName);
    const dataDir = path.join(base, "not-a-cluster");
    mkdirSync(path.join(dataDir, "notes"), { recursive: true });
    writeFileSync(path.join(dataDir, "notes", "todo.txt"), "keep me\n");
    const cluster = new Cluster({ engine, dataDir, port: await freePort(), password: "x" });
    expect(() => cluster.init()).toThrow(/is not empty and is no PostgreSQL data folder[\s\S]*left as it is/);
    expect(readFileSync(path.join(dataDir, "notes", "todo.txt"), "utf8")).toBe("keep me\n");
  });

  it("refuses a port another program listens on, naming the URL on a free port, and starts nothing", async () => {
    const engine = await resolveEngine(engineName);
    const blocker = net.createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, "127.0.0.1", resolve));
    const url = `postgresql://me:s3cret@127.0.0.1:${port}/my-db`;
    const cluster = new Cluster({
      engine,
      dataDir: path.join(base, "busy"),
      port,
      password: "x",
      throwaway: true,
      url,
    });
    try {
      cluster.init();
      await expect(cluster.start()).rejects.toThrow(new RegExp(`Port ${port} on 127.0.0.1 is already in use`));
      await expect(cluster.start()).rejects.toThrow(/DATABASE_URL=postgresql:\/\/me:s3cret@127\.0\.0\.1:\d+\/my-db /);
      expect(cluster.runningPort()).toBeNull();
    } finally {
      blocker.close();
      cluster.destroy();
    }
  });

  it("starts detached, reports its port, stops", async () => {
    const engine = await resolveEngine(engineName);
    const port = await freePort();
    const cluster = new Cluster({ engine, dataDir: path.join(base, "life"), port, password: "x", throwaway: true });
    try {
      cluster.init();
      await cluster.start();
      expect(cluster.runningPort()).toBe(port);
      expect(cluster.stop()).toBe(true);
      expect(cluster.runningPort()).toBeNull();
    } finally {
      cluster.destroy();
    }
  });
});
