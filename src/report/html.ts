/**
 * The result document as one self-contained HTML page: inline CSS and script, no request to
 * anywhere (a Content-Security-Policy says so). Per step and probe, an SVG heatmap of the matrix
 * (rows sources, columns destinations) coloured by comparison class, with a legend; hovering,
 * focusing (Tab, then arrow keys) or clicking a cell shows its outcomes, the model's reason and,
 * on a live run, the command that reproduces the probe.
 */
import type { CellClass } from '../compare/classify.js';
import { CELL_CLASSES } from '../compare/classify.js';
import type { ResultDocument, ScenarioJson, StepJson } from './document.js';
import {
  classCounts,
  failingCount,
  formatCounts,
  isFailing,
  plural,
  SHOWN,
  stepGrids,
  cellPlacement,
  TITLE,
  type CellView,
  type ProbeGrid,
} from './result-view.js';

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Fill of each class, and whether its glyph is drawn light on it. */
export const CLASS_COLOR: Readonly<Record<CellClass, { fill: string; light: boolean }>> = {
  agree: { fill: '#3f9f6b', light: true },
  'expectation-contradicts-spec': { fill: '#d1293d', light: true },
  'cluster-deviates': { fill: '#ef6c1a', light: true },
  'known-deviation': { fill: '#f2c14e', light: false },
  'model-disagrees': { fill: '#7b2cbf', light: true },
  unchecked: { fill: '#c5ccd6', light: false },
  unresolvable: { fill: '#f1f3f6', light: false },
  'probe-error': { fill: '#3b3b3b', light: true },
  skipped: { fill: '#a9d1ff', light: false },
  flaky: { fill: '#ff5fa2', light: true },
};

const GLYPH = { allow: '✓', deny: '✕', unresolvable: '?' } as const;

const CELL = 22;
const CHAR = 7.4; // px per character of the 12px monospace labels
const PAD = 8;

function attrs(values: Readonly<Record<string, string | number | undefined>>): string {
  return Object.entries(values)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${escapeHtml(String(v))}"`)
    .join('');
}

function outcomeText(cell: CellView): string {
  const parts = [
    `expected ${cell.expected ?? 'nothing (unchecked)'}`,
    `model ${cell.modelled}${cell.port === undefined ? '' : ` (port ${String(cell.port)})`}`,
  ];
  if (cell.observed !== undefined) parts.push(`observed ${cell.observed}`);
  if (cell.placement !== undefined) parts.push(cell.placement);
  return parts.join(' · ');
}

function cellLabel(cell: CellView): string {
  return `${cell.probe} ${cell.from} to ${cell.to}: ${TITLE[cell.class]}; ${outcomeText(cell)}`;
}

