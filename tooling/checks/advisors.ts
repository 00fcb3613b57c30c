/**
 * `supabase db advisors` (security and performance lints, as the Supabase
 * dashboard runs them) against a database URL.
 */
import { cliUrl, supabaseCli } from "../build/database.ts";
import { fail, indent } from "../output.ts";

export interface Finding {
  name: string;
  level: "INFO" | "WARN" | "ERROR";
  title: string;
  detail: string;
  remediation?: string;
}

export function runAdvisors(url: string): Finding[] {
  const result = supabaseCli([
    "db",
    "advisors",
    "--db-url",
    cliUrl(url),
    "--type",
    "all",
    "--level",
    "info",
    "--fail-on",
    "none",
  ]);
  const out = result.stdout ?? "";
  const start = out.indexOf("[");
  if (result.status !== 0 || start < 0) {
    if (/No issues found/i.test(`${out}${result.stderr}`)) return [];
    fail(`supabase db advisors failed:\n${indent(result.output)}`);
  }
  return JSON.parse(out.slice(start)) as Finding[];
}

/** Findings at warn level or above. */
export function serious(findings: Finding[]): Finding[] {
  return findings.filter((f) => f.level === "WARN" || f.level === "ERROR");
}

export function describeFindings(findings: Finding[]): string {
  return findings
    .map((f) => `${f.level} ${f.name}: ${f.detail}${f.remediation ? `\n  ${f.remediation}` : ""}`)
    .join("\n");
}
