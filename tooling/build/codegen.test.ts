/**
 * Generated artifacts are committed and must match the migrations: the
 * Drizzle schema and the supabase-js Database types are regenerated here from
 * this run's database and compared byte for byte.
 */
import { describe, expect, it } from "vitest";
import { useTestDatabase } from "../../tests/support/database.ts";
import { drift, generate, nameUnnamedColumns, repairDrizzleRelations, repairDrizzleSchema } from "./codegen.ts";

const db = useTestDatabase();

describe("generated types", () => {
  it("the committed Drizzle schema and Database types match the migrations (run `npm run db:types` when this fails)", async () => {
    const generated = await generate(db.url);
    expect(drift(generated)).toEqual([]);
  });

  it("a column changed in the database without regenerating is detected as drift", async () => {
    await db.sql`alter table public.clients add column drift_probe text`;
    try {
      const generated = await generate(db.url);
      expect(drift(generated)).toEqual(
        expect.arrayContaining(["src/schema/generated/schema.ts", "src/types/database.types.ts"]),
      );
    } finally {
      await db.sql`alter table public.clients drop column drift_probe`;
    }
  });
});

describe("repairs of drizzle-kit's Supabase faults", () => {
  const raw = `import { pgTable, foreignKey, pgPolicy, uuid } from "drizzle-orm/pg-core"
import { sql } from "drizzle-orm"

export const users = pgTable("users", {
	id: uuid().primaryKey().notNull(),
	// TODO: failed to parse database type 'bytea'
	secret: unknown("secret"),
}, (table) => [
	foreignKey({
			columns: [table.id],
			foreignColumns: [table.id],
			name: "users_id_fkey"
		}).onDelete("cascade"),
	pgPolicy("users_update_self", { as: "permissive", for: "update", to: ["authenticated"] }),
]);
`;

  it("points a foreign key into auth.users at authUsers instead of the table itself", () => {
    const out = repairDrizzleSchema(raw, ["users_id_fkey"]);
    expect(out).toContain("foreignColumns: [authUsers.id]");
    expect(out).toContain('import { authUsers } from "drizzle-orm/supabase";');
    expect(out).not.toContain("foreignColumns: [table.id]");
  });

  it("drops policies (SQL is their source of truth) and types bytea", () => {
    const out = repairDrizzleSchema(raw, ["users_id_fkey"]);
    expect(out).not.toContain("pgPolicy");
    expect(out).toContain('secret: bytea("secret")');
  });

  it("names a column drizzle-kit declares without its name when a letter follows a digit (sha256sum: sha256Sum)", () => {
    const pulled = `export const downloads = pgTable("downloads", {
	id: uuid().primaryKey().notNull(),
	sha256Sum: text(),
	mp4Url: text().notNull(),
	size2Bytes: bigint({ mode: "number" }),
	createdAt: timestamp("created_at", { withTimezone: true, mode: 'string' }),
});
`;
    const columns = new Map([
      ["downloads", ["id", "sha256sum", "mp4url", "size2bytes", "created_at"]],
      ["empty", []],
      ["download_view", ["id", "sha256sum"]],
    ]);
    // A table without columns ({\n}) ends where it ends; a view's columns are named too.
    const others = `export const empty = pgTable("empty", {
});

export const downloadView = pgView("download_view", {\tid: uuid(),
\tsha256Sum: text(),
}).as(sql\`select id, sha256sum from downloads\`);
`;
    const out = nameUnnamedColumns(others + pulled, columns);
    expect(out).toContain('export const empty = pgTable("empty", {\n});');
    expect(out).toMatch(/pgView\("download_view"[\s\S]*sha256Sum: text\("sha256sum"\),/);
    expect(out).toContain('sha256Sum: text("sha256sum"),');
    expect(out).toContain('mp4Url: text("mp4url").notNull(),');
    expect(out).toContain('size2Bytes: bigint("size2bytes", { mode: "number" }),');
    expect(out).toContain("id: uuid().primaryKey()");
    expect(out).toContain('createdAt: timestamp("created_at"');
    expect(() => nameUnnamedColumns(pulled, new Map([["downloads", ["id"]]]))).toThrow(/downloads\.sha256Sum/);
  });

  it("fails loudly on a foreign key it cannot find, or a type it cannot map", () => {
    expect(() => repairDrizzleSchema(raw, ["other_fkey"])).toThrow(/other_fkey/);
    expect(() => repairDrizzleSchema(raw.replace("'bytea'", "'tsvector'"), [])).toThrow(/tsvector/);
  });

  it("binds the relations' usersInAuth to authUsers", () => {
    const out = repairDrizzleRelations(
      `import { relations } from "drizzle-orm/relations";\nimport { users, usersInAuth } from "./schema";\n`,
      "export const users = 1;\n",
    );
    expect(out).toContain('import { authUsers as usersInAuth } from "drizzle-orm/supabase";');
    expect(out).toContain('import { users } from "./schema.ts";');
  });

  it("drops a relation drizzle-kit writes twice (a column with a single and a composite foreign key)", () => {
    const entry = `  role_roleId: one(roles, {\n    fields: [rolePermissions.roleId],\n    references: [roles.id],\n  }),`;
    const raw = `import { relations } from "drizzle-orm/relations";\nimport { rolePermissions, roles } from "./schema";\n\nexport const rolePermissionsRelations = relations(rolePermissions, ({ one }) => ({\n${entry}\n${entry}\n}));\n`;
    const out = repairDrizzleRelations(raw, "export const rolePermissions = 1;\nexport const roles = 2;\n");
    expect(out.match(/role_roleId:/g)).toHaveLength(1);
  });
});