function matrixSvg(grid: ProbeGrid, id: string): string {
  const n = grid.endpoints.length;
  const longest = Math.max(4, ...grid.endpoints.map((e) => e.length));
  const labelWidth = Math.ceil(longest * CHAR) + PAD;
  const top = Math.ceil(longest * CHAR * Math.SQRT1_2) + PAD * 2;
  const width = labelWidth + n * CELL + Math.ceil(longest * CHAR * Math.SQRT1_2) + PAD;
  const height = top + n * CELL + PAD;
  const out: string[] = [];
  out.push(
    `<svg class="matrix" id="${id}" xmlns="http://www.w3.org/2000/svg" width="${String(width)}" height="${String(height)}" viewBox="0 0 ${String(width)} ${String(height)}" role="group" aria-label="${escapeHtml(`${grid.probe}: ${String(grid.cells.length)} cells; rows are sources, columns destinations; arrow keys move between cells`)}">`,
  );
  grid.endpoints.forEach((to, c) => {
    const x = labelWidth + c * CELL + CELL / 2;
    out.push(
      `<text class="col" transform="translate(${String(x)},${String(top - 6)}) rotate(-45)">${escapeHtml(to)}</text>`,
    );
  });
  let first = true;
  grid.rows.forEach((row, r) => {
    const y = top + r * CELL;
    out.push(
      `<text class="row" x="${String(labelWidth - 6)}" y="${String(y + CELL / 2 + 4)}" text-anchor="end">${escapeHtml(grid.endpoints[r] ?? '')}</text>`,
    );
    row.forEach((cell, c) => {
      const x = labelWidth + c * CELL;
      if (cell === undefined) {
        out.push(
          `<rect class="hole" x="${String(x + 1)}" y="${String(y + 1)}" width="${String(CELL - 2)}" height="${String(CELL - 2)}"/>`,
        );
        return;
      }
      const color = CLASS_COLOR[cell.class];
      out.push(
        `<g class="cell${isFailing(cell.class) ? ' failing' : ''}" tabindex="${first ? '0' : '-1'}" role="button"${attrs(
          {
            'aria-label': cellLabel(cell),
            'data-r': r,
            'data-c': c,
            'data-class': cell.class,
            'data-title': `${cell.probe}  ${cell.from} → ${cell.to}`,
            'data-kind': TITLE[cell.class],
            'data-outcome': outcomeText(cell),
            'data-why':
              cell.explanation ??
              'not in this document: it lists the notable cells only (write it with --report json=FILE for every cell)',
            'data-detail': cell.detail,
            'data-repro': cell.reproduce,
          },
        )}><rect x="${String(x + 1)}" y="${String(y + 1)}" width="${String(CELL - 2)}" height="${String(CELL - 2)}" rx="3" fill="${color.fill}"/><text x="${String(x + CELL / 2)}" y="${String(y + CELL / 2 + 4)}" text-anchor="middle" class="${color.light ? 'light' : 'dark'}">${GLYPH[cell.modelled]}</text></g>`,
      );
      first = false;
    });
  });
  out.push('</svg>');
  return out.join('\n');
}

function legend(step: StepJson): string {
  const items = classCounts(step.summary).map(
    ([cls, n]) =>
      `<li><span class="swatch" style="background:${CLASS_COLOR[cls].fill}"></span>${escapeHtml(TITLE[cls])} <span class="n">${String(n)}</span></li>`,
  );
  return `<ul class="legend" aria-label="legend">${items.join('')}<li class="glyphs">glyph: the model's verdict, ✓ allow, ✕ deny, ? unresolvable</li></ul>`;
}

function cellsTable(step: StepJson, nodes: Readonly<Record<string, string>> | undefined): string {
  const cells = SHOWN.flatMap((cls) => step.cells.filter((c) => c.class === cls));
  if (cells.length === 0) return '';
  const live = cells.some((c) => c.observed !== undefined);
  const where = (c: (typeof cells)[number]): string => {
    const placement = cellPlacement(nodes, c.from, c.to)?.placement;
    return placement === undefined
      ? ''
      : `<br><span class="detail">${escapeHtml(placement)}</span>`;
  };
  const rows = cells.map(
    (c) =>
      `<tr class="${escapeHtml(c.class)}"><td><code>${escapeHtml(c.probe)}</code></td><td><code>${escapeHtml(c.from)}</code></td><td><code>${escapeHtml(c.to)}</code></td><td>${escapeHtml(c.expected ?? '—')}</td><td>${escapeHtml(c.modelled)}</td>${live ? `<td>${escapeHtml(c.observed ?? '—')}${where(c)}</td>` : ''}<td>${escapeHtml(TITLE[c.class])}</td><td>${escapeHtml(c.explanation)}${c.detail === undefined ? '' : `<br><span class="detail">${escapeHtml(c.detail)}</span>`}${c.reproduce === undefined ? '' : `<br><code class="repro">${escapeHtml(c.reproduce)}</code>`}</td></tr>`,
  );
  return `<details open><summary>${plural(cells.length, 'cell')} to read</summary><table class="cells"><thead><tr><th>probe</th><th>from</th><th>to</th><th>expected</th><th>model</th>${live ? '<th>observed</th>' : ''}<th>class</th><th>why</th></tr></thead><tbody>${rows.join('')}</tbody></table></details>`;
}

