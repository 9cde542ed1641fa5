/* mlops ui: five pages over the JSON endpoints; charts are the server's Vega-Lite specs. */
'use strict';

const $ = (sel) => document.querySelector(sel);

/** h('td', {class: 'x'}, 'text', child): an element; strings become text nodes (never HTML). */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

const num = (x, d = 4) => (x === null || x === undefined || Number.isNaN(x) ? 'n/a' : Number.isInteger(x) ? String(x) : Math.abs(x) < 1e-3 && x !== 0 ? x.toExponential(2) : x.toFixed(d));
const when = (t) => (t ? new Date(t).toLocaleString() : 'n/a');
const badge = (v) => h('span', { class: `badge ${v === 'drift' || v === 'alert' || v === true ? 'bad' : v === 'no drift' || v === 'within band' || v === false ? 'good' : 'meh'}` }, typeof v === 'boolean' ? (v ? 'drift' : 'no drift') : v);
const card = (k, v, s) => h('div', { class: 'card' }, h('div', { class: 'k' }, k), h('div', { class: 'v' }, v), s ? h('div', { class: 's' }, s) : null);

async function getJson(path) {
  const r = await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } });
  const body = await r.json().catch(() => ({ error: `${r.status} ${r.statusText}` }));
  if (!r.ok) throw Object.assign(new Error(body.error || r.statusText), { hint: body.hint, status: r.status });
  return body;
}

async function postJson(path, body) {
  const r = await fetch(path, { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body || {}) });
  const out = await r.json().catch(() => ({ error: `${r.status} ${r.statusText}` }));
  if (!r.ok) throw Object.assign(new Error(out.error || r.statusText), { hint: out.hint, status: r.status });
  return out;
}

function toast(text, error) {
  const t = $('#toast');
  t.textContent = text;
  t.className = error ? 'error' : '';
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (t.hidden = true), error ? 9000 : 5000);
}

/** A chart from a Vega-Lite spec, drawn as SVG. */
function chart(spec) {
  const el = h('div', { class: 'fig chart' });
  if (spec) vegaEmbed(el, spec, { renderer: 'svg', actions: false, ast: true }).catch((err) => el.append(h('p', { class: 'note' }, `chart failed: ${err.message}`)));
  return el;
}

/** The confirmation dialog; resolves to {ok, force}. */
function confirmAction(title, text, withForce) {
  const d = $('#confirm');
  $('#confirm-title').textContent = title;
  $('#confirm-text').textContent = text;
  $('#confirm-force-row').hidden = !withForce;
  $('#confirm-force').checked = false;
  return new Promise((resolve) => {
    d.addEventListener('close', () => resolve({ ok: d.returnValue === 'ok', force: $('#confirm-force').checked }), { once: true });
    d.returnValue = '';
    d.showModal();
  });
}

async function promoteVersion(name) {
  const c = await confirmAction(`Promote ${name} to champion?`, `Production will serve ${name}: an atomic release, through the promotion gate unless you override it.`, true);
  if (!c.ok) return;
  try {
    const r = await postJson('/api/promote', { version: name, force: c.force });
    toast(r.changed ? `${r.name} is champion now (release ${r.release}${r.forced ? ', forced' : ''})` : `${r.name} was already champion`);
  } catch (err) {
    toast(`${err.message}${err.status === 409 && /gate|worse|better/i.test(err.message) ? ' (tick "override the promotion gate" to force it)' : ''}`, true);
  }
  route();
}

async function rollbackChampion() {
  const c = await confirmAction('Roll back the champion?', 'The previous champion becomes champion again.', false);
  if (!c.ok) return;
  try {
    const r = await postJson('/api/rollback', {});
    toast(`rolled back: v${String(r.to_version).padStart(4, '0')} is champion again`);
  } catch (err) {
    toast(err.message, true);
  }
  route();
}

// ---- pages

function dataDriftCard(d) {
  if (!d) return card('data drift', 'n/a', 'nothing deployed');
  if (d.status === 'same data') return card('data drift', 'nothing to compare', 'the current data is the training data');
  if (d.status === 'computing') return card('data drift', 'computing...', 'profiling the new data in the background');
  return card('data drift', `${d.drifted} of ${d.features}`, d.datasetDrift ? 'dataset drift' : 'no dataset drift');
}

