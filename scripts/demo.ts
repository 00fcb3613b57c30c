/**
 * npm run demo — a guided tour of the personas on the local database: what
 * each one sees, may change and is refused (with the rule), changing nothing.
 */
import { target } from "../tooling/server/config.ts";
import { main } from "../tooling/output.ts";
import { runDemo } from "./demo/tour.ts";

main(() => runDemo(target().url));