/** Flows whose IP families were decided differently (dual-stack steps). */
function familyTable(step: StepJson): string {
  const notes = step.familyNotes ?? [];
  if (notes.length === 0) return '';
  const rows = notes.map(
    (n) =>
      `<tr class="families"><td><code>${escapeHtml(n.probe)}</code></td><td><code>${escapeHtml(n.from)}</code></td><td><code>${escapeHtml(n.to)}</code></td><td>${escapeHtml(n.note)}</td></tr>`,
  );
  return `<details open><summary>${plural(notes.length, 'flow')} whose IP families were decided differently</summary><table class="cells families"><thead><tr><th>probe</th><th>from</th><th>to</th><th>families</th></tr></thead><tbody>${rows.join('')}</tbody></table></details>`;
}

/** Held connections, apart from the matrices (they have no spec verdict). */
function heldTable(step: StepJson): string {
  const held = step.held ?? [];
  if (held.length === 0) return '';
  const rows = held.map(
    (h) =>
      `<tr class="held ${escapeHtml(h.class)}"><td><code>${escapeHtml(h.probe)}</code></td><td><code>${escapeHtml(h.from)}</code></td><td><code>${escapeHtml(h.to)}</code></td><td>${escapeHtml(h.expected ?? '—')}</td><td>${escapeHtml(h.observed ?? 'not checkable offline')}</td><td>${escapeHtml(h.class)}</td><td>${escapeHtml(h.freshModelled ?? '—')}</td><td>${escapeHtml(h.detail ?? '')}</td></tr>`,
  );
  return `<details open><summary>${plural(held.length, 'held connection')}: opened before the actions, used again after them</summary><table class="cells held"><thead><tr><th>probe</th><th>from</th><th>to</th><th>expected</th><th>observed</th><th>class</th><th>fresh connection (spec)</th><th>client</th></tr></thead><tbody>${rows.join('')}</tbody></table></details>`;
}

function stepSection(
  step: StepJson,
  s: number,
  total: number,
  nodes: Readonly<Record<string, string>> | undefined,
): string {
  const timing = step.timing;
  const facts = [formatCounts(step.summary)];
  if (timing?.timeToEnforceMs !== undefined)
    facts.push(`time to enforce ${(timing.timeToEnforceMs / 1000).toFixed(1)} s`);
  const matrices = stepGrids(step, nodes)
    .map(
      (grid, p) =>
        `<figure><figcaption>${escapeHtml(grid.probe)}</figcaption>${matrixSvg(grid, `m${String(s)}-${String(step.index)}-${String(p)}`)}</figure>`,
    )
    .join('\n');
  return `<section class="step"><h3>Step ${String(step.index + 1)}/${String(total)} ${escapeHtml(step.name)}</h3><p>${escapeHtml(facts.join('; '))}</p>${legend(step)}<div class="matrices">${matrices}</div>${cellsTable(step, nodes)}${familyTable(step)}${heldTable(step)}</section>`;
}

function scenarioSection(scenario: ScenarioJson, s: number): string {
  const ok = failingCount(scenario.summary) === 0;
  return `<section class="scenario" id="scenario-${String(s)}"><h2><span class="badge ${ok ? 'pass' : 'fail'}">${ok ? 'PASS' : 'FAIL'}</span> ${escapeHtml(scenario.name)} <code>${escapeHtml(scenario.file)}</code></h2><p>${escapeHtml(formatCounts(scenario.summary))}</p>${scenario.steps.map((step) => stepSection(step, s, scenario.steps.length, scenario.live?.nodes)).join('\n')}</section>`;
}

