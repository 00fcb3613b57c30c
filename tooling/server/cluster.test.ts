/**
 * The local cluster refuses clearly what it cannot do: a port taken by
 * another program, a data folder made by another PostgreSQL major.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
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

  it("refuses a port another program listens on, and starts nothing", async () => {
    const engine = await resolveEngine(engineName);
    const blocker = net.createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, "127.0.0.1", resolve));
    const cluster = new Cluster({ engine, dataDir: path.join(base, "busy"), port, password: "x", throwaway: true });
    try {
      cluster.init();
      await expect(cluster.start()).rejects.toThrow(new RegExp(`Port ${port} on 127.0.0.1 is already in use`));
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
