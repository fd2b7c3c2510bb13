// Reading metrics.csv (run-dir.ts appends it), for the report's per-run figures and the board, while a run
// may still be appending to it: complete lines only (a last line without its newline is being written and
// waits for the next look), and a complete line that does not fit the header is the file's error — returned
// with the rows before it, never thrown.
export interface MetricsTable {
  columns: string[];
  rows: (number | null)[][]; // null: an empty cell (a column not computed that epoch)
  error: string | null;
}

export function parseMetrics(text: string): MetricsTable {
  const end = text.lastIndexOf('\n');
  const lines = end < 0 ? [] : text.slice(0, end).split('\n');
  if (lines.length === 0) return { columns: [], rows: [], error: null };
  const columns = lines[0].split(',');
  if (columns[0] !== 'epoch') return { columns: [], rows: [], error: `metrics.csv line 1: expected a header starting with "epoch", got "${lines[0].slice(0, 60)}"` };
  const rows: (number | null)[][] = [];
  for (let i = 1; i < lines.length; i++) {
    if (!lines[i].trim()) continue;
    const cells = lines[i].split(',');
    if (cells.length !== columns.length) {
      return { columns, rows, error: `metrics.csv line ${i + 1}: ${cells.length} fields, the header has ${columns.length}` };
    }
    const row: (number | null)[] = [];
    for (let c = 0; c < cells.length; c++) {
      const v = cells[c].trim();
      if (v === '') row.push(null);
      else if (Number.isNaN(Number(v)) && v !== 'NaN') return { columns, rows, error: `metrics.csv line ${i + 1}: ${columns[c]} is "${v.slice(0, 30)}", not a number` };
      else row.push(Number(v));
    }
    rows.push(row);
  }
  return { columns, rows, error: null };
}

/** One column's values (null where empty or absent). */
export function column(t: MetricsTable, name: string): (number | null)[] {
  const i = t.columns.indexOf(name);
  return t.rows.map((r) => (i < 0 ? null : r[i]));
}