/** The overview's live cards: throughput, latency, the champion's latest CBPE chunk; or why there are none. */
function liveCards(lv) {
  if (!lv) return [];
  if (lv.no_traffic) return [card('live traffic', 'none yet', 'no live traffic yet: `mlops serve` logs every prediction')];
  const out = [];
  const t = lv.throughput;
  if (t) out.push(card('throughput', `${num(t.predictions_per_s, 1)} predictions/s`, `${num(t.requests_per_s, 1)} requests/s · the ${t.seconds} s to ${when(t.to)}`));
  else out.push(card('throughput', lv.computing ? 'computing...' : 'n/a', lv.computing ? 'summarising the prediction log' : 'not summarised yet'));
  const p = lv.latency.prediction;
  out.push(p
    ? card('/prediction latency', `p50 ${num(p.p50_ms, 2)} ms`, `p95 ${num(p.p95_ms, 2)} ms · p99 ${num(p.p99_ms, 2)} ms · ${p.requests} requests`)
    : card('/prediction latency', 'n/a', lv.latency.answering ? 'the server has served no predictions yet' : `no server answers at ${lv.latency.server}`));
  const f = lv.performance;
  if (f && f.chunk) {
    const c = f.chunk;
    out.push(card(`${f.version} ${f.metric}, latest chunk`, h('span', {}, `estimated ${num(c.estimated, 3)} `, badge(c.alert ? 'alert' : 'within band')),
      `realized ${c.realized === null ? `n/a (${c.labelled} of ${c.rows} labelled)` : num(c.realized, 3)} · band ${num(c.lower, 3)} to ${num(c.upper, 3)} · from ${when(c.time)}`));
  } else if (f) out.push(card(`${f.version} ${f.metric}`, 'n/a', f.note || 'no estimate yet'));
  return out;
}

function alertList(alerts) {
  return alerts.length ? h('ul', { class: 'alerts', id: 'alerts' }, alerts.map((a) => h('li', { class: a.level }, a.text))) : h('p', { class: 'note', id: 'alerts' }, 'None.');
}

async function overviewPage(root) {
  const o = await getJson('/api/overview');
  const mine = generation;
  root.append(h('h1', {}, 'Overview'));
  const ch = o.champion;
  root.append(
    h('div', { class: 'cards' },
      card('champion', ch ? ch.name : 'none', ch ? `${o.metric} ${num(ch.value)} · release ${ch.release} · ${when(ch.deployed)}` : 'run `mlops run`'),
      card('challenger', o.challenger ? o.challenger.name : 'none', o.challenger ? `${o.metric} ${num(o.challenger.value)}` : ''),
      card('versions', String(o.versions), o.direction),
      card('last run', o.last_run ? o.last_run.decision : 'none', o.last_run ? `${when(o.last_run.started)} · ${num(o.last_run.seconds, 2)} s` : ''),
      card('model drift', o.model_drift ? (o.model_drift.drift ? 'drift' : 'no drift') : 'n/a', o.model_drift ? `${o.model_drift.metric} ${num(o.model_drift.new_score)}` : ''),
      dataDriftCard(o.data_drift),
    ),
  );
  if (o.last_run) root.append(h('p', { class: 'note' }, `Last run: ${o.last_run.reason}`));
  // the live cards: while their summary is computed in the background, asked for again alone
  const base = o.alerts.filter((a) => a.source !== 'live');
  const live = h('div', { id: 'overview-live' });
  const alerts = alertList(o.alerts);
  const showLive = (lv) => {
    live.replaceChildren(h('h2', {}, 'Live'), h('div', { class: 'cards' }, liveCards(lv)));
    if (lv && lv.computing) live.append(h('p', { class: 'note', id: 'overview-computing' }, 'Summarising the prediction log and the labels in the background; these cards refresh when done.'));
  };
  showLive(o.live);
  root.append(live, h('h2', {}, 'Open alerts'), alerts);
  const poll = () => setTimeout(async () => {
    if (mine !== generation) return;
    try {
      const lv = await getJson('/api/overview/live');
      if (mine !== generation) return;
      showLive(lv);
      root.querySelector('#alerts').replaceWith(alertList([...base, ...lv.alerts]));
      if (lv.computing) poll();
    } catch (err) {
      toast(`live cards: ${err.message}`, true);
    }
  }, 2000);
  if (o.live && o.live.computing) poll();
  if (ch) root.append(h('div', { class: 'controls' }, h('button', { class: 'danger', id: 'rollback', onclick: rollbackChampion }, 'Roll back to the previous champion')));
  root.append(h('h2', {}, 'Score history'), h('div', { class: 'figs' }, chart(o.charts.scores)));
  if (ch) {
    const figs = h('div', { class: 'figs' }, h('p', { class: 'note' }, 'Scoring the champion on the test set...'));
    root.append(h('h2', {}, `${ch.name} on the test set`), figs);
    const c = await getJson('/api/curves');
    figs.replaceChildren(...(c.charts ? [chart(c.charts.roc), chart(c.charts.pr), chart(c.charts.calibration)] : [h('p', { class: 'note' }, 'Regression model: no ROC, PR or calibration curves.')]));
  }
}

