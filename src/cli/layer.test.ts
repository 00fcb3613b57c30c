/**
 * What `init`, `upgrade`, `doctor` and `entity` read from migrations: the
 * objects a project's migrations leave, where they leave the layer's
 * extensions, and the grants of the layer's own migrations, read by
 * PostgreSQL's parser (src/cli/sql.ts), not by patterns over the text.
 */
import { describe, expect, it } from "vitest";
import { definedObjects, layerExtensionsOutside, layerObjects, layerPrivateGrants, objectsLeftBy } from "./layer.ts";
import { SqlSyntaxError } from "./sql.ts";

const files = (...texts: string[]) => texts.map((sql, i) => ({ file: `supabase/migrations/${i + 1}_m.sql`, sql }));

describe("the objects a project's migrations leave", () => {
  it("are created by statements, not by words in strings, function bodies or comments", () => {
    const sql = `
      -- create table public.clients (id uuid);
      /* create function public.authorize(uuid, text) */
      comment on schema public is 'create table public.roles (id uuid)';
      create function public.setup() returns void language plpgsql as $body$
      begin
        execute 'create table public.organizations (id uuid)';
        create table if not exists public.users (id uuid);
      end $body$;
      create table notes (body text);
      create table "public"."Invoices" (id uuid);
      create temporary table scratch (id int);
    `;
    expect([...definedObjects(sql)].sort()).toEqual([
      "function public.setup",
      "table public.Invoices",
      "table public.notes",
    ]);
  });

  it("name every kind the layer checks, qualified or not, quoted or not", () => {
    const sql = `
      create or replace view private.v as select 1;
      create materialized view mv as select 1;
      create table t2 as select 1 as a;
      create type public.mood as enum ('ok');
      create type pair as (a int, b int);
      create type span as range (subtype = int4);
      create domain "Email" as text;
      create procedure tidy() language sql as 'select 1';
      create trigger on_auth_user_created after insert on auth.users for each row execute function public.setup();
      create trigger other after insert on public.notes for each row execute function public.setup();
    `;
    expect([...definedObjects(sql)].sort()).toEqual([
      "function public.tidy",
      "table public.t2",
      "trigger auth.users.on_auth_user_created",
      "type public.Email",
      "type public.mood",
      "type public.pair",
      "type public.span",
      "view private.v",
      "view public.mv",
    ]);
  });

  it("leave out what a later migration drops, renames or moves, with the file that last defined the rest", () => {
    const left = objectsLeftBy(
      files(
        "create table clients (id uuid); create table roles (id uuid); create table audit_log (id uuid);" +
          "create function public.authorize(uuid, text) returns boolean language sql as 'select true';" +
          "create trigger on_auth_user_created after insert on auth.users for each row execute function public.f();",
        "drop table if exists public.clients, other cascade; alter table roles rename to my_roles;" +
          "alter table public.audit_log set schema archive; drop function public.authorize(uuid, text);" +
          "alter trigger on_auth_user_created on auth.users rename to on_signup;",
      ),
    );
    expect(Object.fromEntries(left)).toEqual({
      "table public.my_roles": "supabase/migrations/2_m.sql",
      "table archive.audit_log": "supabase/migrations/2_m.sql",
      "trigger auth.users.on_signup": "supabase/migrations/2_m.sql",
    });
  });

  it("refuse a migration PostgreSQL would not parse, naming its file and line (characters counted as PostgreSQL counts them)", () => {
    const call = () => objectsLeftBy(files("create table a (id uuid);\ncreate tabel b (id uuid);"));
    expect(call).toThrow(SqlSyntaxError);
    expect(call).toThrow(/1_m\.sql \(line 2\): syntax error at or near "tabel"/);
    const emoji = "comment on table a is '😀😀😀';\n".repeat(3) + "create tabel b (id int);";
    expect(() => objectsLeftBy(files(emoji))).toThrow(/1_m\.sql \(line 4\): syntax error at or near "tabel"/);
  });

  it("read what PostgreSQL 15 accepts and 17 reserves (system_user, json_object as names)", () => {
    const sql =
      "create table public.logins (id bigint primary key, system_user text);\n" +
      "create function json_object(x int) returns int language sql as 'select 1';";
    expect([...definedObjects(sql)].sort()).toEqual(["function public.json_object", "table public.logins"]);
  });

  it("include what a DO block runs: drizzle-kit's enum, an extension, a rename, an EXECUTE of a literal", () => {
    const left = objectsLeftBy(
      files(
        `DO $$ BEGIN
           CREATE TYPE "public"."client_status" AS ENUM('active', 'archived');
         EXCEPTION
           WHEN duplicate_object THEN null;
         END $$;
         create table clients (id uuid);`,
        `do $$
         declare
           n int;
         begin
           if not exists (select 1 from pg_tables where tablename = 'old_clients') then
             alter table public.clients rename to old_clients;
           end if;
           execute 'create table public.roles (id uuid)';
           perform 1;
         end $$;`,
      ),
    );
    expect([...left.keys()].sort()).toEqual([
      "table public.old_clients",
      "table public.roles",
      "type public.client_status",
    ]);
    // Semicolons inside strings, nested bodies and comments do not split a statement; text that never runs is no statement.
    const nested = objectsLeftBy(
      files(
        "create table public.clients (id int); create table public.roles (id int);",
        `DO $$
         BEGIN -- a comment; drop table public.roles;
           PERFORM 1;
         EXCEPTION WHEN others THEN RAISE NOTICE 'could not; drop table public.clients; and retry';
         END $$;
         do $$ begin
           if not exists (select 1 from pg_proc where proname = 'cleanup') then
             create function public.cleanup() returns void language plpgsql as $f$ begin perform 1; drop table public.clients; end $f$;
           end if;
           case when true then create type public.mood as enum ('a;b', 'c'); end case;
           for i in 1..2 loop execute $q$create table if not exists public.logs (id int); create table public.notes (id int)$q$; end loop;
         end $$;`,
      ),
    );
    expect([...nested.keys()].sort()).toEqual([
      "function public.cleanup",
      "table public.clients",
      "table public.logs",
      "table public.notes",
      "table public.roles",
      "type public.mood",
    ]);
    expect(layerExtensionsOutside(files("do $$ begin create extension if not exists pg_trgm; end $$;"))).toEqual([
      { extension: "pg_trgm", schema: "public", file: "supabase/migrations/1_m.sql" },
    ]);
  });
});

describe("the layer's extensions left outside schema extensions", () => {
  it("are read from create, alter and drop extension statements only", () => {
    expect(
      layerExtensionsOutside(
        files(
          "comment on schema public is 'create extension pg_trgm'; create extension if not exists \"btree_gin\";",
          "create extension pg_trgm with schema extensions; create extension if not exists pg_trgm;",
        ),
      ),
    ).toEqual([{ extension: "btree_gin", schema: "public", file: "supabase/migrations/1_m.sql" }]);
    expect(
      layerExtensionsOutside(
        files(
          "create extension pg_trgm; create extension btree_gin schema tools;",
          "alter extension pg_trgm set schema extensions; drop extension if exists btree_gin cascade;",
        ),
      ),
    ).toEqual([]);
  });
});

describe("the layer's own migrations", () => {
  it("define its tables and functions, and grant on private tables only to the service", () => {
    const objects = layerObjects();
    for (const object of [
      "table public.clients",
      "function public.search_clients",
      "function private.workable_client_ids",
    ])
      expect(objects).toContain(object);
    expect(layerPrivateGrants()).toEqual(["SELECT on table private.deleted_organizations to service_role"]);
  });
});
