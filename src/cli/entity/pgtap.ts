/** The numbered pgTAP threat cases of a generated entity. */
import type { Column } from "./columns.ts";
import type { EntityNames } from "./names.ts";

const ORG_A = "'e1000000-0000-4000-8000-000000000001'::uuid";
const ORG_B = "'e1000000-0000-4000-8000-000000000002'::uuid";
const ROW_A1 = "'e2000000-0000-4000-8000-000000000001'::uuid";
const ROW_A2 = "'e2000000-0000-4000-8000-000000000002'::uuid";
const ROW_B1 = "'e2000000-0000-4000-8000-000000000003'::uuid";
const user = (n: number) => `'e0000000-0000-4000-a000-0000000000${String(n).padStart(2, "0")}'::uuid`;

/** A SQL literal of each type, for fixtures and inserts. */
export const SQL_SAMPLE: Record<Column["type"], string> = {
  text: "'sample'",
  integer: "1",
  bigint: "1",
  numeric: "1.5",
  boolean: "true",
  date: "'2026-01-31'::date",
  timestamptz: "'2026-01-31T09:00:00Z'::timestamptz",
  uuid: "'00000000-0000-4000-8000-0000000000aa'::uuid",
  jsonb: `'{"sample": 1}'::jsonb`,
};

const PERSONAS = [
  { n: 1, role: "owner" },
  { n: 2, role: "admin" },
  { n: 3, role: "manager" },
  { n: 4, role: "member" },
  { n: 5, role: "viewer" },
] as const;

export interface PgTapCases {
  body: string;
  count: number;
}