const modelsState = { sort: 'version', order: 'desc', q: '', offset: 0, limit: 50, selected: new Set() };

async function modelsPage(root) {
  const s = modelsState;
  const qs = new URLSearchParams({ sort: s.sort, order: s.order, q: s.q, offset: String(s.offset), limit: String(s.limit) });
  const m = await getJson(`/api/models?${qs}`);
  root.append(h('h1', {}, 'Models'));
  const filter = h('input', { type: 'search', id: 'filter', placeholder: 'filter: version, type, alias, tag, note', value: s.q });
  filter.addEventListener('change', () => { s.q = filter.value; s.offset = 0; route(); });
  const compareBtn = h('button', { id: 'compare', disabled: s.selected.size < 2, onclick: () => compareSelected(root) }, `Compare selected (${s.selected.size})`);
  root.append(
    h('div', { class: 'controls' }, filter,
      h('span', { class: 'note' }, `${m.matched} of ${m.total} versions · showing ${m.matched ? m.offset + 1 : 0}-${Math.min(m.offset + m.limit, m.matched)}`),
      h('button', { disabled: s.offset === 0, onclick: () => { s.offset = Math.max(0, s.offset - s.limit); route(); } }, 'Previous'),
      h('button', { disabled: s.offset + s.limit >= m.matched, onclick: () => { s.offset += s.limit; route(); } }, 'Next'),
      compareBtn),
  );
  const sortBy = (key) => () => { s.order = s.sort === key && s.order === 'desc' ? 'asc' : 'desc'; s.sort = key; s.offset = 0; route(); };
  const arrow = (key) => (s.sort === key ? (s.order === 'desc' ? ' ▼' : ' ▲') : '');
  const head = h('tr', {}, h('th', {}, ''),
    h('th', { class: 'sortable', onclick: sortBy('version') }, `version${arrow('version')}`),
    h('th', { class: 'sortable', onclick: sortBy('created') }, `created${arrow('created')}`),
    h('th', {}, 'type'),
    h('th', { class: 'sortable', onclick: sortBy('rows') }, `training rows${arrow('rows')}`),
    h('th', { class: 'sortable', onclick: sortBy('metric') }, `${m.metric}${arrow('metric')}`),
    h('th', {}, 'aliases'), h('th', {}, 'tags, note'), h('th', {}, ''));
  const rows = m.models.map((r) => {
    const box = h('input', { type: 'checkbox', 'data-version': r.name, checked: s.selected.has(r.name) });
    box.addEventListener('change', () => {
      if (box.checked) s.selected.add(r.name); else s.selected.delete(r.name);
      compareBtn.textContent = `Compare selected (${s.selected.size})`;
      compareBtn.disabled = s.selected.size < 2;
    });
    const champion = r.aliases.includes('champion');
    return h('tr', { 'data-version': r.name }, h('td', {}, box), h('td', {}, r.name), h('td', {}, when(r.created)), h('td', {}, r.model_type), h('td', {}, String(r.training_rows)),
      h('td', {}, num(r.value)), h('td', {}, r.aliases.map((a) => h('span', { class: 'alias' }, a))),
      h('td', {}, [Object.entries(r.tags).map(([k, v]) => `${k}=${v}`).join(', '), r.note || ''].filter(Boolean).join(' · ')),
      h('td', {}, champion ? '' : h('button', { class: 'promote', 'data-version': r.name, onclick: () => promoteVersion(r.name) }, 'Promote')));
  });
  root.append(h('table', { id: 'models' }, h('thead', {}, head), h('tbody', {}, rows)));
  root.append(h('div', { id: 'comparison' }));
  root.append(h('h2', {}, `${m.metric} across versions`), h('div', { class: 'figs' }, chart(m.charts.metric)));
}

