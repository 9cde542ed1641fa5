/** Small helpers to build one self-contained HTML page (no scripts, no network). */

export const esc = (s: unknown) =>
  String(s ?? '').replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]!);

export const num = (x: number | null | undefined, digits = 4) =>
  x === null || x === undefined || Number.isNaN(x)
    ? 'n/a'
    : Number.isInteger(x)
      ? String(x)
      : Math.abs(x) < 1e-3 && x !== 0
        ? x.toExponential(2)
        : x.toFixed(digits);

/** An HTML table; cells are escaped unless given as { html }. */
export function htmlTable(header: string[], rows: (string | number | null | { html: string })[][]): string {
  const cell = (c: string | number | null | { html: string }) =>
    typeof c === 'object' && c !== null ? c.html : esc(typeof c === 'number' ? num(c) : c);
  return (
    `<table><thead><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>` +
    rows.map((r) => `<tr>${r.map((c) => `<td>${cell(c)}</td>`).join('')}</tr>`).join('') +
    '</tbody></table>'
  );
}

export const verdictBadge = (v: string) =>
  ({ html: `<span class="badge ${v === 'drift' ? 'bad' : v === 'no drift' ? 'good' : 'meh'}">${esc(v)}</span>` });

export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:0;background:#f6f7f9;color:#1d232b}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:26px;margin:0 0 4px} h2{font-size:19px;margin:28px 0 10px;border-bottom:1px solid #d8dde3;padding-bottom:4px}
.sub{color:#5b6673;margin-bottom:18px}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border:1px solid #d8dde3;border-radius:8px;padding:10px 14px;min-width:120px}
.card .k{color:#5b6673;font-size:12px;text-transform:uppercase;letter-spacing:.04em}.card .v{font-size:22px;font-weight:600}
table{border-collapse:collapse;background:#fff;border:1px solid #d8dde3;margin:6px 0 10px;font-size:14px}
th,td{padding:5px 10px;border-bottom:1px solid #eceff3;text-align:left;vertical-align:top} th{background:#eef1f5}
td{font-variant-numeric:tabular-nums}
.figs{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}.fig{background:#fff;border:1px solid #d8dde3;border-radius:8px;padding:8px}
.badge{padding:1px 8px;border-radius:10px;font-size:13px;font-weight:600}.bad{background:#fde2e1;color:#a4161a}.good{background:#e3f6e8;color:#17663a}.meh{background:#fff4d6;color:#7a5b00}
.note{color:#5b6673}
</style></head><body><main>
${body}
</main></body></html>
`;
}
