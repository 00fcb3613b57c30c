/**
 * npm run build: compile src/ to JavaScript with declarations in dist/
 * (tsconfig.build.json); `npm install` in this repository and `npm pack` run it
 * (`prepare`), so that a clone's bin and exports work once installed. tsc
 * rewrites the `.ts` import extensions of the JavaScript it emits; the
 * declarations keep them, so they are rewritten here to `.js`, which every
 * `moduleResolution` (bundler, nodenext) resolves.
 * The entity generator's templates are copied beside its module.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ROOT } from "../tooling/server/config.ts";

const DIST = path.join(ROOT, "dist");
rmSync(DIST, { recursive: true, force: true });
const tsc = spawnSync(path.join(ROOT, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.build.json"], {
  cwd: ROOT,
  stdio: "inherit",
});
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((f) =>
    statSync(path.join(dir, f)).isDirectory() ? walk(path.join(dir, f)) : [path.join(dir, f)],
  );
}
for (const file of walk(DIST).filter((f) => f.endsWith(".d.ts"))) {
  const text = readFileSync(file, "utf8");
  const fixed = text.replace(/(from\s+|import\()(["'])(\.{1,2}\/[^"']+)\.ts\2/g, "$1$2$3.js$2");
  if (fixed !== text) writeFileSync(file, fixed);
}
// The entity generator reads its templates beside its module.
cpSync(path.join(ROOT, "src", "cli", "entity", "templates"), path.join(DIST, "cli", "entity", "templates"), {
  recursive: true,
});
chmodSync(path.join(DIST, "cli", "main.js"), 0o755);
console.log(`built ${path.relative(ROOT, DIST)}/`);
