/** Plain-text tables for the demo: aligned columns, no dependency. */

/** Visible width of a string (the demo prints only single-width characters). */
const width = (text: string) => [...text].length;

const pad = (text: string, size: number) => text + " ".repeat(Math.max(0, size - width(text)));

/** Cut a text to `max` characters, ending with "…" when it was longer. */
export function clip(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join("")}…`;
}

/**
 * Rows of cells as aligned lines: every column but the last is padded to its
 * widest cell (at least `widths[i]`), columns are separated by `gap` spaces,
 * trailing spaces dropped.
 */
export function table(rows: string[][], options: { indent?: string; gap?: number; widths?: number[] } = {}): string[] {
  const indent = options.indent ?? "";
  const gap = " ".repeat(options.gap ?? 2);
  const columns = Math.max(0, ...rows.map((r) => r.length));
  const sizes = Array.from({ length: columns }, (_, i) =>
    Math.max(options.widths?.[i] ?? 0, ...rows.map((r) => width(r[i] ?? ""))),
  );
  return rows.map((row) =>
    (indent + row.map((cell, i) => (i === row.length - 1 ? cell : pad(cell, sizes[i]!))).join(gap)).trimEnd(),
  );
}

/** A heading line ruled out to `size` characters. */
export function rule(title: string, size = 100): string {
  const head = `── ${title} `;
  return head + "─".repeat(Math.max(3, size - width(head)));
}
