/**
 * A suite's database copy plus a typed-layer handle on it: `suite.db` is
 * built before the suite's tests and closed after them; `suite.as(user, work)`
 * runs a unit of work as that user.
 */
import { afterAll, beforeAll } from "vitest";
import { createOrgDb, type OrgDb, type OrgDbOptions, type Tx } from "../../src/db.ts";
import { useTestDatabase, type TestDatabase } from "./database.ts";

export interface OrgDbSuite {
  test: TestDatabase;
  db: OrgDb;
  as<T>(user: string, work: (tx: Tx) => Promise<T>): Promise<T>;
}

export function useOrgDb(options: OrgDbOptions = { max: 2 }): OrgDbSuite {
  const suite = { test: useTestDatabase() } as OrgDbSuite;
  suite.as = (user, work) => suite.db.asUser(user, work);
  beforeAll(() => {
    suite.db = createOrgDb(suite.test.url, options);
  });
  afterAll(() => suite.db?.close());
  return suite;
}