const CSS = `
:root{color-scheme:light;--fg:#1d232b;--muted:#5b6673;--line:#d9dee5}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);margin:0;padding:24px 32px;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 4px;border-top:1px solid var(--line);padding-top:16px}h3{font-size:15px;margin:20px 0 4px}
code,.matrix text{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace}
code{font-size:12.5px;background:#f3f5f8;padding:1px 4px;border-radius:3px}
h2 code{font-weight:normal;color:var(--muted)}
.badge{display:inline-block;font-size:12px;font-weight:700;padding:2px 8px;border-radius:10px;color:#fff;vertical-align:2px}
.badge.pass{background:#2f8a57}.badge.fail{background:#c62336}
nav ul{list-style:none;padding:0;margin:8px 0;display:flex;flex-wrap:wrap;gap:6px 16px}
nav a{color:inherit}
.legend{list-style:none;padding:0;margin:6px 0 10px;display:flex;flex-wrap:wrap;gap:4px 16px;color:var(--muted);font-size:13px}
.legend .swatch{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:5px;vertical-align:-1px;border:1px solid rgba(0,0,0,.15)}
.legend .n{font-weight:600;color:var(--fg)}
.matrices{display:flex;flex-wrap:wrap;gap:8px 28px;align-items:flex-start}
figure{margin:0}figcaption{font-weight:600;font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:13px}
.matrix text.row,.matrix text.col{font-size:12px;fill:#39424e}
.matrix text.light{fill:#fff;font-size:12px;pointer-events:none}.matrix text.dark{fill:#27303a;font-size:12px;pointer-events:none}
.matrix .hole{fill:none;stroke:#e3e6ea;stroke-dasharray:2 2}
.matrix .cell{cursor:pointer;outline:none}
.matrix .cell.failing rect{stroke:#1d232b;stroke-width:1.5}
.matrix .cell:hover rect,.matrix .cell:focus rect,.matrix .cell.pinned rect{stroke:#000;stroke-width:3}
table.cells{border-collapse:collapse;margin:6px 0 8px;font-size:13px}
table.cells th,table.cells td{border:1px solid var(--line);padding:3px 8px;text-align:left;vertical-align:top}
table.cells th{background:#f6f7f9}
table.held tr.disagree td{background:#fde8ea}table.held tr.agree td{background:#eaf6ef}
details summary{cursor:pointer;color:var(--muted);margin-top:6px}
.detail{color:var(--muted)}
#tip{position:fixed;z-index:10;max-width:460px;background:#1d232b;color:#fff;padding:8px 10px;border-radius:6px;font-size:13px;box-shadow:0 4px 16px rgba(0,0,0,.25);pointer-events:none}
#tip[hidden]{display:none}
#tip .t{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-weight:600}
#tip .k{margin:2px 0;color:#ffd479}
#tip .why{margin-top:4px}
#tip code{display:block;margin-top:4px;background:#2d3540;color:#fff;white-space:pre-wrap}
footer{margin-top:40px;color:var(--muted);font-size:12px}
`;

const SCRIPT = `
(function () {
  'use strict';
  var tip = document.getElementById('tip');
  var pinned = null;
  function line(cls, text, tag) {
    var el = document.createElement(tag || 'div');
    el.className = cls;
    el.textContent = text;
    tip.appendChild(el);
  }
  function show(cell) {
    var d = cell.dataset;
    tip.textContent = '';
    line('t', d.title);
    line('k', d.kind);
    line('o', d.outcome);
    line('why', d.why);
    if (d.detail) line('detail', 'probe: ' + d.detail);
    if (d.repro) line('repro', d.repro, 'code');
    tip.hidden = false;
    var box = cell.getBoundingClientRect();
    var w = tip.offsetWidth, h = tip.offsetHeight;
    var x = Math.min(box.right + 8, window.innerWidth - w - 8);
    var y = box.bottom + 8 + h > window.innerHeight ? box.top - h - 8 : box.bottom + 8;
    tip.style.left = Math.max(8, x) + 'px';
    tip.style.top = Math.max(8, y) + 'px';
  }
  function hide() {
    tip.hidden = true;
  }
  function unpin() {
    if (pinned) pinned.classList.remove('pinned');
    pinned = null;
  }
  function pin(cell) {
    var again = pinned === cell;
    unpin();
    if (again) return;
    pinned = cell;
    cell.classList.add('pinned');
    show(cell);
  }
  var MOVES = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
  Array.prototype.forEach.call(document.querySelectorAll('svg.matrix'), function (svg) {
    var cells = svg.querySelectorAll('.cell');
    var at = {};
    var size = 0;
    Array.prototype.forEach.call(cells, function (c) {
      at[c.dataset.r + ',' + c.dataset.c] = c;
      size = Math.max(size, +c.dataset.r + 1, +c.dataset.c + 1);
    });
    function target(e) {
      return e.target && e.target.closest ? e.target.closest('.cell') : null;
    }
    svg.addEventListener('mouseover', function (e) {
      var c = target(e);
      if (c && !pinned) show(c);
    });
    svg.addEventListener('mouseleave', function () {
      if (!pinned) hide();
    });
    svg.addEventListener('focusin', function (e) {
      var c = target(e);
      if (!c) return;
      if (pinned && pinned !== c) unpin();
      show(c);
    });
    svg.addEventListener('focusout', function () {
      if (!pinned) hide();
    });
    svg.addEventListener('click', function (e) {
      var c = target(e);
      if (c) {
        c.focus();
        pin(c);
      }
    });
    svg.addEventListener('keydown', function (e) {
      var c = target(e);
      if (!c) return;
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        pin(c);
        return;
      }
      if (e.key === 'Escape') {
        unpin();
        hide();
        return;
      }
      var m = MOVES[e.key];
      if (!m) return;
      e.preventDefault();
      var r = +c.dataset.r, k = +c.dataset.c;
      for (var i = 0; i < size; i++) {
        r += m[0];
        k += m[1];
        if (r < 0 || k < 0 || r >= size || k >= size) return;
        var next = at[r + ',' + k];
        if (next) {
          c.setAttribute('tabindex', '-1');
          next.setAttribute('tabindex', '0');
          next.focus();
          return;
        }
      }
    });
  });
  document.addEventListener('keydown', function (e) {
    if (e.key === 'Escape') {
      unpin();
      hide();
    }
  });
})();
`;