async function compareSelected(root) {
  const out = root.querySelector('#comparison');
  out.replaceChildren(h('p', { class: 'note' }, 'Comparing (versions not yet scored on the current test set are scored now)...'));
  try {
    const c = await getJson(`/api/compare?versions=${[...modelsState.selected].join(',')}`);
    out.replaceChildren(
      h('h2', {}, `Compare ${c.versions.join(', ')}`),
      h('table', { id: 'compare-table' },
        h('thead', {}, h('tr', {}, h('th', {}, 'field'), c.versions.map((v) => h('th', {}, v)))),
        h('tbody', {}, c.rows.map((r) => h('tr', { class: r.differs ? 'differs' : '' }, h('td', {}, r.field),
          r.values.map((v, i) => h('td', {}, typeof v === 'number' ? num(v) : String(v ?? 'n/a'), r.differences && i > 0 && r.differences[i] !== 0 ? ` (${r.differences[i] > 0 ? '+' : ''}${num(r.differences[i])})` : '')))))),
      h('p', { class: 'note' }, 'Highlighted rows differ; numbers in brackets are differences against the first version.'),
    );
  } catch (err) {
    out.replaceChildren(h('p', { class: 'note' }, `compare failed: ${err.message}`));
  }
}

async function driftPage(root) {
  root.append(h('h1', {}, 'Data drift'));
  const wait = h('p', { class: 'note' }, 'Loading (the first view of a new data file computes its histograms once)...');
  root.append(wait);
  const d = await getJson('/api/drift');
  const mine = generation;
  if (d.computing) {
    wait.id = 'drift-computing';
    wait.textContent = 'Computing the histograms of the new data once, in the background; this page refreshes when done.';
    setTimeout(() => { if (mine === generation && location.hash.startsWith('#/drift')) route(); }, 2000);
    return;
  }
  wait.remove();
  root.append(h('p', {}, `Reference: ${d.reference.file} (${d.reference.rows} rows). Current: ${d.current ? `${d.current.file} (${d.current.rows} rows)` : 'none'}.`));
  if (d.same_data) root.append(h('p', { class: 'note' }, 'The current data is the deployed training data itself: nothing to compare.'));
  if (d.summary) {
    root.append(h('div', { class: 'cards' },
      card('drifted features', `${d.summary.drifted} of ${d.summary.features}`, `threshold ${Math.round(d.summary.threshold * 100)}% of features`),
      card('dataset drift', d.summary.dataset_drift ? 'yes' : 'no', `computed ${when(d.summary.computed)}`),
      d.model_drift ? card('model drift', d.model_drift.drift ? 'drift' : 'no drift', `${d.model_drift.metric} ${num(d.model_drift.new_score)}`) : null));
  }
  if (d.model_drift && d.model_drift.tests.length) {
    root.append(h('h2', {}, 'Model drift'), h('table', {}, h('thead', {}, h('tr', {}, ['test', 'threshold', 'verdict', 'detail'].map((t) => h('th', {}, t)))),
      h('tbody', {}, d.model_drift.tests.map((t) => h('tr', {}, h('td', {}, t.test), h('td', {}, num(t.threshold)), h('td', {}, badge(t.verdict)), h('td', {}, t.detail))))));
  }
  root.append(h('h2', {}, 'Per feature'));
  root.append(h('table', { id: 'features' },
    h('thead', {}, h('tr', {}, ['feature', 'kind', 'test', 'statistic', 'p-value', 'PSI', 'W / sd', 'mean ref → cur', 'verdict', 'reason'].map((t) => h('th', {}, t)))),
    h('tbody', {}, d.features.map((f) => h('tr', {}, h('td', {}, f.feature), h('td', {}, f.kind), h('td', {}, f.drift ? f.drift.test : ''), h('td', {}, num(f.drift && f.drift.statistic)),
      h('td', {}, num(f.drift && f.drift.pValue)), h('td', {}, num(f.drift && f.drift.psi)), h('td', {}, num(f.drift && f.drift.wassersteinNorm)),
      h('td', {}, f.kind === 'numeric' ? `${num(f.reference.mean, 3)} → ${f.current ? num(f.current.mean, 3) : 'n/a'}` : ''),
      h('td', {}, f.drift ? badge(f.drift.verdict) : ''), h('td', {}, f.drift ? f.drift.reason : ''))))));
  root.append(h('div', { class: 'figs', id: 'distributions' }, d.features.map((f) => chart(f.chart))));
  root.append(h('h2', {}, 'Drift over time'));
  root.append(d.charts.history ? h('div', { class: 'figs' }, chart(d.charts.history)) : h('p', { class: 'note' }, 'No drift recorded yet.'));
}