export function pgTapCases(names: EntityNames, columns: Column[], assignable: boolean, number: number): PgTapCases {
  const { name, assignTable, idCol } = names;
  const lines: string[] = [];
  let n = 0;
  const id = () => `T${number}.${String(++n).padStart(2, "0")}`;
  const q = (text: string) => `$$ ${text} $$`;
  const sqlString = (text: string) => `'${text.replaceAll("'", "''")}'`;
  const cols = columns.map((c) => c.name);
  const values = columns.map((c) => SQL_SAMPLE[c.type]);
  const insert = (org: string) =>
    `insert into public.${name} (organization_id${cols.map((c) => `, ${c}`).join("")}) values (${org}${values.map((v) => `, ${v}`).join("")})`;
  const first = columns[0]!;
  const set = `${first.name} = ${SQL_SAMPLE[first.type]}`;
  const rls = (table: string) => sqlString(`new row violates row-level security policy for table "${table}"`);
  const denied = sqlString(`permission denied for table ${name}`);
  const is = (expr: string, expected: number | string, what: string) =>
    lines.push(`select is(${expr}, ${expected}, ${sqlString(`${id()} ${what}`)});`);
  const throws = (statement: string, code: string, message: string, what: string) =>
    lines.push(`select throws_ok(${q(statement)}, '${code}', ${message}, ${sqlString(`${id()} ${what}`)});`);
  const affected = (statement: string) => `pg_temp.affected($s$ ${statement} $s$)`;
  const as = (who: string) => lines.push(who);

  lines.push("", "-- R1 anon ----------------------------------------------------------------------------");
  as("select pg_temp.as_anon();");
  throws(`select * from public.${name}`, "42501", denied, `anon cannot read ${name} (no grant)`);
  throws(insert(ORG_A), "42501", denied, `anon cannot insert into ${name} (no grant)`);
  throws(`update public.${name} set ${set} where true`, "42501", denied, `anon cannot update ${name} (no grant)`);
  throws(`delete from public.${name} where true`, "42501", denied, `anon cannot delete from ${name} (no grant)`);

  lines.push("", "-- R2 every persona x action x own / other organization ------------------------------------");
  const writers = ["owner", "admin", "manager"];
  for (const p of PERSONAS) {
    as(`select pg_temp.as_uid(${user(p.n)}); -- ${p.role} of A`);
    const memberAssigned = assignable && p.role === "member";
    const reads = memberAssigned ? 1 : 2;
    is(
      `(select count(*)::int from public.${name} where organization_id = ${ORG_A})`,
      reads,
      memberAssigned
        ? `member of A reads only the row assigned to them (${name}.work_assigned)`
        : `${p.role} of A reads every row of A (${name}.read)`,
    );
    is(
      `(select count(*)::int from public.${name} where organization_id = ${ORG_B} or id = ${ROW_B1})`,
      0,
      `${p.role} of A reads nothing of B, not even by id`,
    );
    const creates = writers.includes(p.role) || (assignable && p.role === "member");
    if (creates) is(affected(insert(ORG_A)), 1, `${p.role} of A creates a row in A (${name}.create)`);
    else
      throws(
        `select ${affected(insert(ORG_A))}`,
        "42501",
        rls(name),
        `${p.role} of A cannot create a row in A (no ${name}.create)`,
      );
    throws(
      `select ${affected(insert(ORG_B))}`,
      "42501",
      rls(name),
      `${p.role} of A cannot create a row in B (forged organization_id)`,
    );
    const updates = writers.includes(p.role);
    is(
      affected(`update public.${name} set ${set} where id = ${ROW_A2}`),
      updates ? 1 : 0,
      updates
        ? `${p.role} of A updates an unassigned row of A (${name}.update)`
        : `${p.role} of A cannot update an unassigned row of A`,
    );
    if (memberAssigned)
      is(
        affected(`update public.${name} set ${set} where id = ${ROW_A1}`),
        1,
        `member of A updates the row assigned to them (${name}.work_assigned)`,
      );
    is(
      affected(`update public.${name} set ${set} where id = ${ROW_B1} or organization_id = ${ORG_B}`),
      0,
      `${p.role} of A updates nothing of B`,
    );
    is(
      affected(`delete from public.${name} where id = ${ROW_A2}`),
      updates ? 1 : 0,
      updates ? `${p.role} of A deletes a row of A (${name}.delete)` : `${p.role} of A cannot delete a row of A`,
    );
    is(
      affected(`delete from public.${name} where id = ${ROW_B1} or organization_id = ${ORG_B}`),
      0,
      `${p.role} of A deletes nothing of B`,
    );
  }
  as(`select pg_temp.as_uid(${user(6)}); -- owner of B`);
  is(`(select count(*)::int from public.${name})`, 1, "owner of B reads exactly the row of B");
  is(
    `(select count(*)::int from public.${name} where organization_id = ${ORG_A} or id in (${ROW_A1}, ${ROW_A2}))`,
    0,
    "owner of B reads nothing of A, not even by id",
  );
  throws(
    `select ${affected(insert(ORG_A))}`,
    "42501",
    rls(name),
    "owner of B cannot create a row in A (forged organization_id)",
  );
  is(
    affected(`update public.${name} set ${set} where organization_id = ${ORG_A}`),
    0,
    "owner of B updates nothing of A",
  );
  is(affected(`delete from public.${name} where organization_id = ${ORG_A}`), 0, "owner of B deletes nothing of A");
  as(`select pg_temp.as_uid(${user(7)}); -- signed in, no organization`);
  is(`(select count(*)::int from public.${name})`, 0, "a signed-in user of no organization reads nothing");
  throws(
    `select ${affected(insert(ORG_A))}`,
    "42501",
    rls(name),
    "a signed-in user of no organization creates nothing",
  );
  is(affected(`update public.${name} set ${set} where true`), 0, "a signed-in user of no organization updates nothing");
  is(affected(`delete from public.${name} where true`), 0, "a signed-in user of no organization deletes nothing");

  lines.push("", "-- R3 forged columns ---------------------------------------------------------------------");
  as(`select pg_temp.as_uid(${user(1)});`);
  throws(
    `update public.${name} set organization_id = ${ORG_B} where id = ${ROW_A2}`,
    "42501",
    denied,
    "organization_id is not updatable through the API (column grant)",
  );
  throws(
    `insert into public.${name} (id, organization_id${cols.map((c) => `, ${c}`).join("")}) values (${ROW_B1}, ${ORG_A}${values.map((v) => `, ${v}`).join("")})`,
    "42501",
    denied,
    "id is not insertable: the database chooses it",
  );
  throws(
    `insert into public.${name} (organization_id, created_by${cols.map((c) => `, ${c}`).join("")}) values (${ORG_A}, ${user(2)}${values.map((v) => `, ${v}`).join("")})`,
    "42501",
    denied,
    "created_by is not insertable: it is the signed-in user",
  );
  throws(
    `update public.${name} set created_by = ${user(2)} where id = ${ROW_A2}`,
    "42501",
    denied,
    "created_by is not updatable",
  );
  throws(
    `update public.${name} set created_at = now() - interval '1 year' where id = ${ROW_A2}`,
    "42501",
    denied,
    "created_at is not updatable",
  );
  as("select pg_temp.as_service();");
  throws(
    `update public.${name} set organization_id = ${ORG_B} where id = ${ROW_A2}`,
    "42501",
    sqlString("organization_id cannot change"),
    "organization_id never changes, not even for the service (trigger)",
  );

  lines.push("", "-- R4 permissions and audit -------------------------------------------------------------");
  as("select pg_temp.as_postgres();");
  const granted: [string, string[]][] = [
    ["read", assignable ? ["owner", "admin", "manager", "viewer"] : ["owner", "admin", "manager", "member", "viewer"]],
    ["create", assignable ? ["owner", "admin", "manager", "member"] : ["owner", "admin", "manager"]],
    ["update", ["owner", "admin", "manager"]],
    ["delete", ["owner", "admin", "manager"]],
    ...(assignable
      ? ([
          ["assign", ["owner", "admin", "manager"]],
          ["work_assigned", ["member"]],
        ] as [string, string[]][])
      : []),
  ];
  for (const [action, roles] of granted) {
    is(
      `array(select r.key from public.role_permissions rp join public.roles r on r.id = rp.role_id where rp.permission = '${name}.${action}' and r.key in ('owner', 'admin', 'manager', 'member', 'viewer') order by r.rank desc)`,
      `array[${roles.map((r) => `'${r}'`).join(", ")}]`,
      `${name}.${action} is held by ${roles.join(", ")}`,
    );
  }
  as(`select pg_temp.as_uid(${user(1)});`);
  lines.push(`${insert(ORG_A)};`);
  as("select pg_temp.as_postgres();");
  is(
    `(select count(*)::int from public.audit_log where table_name = '${name}' and action = 'insert' and actor_id = ${user(1)} and organization_id = ${ORG_A})`,
    1,
    "an insert through the API is in the audit log with its actor and organization",
  );
  as(`select pg_temp.as_uid(${user(1)});`);
  is(
    `(select jsonb_agg(r ->> 'id' order by r ->> 'id') from jsonb_array_elements(public.export_organization(${ORG_A}) -> 'tables' -> '${name}') r)`,
    `(select jsonb_agg(id::text order by id::text) from public.${name})`,
    "the owner's organization export holds its rows, none of another organization (export_organization, tables)",
  );

  if (assignable) {
    lines.push("", "-- R5 assignments -------------------------------------------------------------------------");
    as(`select pg_temp.as_uid(${user(4)});`);
    lines.push(`${insert(ORG_A)};`);
    as("select pg_temp.as_postgres();");
    is(
      `(select count(*)::int from public.${assignTable} where user_id = ${user(4)})`,
      2,
      "a row a member creates is assigned to them",
    );
    as(`select pg_temp.as_uid(${user(4)});`);
    is(
      `(select string_agg(distinct r ->> 'user_id', ',') || ':' || count(*) from jsonb_array_elements(public.export_my_data() -> 'tables' -> '${assignTable}') r)`,
      `(${user(4)})::text || ':2'`,
      "the member's own export holds their two assignments, nobody else's (export_my_data, tables)",
    );
    as("select pg_temp.as_postgres();");
    as(`select pg_temp.as_uid(${user(4)});`);
    is(
      `(select count(*)::int from public.${name})`,
      2,
      "the member reads the row assigned on creation and the one assigned before",
    );
    throws(
      `select ${affected(`insert into public.${assignTable} (organization_id, user_id, ${idCol}) values (${ORG_A}, ${user(4)}, ${ROW_A2})`)}`,
      "42501",
      rls(assignTable),
      `a member cannot assign themselves (no ${name}.assign)`,
    );
    is(
      affected(`delete from public.${assignTable} where ${idCol} = ${ROW_A1}`),
      0,
      "a member cannot remove their assignment",
    );
    as(`select pg_temp.as_uid(${user(3)});`);
    is(
      affected(
        `insert into public.${assignTable} (organization_id, user_id, ${idCol}) values (${ORG_A}, ${user(4)}, ${ROW_A2})`,
      ),
      1,
      `a manager assigns a member of A to a row of A (${name}.assign)`,
    );
    throws(
      `select ${affected(`insert into public.${assignTable} (organization_id, user_id, ${idCol}) values (${ORG_A}, ${user(6)}, ${ROW_A2})`)}`,
      "23503",
      "NULL",
      "a member of another organization cannot be assigned (composite foreign key)",
    );
    throws(
      `select ${affected(`insert into public.${assignTable} (organization_id, user_id, ${idCol}) values (${ORG_B}, ${user(6)}, ${ROW_B1})`)}`,
      "42501",
      rls(assignTable),
      "a manager of A cannot assign in B",
    );
    throws(
      `select ${affected(`insert into public.${assignTable} (organization_id, user_id, ${idCol}) values (${ORG_A}, ${user(4)}, ${ROW_B1})`)}`,
      "23503",
      "NULL",
      "a row of B cannot be paired with organization A (composite foreign key)",
    );
    as(`select pg_temp.as_uid(${user(6)});`);
    is(
      `(select count(*)::int from public.${assignTable} where organization_id = ${ORG_A})`,
      0,
      "the owner of B sees no assignment of A",
    );
  }
  return { body: lines.join("\n"), count: n };
}