export function renderHtml(doc: ResultDocument): string {
  const command = doc.kind === 'RunResult' ? 'run' : 'check';
  const passed = failingCount(doc.summary) === 0;
  const verdict = passed ? 'agree' : 'disagree';
  const facts = [
    plural(doc.summary.scenarios, 'scenario'),
    plural(doc.summary.steps, 'step'),
    formatCounts(doc.summary),
  ];
  const cluster =
    doc.cluster === undefined
      ? ''
      : `<p>Cluster: ${Object.entries(doc.cluster)
          .filter(([, v]) => v !== undefined)
          .map(
            ([k, v]) =>
              `${escapeHtml(k)} <code>${escapeHtml(typeof v === 'string' ? v : JSON.stringify(v))}</code>`,
          )
          .join(', ')}</p>`;
  const nav =
    doc.scenarios.length > 1
      ? `<nav aria-label="scenarios"><ul>${doc.scenarios
          .map(
            (s, i) =>
              `<li><a href="#scenario-${String(i)}"><span class="badge ${failingCount(s.summary) === 0 ? 'pass' : 'fail'}">${failingCount(s.summary) === 0 ? 'PASS' : 'FAIL'}</span> ${escapeHtml(s.name)}</a></li>`,
          )
          .join('')}</ul></nav>`
      : '';
  const footer = [
    doc.generator ? `${doc.generator.name} ${doc.generator.version}` : 'polygraph',
    doc.generatedAt ? `generated ${doc.generatedAt}` : '',
    doc.startedAt ? `run started ${doc.startedAt}` : '',
    `classes: ${CELL_CLASSES.join(', ')}`,
  ].filter((t) => t !== '');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<link rel="icon" href="data:,">
<title>polygraph ${command}: ${verdict}</title>
<style>${CSS}</style>
</head>
<body>
<header><h1>polygraph ${command}: <span class="badge ${passed ? 'pass' : 'fail'}">${verdict}</span></h1><p>${escapeHtml(facts.join(', '))}</p>${cluster}<p class="detail">Each matrix: rows are sources, columns destinations, one cell per probe of a step, coloured by how expectation, model${doc.kind === 'RunResult' ? ' and cluster' : ''} compare. Hover, click or focus a cell (Tab, then arrow keys; Enter pins, Escape closes) for its outcome and the model's reason.</p>${nav}</header>
<main>
${doc.scenarios.map(scenarioSection).join('\n')}
</main>
<div id="tip" role="tooltip" hidden></div>
<footer>${escapeHtml(footer.join(' · '))}</footer>
<script>${SCRIPT}</script>
</body>
</html>
`;
}