async function runsPage(root) {
  const r = await getJson('/api/runs?limit=100');
  root.append(h('h1', {}, 'Runs'));
  root.append(h('div', { class: 'cards' }, card('runs', String(r.total)), Object.entries(r.decisions).map(([k, v]) => card(k, String(v)))));
  root.append(h('h2', {}, 'Step timings'), r.charts.steps ? h('div', { class: 'figs' }, chart(r.charts.steps)) : h('p', { class: 'note' }, 'No runs yet: `mlops run`.'));
  root.append(h('h2', {}, `Recent runs (newest first, ${r.runs.length} shown)`));
  root.append(h('table', { id: 'runs' },
    h('thead', {}, h('tr', {}, ['started', 'seconds', 'decision', 'reason', 'new files', 'candidate', 'release', 'steps'].map((t) => h('th', {}, t)))),
    h('tbody', {}, r.runs.map((x) => h('tr', {}, h('td', {}, when(x.started)), h('td', {}, num(x.seconds, 2)), h('td', {}, x.decision), h('td', {}, x.reason),
      h('td', {}, String(x.new_files)), h('td', {}, x.candidate ? `v${String(x.candidate).padStart(4, '0')}` : ''), h('td', {}, x.release || ''),
      h('td', {}, x.steps.map((s) => `${s.step} ${num(s.seconds, 2)}s${s.outcome !== 'ok' ? ` (${s.outcome})` : ''}`).join(', ')))))));
}

const pct = (x) => `${Math.round(x * 1000) / 10}%`;
const decisionText = { continue: 'no difference yet', challenger_better: 'challenger better', challenger_worse: 'challenger worse' };

async function startExperiment(form) {
  const challenger = form.querySelector('#exp-challenger').value;
  const mode = form.querySelector('#exp-mode').value;
  const traffic = Number(form.querySelector('#exp-traffic').value);
  const what = mode === 'shadow' ? `${challenger} scores every request beside the champion, which keeps answering.` : `${challenger} answers ${pct(traffic)} of requests (chosen by a hash of the request id).`;
  const c = await confirmAction(`Start a ${mode} experiment with ${challenger}?`, what, false);
  if (!c.ok) return;
  try {
    const e = await postJson('/api/experiment/start', mode === 'canary' ? { challenger, mode, traffic } : { challenger, mode });
    toast(`experiment ${e.id} started: ${e.challenger} (${e.mode})`);
  } catch (err) {
    toast(err.message, true);
  }
  route();
}

async function stopExperiment(e) {
  const c = await confirmAction(`Stop the experiment with ${e.challenger}?`, 'The server goes back to the champion alone; the verdict as it stands is recorded.', false);
  if (!c.ok) return;
  try {
    const r = await postJson('/api/experiment/stop', {});
    toast(`experiment ${r.experiment.id} stopped: ${decisionText[r.decision] || r.decision}`);
  } catch (err) {
    toast(err.message, true);
  }
  route();
}

function experimentControls(l) {
  const e = l.experiment;
  if (e && e.status === 'running') return h('div', { class: 'controls' }, h('button', { class: 'danger', id: 'exp-stop', onclick: () => stopExperiment(e) }, 'Stop the experiment'));
  const traffic = h('input', { type: 'number', id: 'exp-traffic', min: '0.01', max: '1', step: '0.01', value: '0.1', disabled: true });
  const mode = h('select', { id: 'exp-mode' }, h('option', { value: 'shadow' }, 'shadow'), h('option', { value: 'canary' }, 'canary'));
  mode.addEventListener('change', () => (traffic.disabled = mode.value !== 'canary'));
  const form = h('form', { class: 'controls', id: 'exp-form' },
    h('label', {}, 'challenger ', h('select', { id: 'exp-challenger' }, l.challengers.map((v) => h('option', { value: v }, v)))),
    h('label', {}, 'mode ', mode),
    h('label', {}, 'canary traffic share ', traffic),
    h('button', { class: 'primary', id: 'exp-start', type: 'submit', disabled: !l.challengers.length || !l.champion }, 'Start an experiment'));
  form.addEventListener('submit', (ev) => { ev.preventDefault(); startExperiment(form); });
  return form;
}

