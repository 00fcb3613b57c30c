/** The demo seed's personas for the vitest suites: ids from their one source. */
export { client, ORG, USER } from "../../tooling/build/seed-personas.ts";