async function livePage(root) {
  const l = await getJson('/api/live');
  const mine = generation;
  root.append(h('h1', {}, 'Live'));
  const e = l.experiment;
  const v = l.verdict;
  const pred = l.latency.rows.find((r) => r.what === '/prediction');
  const s = l.summary;
  root.append(h('div', { class: 'cards' },
    card('experiment', e ? `${e.challenger} vs ${e.champion || 'champion'}` : 'none', e ? `${e.mode}${e.mode === 'canary' ? ` · ${pct(e.traffic)} of traffic` : ''} · ${e.status} since ${when(e.status === 'running' ? e.started_at : e.stopped_at)}` : 'start one below'),
    card('verdict', v ? decisionText[v.decision] || v.decision : 'n/a', v ? `p ${num(v.p_value)} · ${v.n} labelled · as of ${when(v.time)}` : e ? 'no look recorded yet' : ''),
    card('logged predictions', s ? String(s.requests) : 'n/a', s ? `${s.labelled} labelled · ${s.first ? `${when(s.first)} to ${when(s.last)}` : 'nothing logged'}` : 'not summarised yet'),
    card('/prediction latency', pred ? `p50 ${num(pred.p50_ms, 2)} ms` : 'n/a', pred ? `p99 ${num(pred.p99_ms, 2)} ms · ${pred.requests} requests` : l.latency.answering ? 'no predictions served yet' : `no server at ${l.latency.server}`)));
  for (const err of l.errors) root.append(h('p', { class: 'error-text' }, err));
  if (l.computing) root.append(h('p', { class: 'note', id: 'live-computing' }, 'Summarising the prediction log and the labels in the background; this page refreshes when done.'));
  root.append(experimentControls(l));
  root.append(h('h2', {}, 'Experiment: the always-valid interval over time'));
  root.append(l.charts.interval
    ? h('div', { class: 'figs' }, chart(l.charts.interval), h('p', { class: 'note' }, `${l.statistic}: above 0 the challenger is better. The interval holds at every look; a look is recorded whenever the status is computed (mlops experiment status, the server's promotion.auto, this page).`))
    : h('p', { class: 'note' }, e ? 'No look at the verdict recorded yet.' : 'No experiment has been started.'));
  root.append(h('h2', {}, 'Requests over time'));
  root.append(l.charts.volume ? h('div', { class: 'figs' }, chart(l.charts.volume)) : h('p', { class: 'note' }, 'Nothing logged yet: `mlops serve` logs every prediction.'));
  root.append(h('h2', {}, 'Latency'));
  root.append(l.charts.latency || l.charts.latency_time
    ? h('div', { class: 'figs' }, l.charts.latency ? chart(l.charts.latency) : null, l.charts.latency_time ? chart(l.charts.latency_time) : null)
    : h('p', { class: 'note' }, l.latency.answering ? 'The server has served no predictions yet.' : `No server answers at ${l.latency.server}: latency comes from the running server's /metrics (the prediction log keeps no timings).`));
  root.append(h('h2', {}, 'Estimated and realized performance per chunk (CBPE)'));
  const notes = s ? s.cbpe.filter((c) => c.note || !c.chunks).map((c) => h('p', { class: 'note' }, `${c.version}: ${c.note || 'no chunk with enough predictions'}`)) : [];
  root.append(l.charts.cbpe.length ? h('div', { class: 'figs' }, l.charts.cbpe.map((c) => chart(c.spec))) : h('p', { class: 'note' }, s ? 'No estimate yet.' : 'Not summarised yet.'), notes);
  if (l.computing) setTimeout(() => { if (mine === generation && location.hash.startsWith('#/live')) route(); }, 2000);
}

const PAGES = { overview: overviewPage, models: modelsPage, drift: driftPage, runs: runsPage, live: livePage };

let generation = 0;
async function route() {
  const name = (location.hash.replace(/^#\/?/, '') || 'overview').split('?')[0];
  const page = PAGES[name] || overviewPage;
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.page === name);
  const mine = ++generation;
  const root = h('div', { id: `page-${name}` });
  const t0 = performance.now();
  $('#status').textContent = 'loading...';
  $('#page').replaceChildren(root);
  try {
    await page(root);
    if (mine !== generation) return;
    $('#status').textContent = `loaded in ${Math.round(performance.now() - t0)} ms`;
  } catch (err) {
    if (mine !== generation) return;
    $('#page').replaceChildren(h('div', { id: `page-${name}` }, h('h1', {}, 'Something is missing'), h('p', {}, err.message), err.hint ? h('p', { class: 'note' }, err.hint) : null));
    $('#status').textContent = '';
  }
}

window.addEventListener('hashchange', route);
route();
