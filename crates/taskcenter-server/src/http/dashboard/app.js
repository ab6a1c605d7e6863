// taskcenter dashboard: plain DOM code over the HTTP API, no dependencies, no external loads.
// State lives in `state` and in the URL hash (#task=ID&name=…&status=…), so a view can be
// linked to and reloaded. Counters poll every 2 s, lists every 5 s, while the tab is visible.
'use strict';

(function () {
  const API = 'v1/api/';
  const TOKEN_KEY = 'taskcenter.token';
  const COUNTER_EVERY_MS = 2000;
  const LIST_EVERY_MS = 5000;
  const TIMELINE_LANES = 12;
  const TIMELINE_LANES_ALL = 100;
  const KINDS = { 1: 'once', 2: 'loop', 3: 'cron' };

  const state = {
    query: '',
    status: '',
    limit: 20,
    offset: 0,
    nextOffset: null,
    selected: null,
    range: 3600000,
    timelineTasks: [],
    cronCache: new Map(),
    deadLetters: [],
    pendingDelete: false,
    allLanes: false,
  };

  // ---------- small helpers ----------

  const byTestId = (id) => document.querySelector('[data-testid="' + id + '"]');

  /** Builds an element: el('td', {class: 'x', testid: 'y', title: 'z'}, child, 'text', …). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    setAttrs(node, attrs);
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
    setAttrs(node, attrs);
    for (const child of children) node.append(child instanceof Node ? child : String(child));
    return node;
  }

  function setAttrs(node, attrs) {
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === 'testid') node.setAttribute('data-testid', value);
      else if (key === 'onclick') node.addEventListener('click', value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
  }

  const pad = (n, w) => String(n).padStart(w || 2, '0');

  /** Local date and time, `YYYY-MM-DD HH:MM:SS`. */
  function fmtTime(ms) {
    if (ms === null || ms === undefined) return '—';
    const d = new Date(ms);
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' +
      pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  }

  function fmtDuration(ms) {
    const s = Math.round(Math.abs(ms) / 1000);
    if (s < 60) return s + 's';
    if (s < 3600) return Math.floor(s / 60) + 'm ' + pad(s % 60) + 's';
    if (s < 86400) return Math.floor(s / 3600) + 'h ' + pad(Math.floor((s % 3600) / 60)) + 'm';
    return Math.floor(s / 86400) + 'd ' + Math.floor((s % 86400) / 3600) + 'h';
  }

  function fmtRelative(ms) {
    if (ms === null || ms === undefined) return '';
    const delta = ms - Date.now();
    if (Math.abs(delta) < 1000) return 'now';
    return delta > 0 ? 'in ' + fmtDuration(delta) : fmtDuration(delta) + ' ago';
  }

  /** A period in whole units: `30s`, `5m`, `1h 30m`, `2d`. */
  function fmtPeriod(seconds) {
    const units = [[86400, 'd'], [3600, 'h'], [60, 'm'], [1, 's']];
    const parts = [];
    let left = seconds;
    for (const [size, unit] of units) {
      if (left >= size) {
        parts.push(Math.floor(left / size) + unit);
        left %= size;
      }
    }
    return parts.join(' ') || '0s';
  }

  function schedule(task) {
    if (task.type === 1) {
      return task.start_time ? 'at ' + fmtTime(task.start_time * 1000) : 'immediately';
    }
    let text = task.type === 2 ? 'every ' + fmtPeriod(task.loop_time) : task.crontab;
    if (task.type === 3 && task.timezone && task.timezone !== 'UTC') text += ' (' + task.timezone + ')';
    if (task.loop_count > 0) text += ' · ×' + task.loop_count;
    return text;
  }

  function timeCell(ms) {
    if (ms === null || ms === undefined) return el('span', { class: 'muted' }, '—');
    return el('span', { title: fmtTime(ms) + ' · ' + new Date(ms).toISOString() },
      el('span', {}, fmtRelative(ms)), el('span', { class: 'sub' }, fmtTime(ms)));
  }

  function badge(text, testid) {
    return el('span', { class: 'badge badge-' + text, testid: testid }, text);
  }

  function notice(text, kind) {
    const box = byTestId('notice');
    box.textContent = text;
    box.className = 'notice ' + (kind || 'info');
    box.setAttribute('data-kind', kind || 'info');
    box.hidden = false;
    clearTimeout(notice.timer);
    notice.timer = setTimeout(() => { box.hidden = true; }, kind === 'error' ? 8000 : 4000);
  }

  function setLive(ok, text) {
    const live = byTestId('live-status');
    live.setAttribute('data-state', ok);
    live.querySelector('.live-text').textContent = text;
  }

  // ---------- HTTP ----------

  class HttpError extends Error {
    constructor(status, msg) {
      super(msg);
      this.status = status;
    }
  }

  async function call(method, path, body) {
    const headers = { Accept: 'application/json' };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token && path.startsWith(API)) headers.Authorization = 'Bearer ' + token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(path, {
      method,
      headers,
      cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch (_) {
      data = text;
    }
    if (res.status === 401) showAuth(true);
    if (!res.ok) {
      const msg = data && data.msg ? data.msg : res.status + ' ' + res.statusText;
      throw new HttpError(res.status, msg);
    }
    return data;
  }

  const get = (path) => call('GET', API + path);
  const post = (path, body) => call('POST', API + path, body);

  function query(params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== '' && v !== null && v !== undefined) q.set(k, v);
    return q.toString();
  }

  // ---------- token ----------

  function showAuth(required) {
    const form = byTestId('token-form');
    form.hidden = false;
    if (required) {
      const first = byTestId('auth-required').hidden;
      byTestId('auth-required').hidden = false;
      setLive('auth', 'token required');
      if (first) byTestId('token-input').focus();
    }
  }

  function setupToken() {
    const form = byTestId('token-form');
    byTestId('token-toggle').addEventListener('click', () => { form.hidden = !form.hidden; });
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const value = byTestId('token-input').value.trim();
      if (value) sessionStorage.setItem(TOKEN_KEY, value);
      byTestId('token-input').value = '';
      byTestId('auth-required').hidden = true;
      form.hidden = true;
      refreshAll();
    });
    byTestId('token-clear').addEventListener('click', () => {
      sessionStorage.removeItem(TOKEN_KEY);
      notice('Token forgotten.');
      refreshAll();
    });
  }

  // ---------- counters ----------

  function parseMetrics(text) {
    const out = {};
    for (const line of String(text).split('\n')) {
      const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
      if (m && !m[2]) out[m[1]] = Number(m[3]);
    }
    return out;
  }

  function setCounter(id, value) {
    const card = byTestId(id);
    const shown = value === undefined || value === null || Number.isNaN(value) ? '–' : String(value);
    card.setAttribute('data-value', shown === '–' ? '' : shown);
    card.querySelector('.value').textContent = shown;
  }

  async function refreshCounters() {
    let ok = true;
    try {
      const m = parseMetrics(await call('GET', 'metrics'));
      setCounter('counter-scheduled', m.taskcenter_tasks_scheduled);
      setCounter('counter-paused', m.taskcenter_tasks_paused);
      setCounter('counter-finished', m.taskcenter_tasks_finished);
      setCounter('counter-ready', m.taskcenter_queue_ready);
      setCounter('counter-leased', m.taskcenter_queue_leased);
      setCounter('counter-dead', m.taskcenter_dead_letters);
      byTestId('counter-dead').classList.toggle('alert', m.taskcenter_dead_letters > 0);
    } catch (e) {
      ok = false;
      setLive('error', 'metrics: ' + e.message);
    }
    try {
      const stat = await get('task/stat');
      setCounter('counter-fires-minute', stat.total);
      byTestId('stat-minute').textContent = stat.minute + ' UTC';
      const names = byTestId('stat-names');
      const top = Object.entries(stat.names || {}).sort((a, b) => b[1] - a[1]).slice(0, 4);
      names.replaceChildren(...top.map(([name, n]) =>
        el('span', { class: 'chip', 'data-name': name, 'data-count': n }, name + ' ' + n)));
    } catch (e) {
      ok = false;
      if (e.status !== 401) setLive('error', 'stat: ' + e.message);
    }
    if (ok) setLive('ok', 'live · ' + fmtTime(Date.now()).slice(11));
    drawTimeline();
  }

  // ---------- task table ----------

  async function refreshTasks() {
    const body = byTestId('task-rows');
    let tasks;
    let nextOffset = null;
    try {
      const q = state.query.trim();
      if (/^[0-9a-f]{24}$/.test(q)) {
        try {
          tasks = [await get('query-task-by-id?' + query({ taskid: q }))];
        } catch (e) {
          if (e.status !== 404) throw e;
          tasks = [];
        }
        if (state.status) tasks = tasks.filter((t) => t.status === state.status);
      } else {
        const page = await get('tasks?' + query({
          name: q, status: state.status, limit: state.limit, offset: state.offset,
        }));
        tasks = page.tasks;
        nextOffset = page.next_offset;
      }
    } catch (e) {
      if (e.status !== 401) notice('Tasks: ' + e.message, 'error');
      return;
    }
    state.nextOffset = nextOffset;
    body.replaceChildren(...tasks.map(taskRow));
    byTestId('tasks-empty').hidden = tasks.length > 0;
    byTestId('page-info').textContent = tasks.length
      ? (state.offset + 1) + '–' + (state.offset + tasks.length)
      : '';
    byTestId('page-prev').disabled = state.offset === 0;
    byTestId('page-next').disabled = nextOffset === null;
  }

  function taskRow(t) {
    const row = el('tr', {
      testid: 'task-row',
      'data-taskid': t._id,
      'data-name': t.name,
      'data-status': t.status,
      class: t._id === state.selected ? 'selected' : null,
      tabindex: 0,
    },
    el('td', { testid: 'task-name', class: 'name' }, el('span', {}, t.name), el('span', { class: 'sub mono' }, t._id)),
    el('td', { class: 'schedule' }, el('span', { class: 'kind' }, KINDS[t.type] || t.type), ' ', el('span', { class: 'mono' }, schedule(t))),
    el('td', {}, badge(t.status, 'task-status')),
    el('td', { testid: 'task-next-fire', 'data-ms': t.next_fire_time }, timeCell(t.next_fire_time)),
    el('td', { class: 'num' }, t.fire_count),
    el('td', { class: 'col-created' }, timeCell(t.created_at * 1000)));
    row.addEventListener('click', () => select(t._id));
    row.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') select(t._id); });
    return row;
  }

  function setupFilters() {
    const form = byTestId('task-filters');
    let debounce = null;
    const apply = () => {
      state.query = form.q.value;
      state.status = form.status.value;
      state.limit = Number(form.limit.value);
      state.offset = 0;
      writeHash();
      refreshTasks();
    };
    form.addEventListener('submit', (ev) => { ev.preventDefault(); apply(); });
    form.q.addEventListener('input', () => { clearTimeout(debounce); debounce = setTimeout(apply, 300); });
    form.status.addEventListener('change', apply);
    form.limit.addEventListener('change', apply);
    byTestId('page-prev').addEventListener('click', () => {
      state.offset = Math.max(0, state.offset - state.limit);
      refreshTasks();
    });
    byTestId('page-next').addEventListener('click', () => {
      if (state.nextOffset !== null) state.offset = state.nextOffset;
      refreshTasks();
    });
  }

  // ---------- detail ----------

  function select(id) {
    state.selected = id;
    state.pendingDelete = false;
    writeHash();
    for (const row of document.querySelectorAll('[data-testid="task-row"]')) {
      row.classList.toggle('selected', row.getAttribute('data-taskid') === id);
    }
    refreshDetail();
  }

  async function refreshDetail() {
    const panel = byTestId('task-detail');
    if (!state.selected) {
      panel.hidden = true;
      return;
    }
    let task;
    let fires;
    try {
      task = await get('query-task-by-id?' + query({ taskid: state.selected }));
      fires = await get('task-history?' + query({ taskid: state.selected, limit: 50 }));
    } catch (e) {
      if (e.status === 404) {
        notice('Task ' + state.selected + ' no longer exists.', 'error');
        state.selected = null;
        writeHash();
        panel.hidden = true;
      } else if (e.status !== 401) {
        notice('Task: ' + e.message, 'error');
      }
      return;
    }
    panel.hidden = false;
    panel.setAttribute('data-taskid', task._id);
    byTestId('detail-name').textContent = task.name;
    const status = byTestId('detail-status');
    status.textContent = task.status;
    status.className = 'badge badge-' + task.status;
    byTestId('action-pause').hidden = task.status !== 'scheduled';
    byTestId('action-resume').hidden = task.status !== 'paused';
    byTestId('action-delete').textContent = state.pendingDelete ? 'Really delete?' : 'Delete';
    const fields = [
      ['id', task._id],
      ['type', (KINDS[task.type] || task.type) + ' (' + task.type + ')'],
      ['schedule', schedule(task)],
      ['next fire', task.next_fire_time === null ? '—' : fmtTime(task.next_fire_time) + ' (' + fmtRelative(task.next_fire_time) + ')'],
      ['fires', task.fire_count + (task.loop_count ? ' of ' + task.loop_count : '')],
      ['start', task.start_time ? fmtTime(task.start_time * 1000) : '—'],
      ['end', task.end_time ? fmtTime(task.end_time * 1000) : '—'],
      ['ack', task.ack ? 'yes, within ' + task.max_runtime + 's' : 'no'],
      ['timezone', task.timezone],
      ['misfire', task.misfire],
      ['created', fmtTime(task.created_at * 1000)],
    ];
    byTestId('task-fields').replaceChildren(...fields.flatMap(([k, v]) =>
      [el('dt', {}, k), el('dd', { 'data-field': k }, v)]));
    const data = task.data.length > 4000 ? task.data.slice(0, 4000) + '… (' + task.data.length + ' bytes)' : task.data;
    byTestId('task-data').textContent = data === '' ? '(empty)' : data;
    byTestId('history-rows').replaceChildren(...fires.fires.map((f) => el('tr', {
      testid: 'history-row', 'data-fire-id': f.fire_id, 'data-state': f.state,
    },
    el('td', {}, fmtTime(f.fire_time)),
    el('td', { class: 'num', title: 'published ' + fmtTime(f.publish_time) }, fmtLate(f.publish_time - f.fire_time)),
    el('td', {}, badge(f.state)),
    el('td', { class: 'num' }, f.attempts),
    el('td', {}, f.group || '—'),
    el('td', { class: 'mono small' }, f.msgid || '—'))));
    byTestId('history-empty').hidden = fires.fires.length > 0;
  }

  function fmtLate(ms) {
    if (ms < 1000) return ms + ' ms';
    return fmtDuration(ms);
  }

  async function act(action) {
    const id = state.selected;
    if (!id) return;
    try {
      if (action === 'delete') {
        if (!state.pendingDelete) {
          state.pendingDelete = true;
          byTestId('action-delete').textContent = 'Really delete?';
          return;
        }
        const res = await post('delete-task', { ids: [id] });
        notice(res.SucIds.length ? 'Deleted ' + id + '.' : 'Already gone: ' + id);
        state.selected = null;
        writeHash();
      } else if (action === 'trigger') {
        const res = await post('trigger-task', { taskid: id });
        notice('Triggered: fire ' + res.fire_id + '.');
      } else {
        await post(action + '-task', { taskid: id });
        notice(action === 'pause' ? 'Paused.' : 'Resumed.');
      }
    } catch (e) {
      notice(action + ': ' + e.message, 'error');
    }
    state.pendingDelete = false;
    refreshTasks();
    refreshDetail();
    refreshTimelineData();
    refreshCounters();
  }

  function setupDetail() {
    for (const action of ['pause', 'resume', 'trigger', 'delete']) {
      byTestId('action-' + action).addEventListener('click', () => act(action));
    }
    byTestId('detail-close').addEventListener('click', () => select(null));
  }

  // ---------- timeline ----------

  /**
   * The fires of a scheduled task up to `to`, as far as they can be known here: `times`
   * (at most 1000 of them), the `last` one and how many (`count`, null when unknown).
   */
  async function fireTimes(task, from, to) {
    const first = task.next_fire_time;
    const none = { times: [], last: null, count: 0 };
    if (first === null || first > to) return none;
    const limit = Math.min(to, task.end_time ? task.end_time * 1000 : Infinity);
    const left = task.loop_count > 0 ? task.loop_count - task.fire_count : Infinity;
    if (task.type === 2) {
      // A fixed grid from the next fire on: next + k·loop_time.
      const step = task.loop_time * 1000;
      const count = Math.min(left, Math.floor((limit - first) / step) + 1);
      if (!(count > 0)) return none;
      const times = [];
      for (let k = 0; k < Math.min(count, 1000); k++) times.push(first + k * step);
      return { times, last: first + (count - 1) * step, count };
    }
    if (task.type === 3) return cronTimes(task, from, limit, Math.min(left, 1000));
    return { times: [first], last: first, count: 1 };
  }

  /** Cron fires from the preview endpoint, cached for 30 s per task and window. */
  async function cronTimes(task, from, to, count) {
    const key = task._id + ':' + to;
    const hit = state.cronCache.get(task._id);
    if (hit && hit.key === key && Date.now() - hit.at < 30000) return hit.fires;
    let fires;
    try {
      const res = await post('preview', {
        type: 3, crontab: task.crontab, timezone: task.timezone,
        start_time: task.start_time || undefined, end_time: task.end_time || undefined,
        count: Math.max(1, count), from: Math.min(from, task.next_fire_time - 1),
      });
      const times = res.fire_times.filter((t) => t <= to);
      // A full answer that ends inside the window means more fires follow until its end.
      const more = res.fire_times.length === count && times.length === count;
      fires = { times, last: more ? to : times[times.length - 1], count: more ? null : times.length };
    } catch (_) {
      fires = { times: [task.next_fire_time], last: task.next_fire_time, count: 1 };
    }
    state.cronCache.set(task._id, { key, at: Date.now(), fires });
    return fires;
  }

  async function refreshTimelineData() {
    let tasks;
    try {
      tasks = (await get('tasks?' + query({ order: 'next_fire', limit: 1000 }))).tasks;
    } catch (e) {
      return;
    }
    const from = Date.now();
    const to = from + state.range;
    tasks = tasks.filter((t) => t.next_fire_time !== null).sort((a, b) => a.next_fire_time - b.next_fire_time);
    const inWindow = tasks.filter((t) => t.next_fire_time <= to);
    const lanes = await Promise.all(inWindow.slice(0, state.allLanes ? TIMELINE_LANES_ALL : TIMELINE_LANES).map(async (t) => ({
      task: t, fires: await fireTimes(t, from, to),
    })));
    state.timelineTasks = { lanes, hidden: inWindow.length - lanes.length, later: tasks.filter((t) => t.next_fire_time > to) };
    drawTimeline();
  }

  function niceStep(range) {
    const steps = [60e3, 120e3, 300e3, 600e3, 900e3, 1800e3, 3600e3, 7200e3, 10800e3, 21600e3, 43200e3, 86400e3];
    return steps.find((s) => range / s <= 8) || 86400e3;
  }

  function tickLabel(ms, range) {
    const d = new Date(ms);
    const hm = pad(d.getHours()) + ':' + pad(d.getMinutes());
    return range > 86400e3 ? pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + hm : hm;
  }

  function drawTimeline() {
    const box = byTestId('timeline');
    const data = state.timelineTasks;
    if (!data || !data.lanes) return;
    const now = Date.now();
    const range = state.range;
    const width = Math.max(480, box.clientWidth || 900);
    const labelW = Math.min(220, Math.round(width * 0.22));
    const laneH = 24;
    const top = 26;
    const rows = Math.max(1, data.lanes.length);
    const height = top + rows * laneH + 8;
    const x = (t) => labelW + ((t - now) / range) * (width - labelW - 16);
    const root = svg('svg', {
      width, height, viewBox: '0 0 ' + width + ' ' + height, role: 'img',
      'aria-label': 'Upcoming fires in the next ' + fmtDuration(range), testid: 'timeline-svg',
    });
    // Axis: ticks on round local times.
    const step = niceStep(range);
    const offset = new Date(now).getTimezoneOffset() * 60e3;
    for (let t = Math.ceil((now - offset) / step) * step + offset; t <= now + range; t += step) {
      root.append(svg('line', { x1: x(t), x2: x(t), y1: top - 6, y2: height - 4, class: 'tick' }));
      // Leave room for the `now` label.
      if (x(t) - labelW < 40) continue;
      root.append(svg('text', { x: x(t), y: top - 10, class: 'tick-label', 'text-anchor': 'middle' }, tickLabel(t, range)));
    }
    root.append(svg('line', { x1: labelW, x2: labelW, y1: top - 6, y2: height - 4, class: 'now' }));
    root.append(svg('text', { x: labelW + 4, y: top - 10, class: 'now-label' }, 'now'));
    if (!data.lanes.length) {
      root.append(svg('text', { x: labelW + 12, y: top + 16, class: 'empty-label' }, 'No fires due in this window.'));
    }
    data.lanes.forEach((lane, i) => {
      const y = top + i * laneH + laneH / 2;
      const t = lane.task;
      const g = svg('g', { class: 'lane lane-' + (KINDS[t.type] || 'x'), testid: 'timeline-lane', 'data-taskid': t._id, 'data-name': t.name });
      g.append(svg('line', { x1: labelW, x2: width - 8, y1: y, y2: y, class: 'lane-line' }));
      const label = svg('text', { x: labelW - 10, y: y + 4, 'text-anchor': 'end', class: 'lane-label' }, truncate(t.name, 28));
      label.append(svg('title', {}, t.name + ' · ' + schedule(t)));
      g.append(label);
      const times = lane.fires.times.filter((ms) => ms <= now + range);
      const dense = times.length > 1 && (x(times[1]) - x(times[0])) < 4;
      if (dense) {
        // Too close to tell apart: one band from the first fire to the last.
        const last = Math.min(lane.fires.last, now + range);
        const count = lane.fires.count === null ? 'many' : lane.fires.count;
        g.append(svg('rect', {
          x: x(Math.max(times[0], now)), y: y - 4, width: Math.max(2, x(last) - x(Math.max(times[0], now))), height: 8, rx: 4, class: 'band',
        }, svg('title', {}, t.name + ': ' + count + ' fires until ' + fmtTime(last) + ', ' + schedule(t))));
        times.length = 1;
      }
      times.forEach((ms, k) => {
        g.append(svg('circle', {
          cx: x(Math.max(ms, now)), cy: y, r: k === 0 ? 6 : 4, class: k === 0 ? 'marker first' : 'marker',
          testid: k === 0 ? 'timeline-marker' : null, 'data-taskid': t._id, 'data-name': t.name, 'data-ms': ms,
        }, svg('title', {}, t.name + ' · ' + fmtTime(ms) + ' (' + fmtRelative(ms) + ')')));
      });
      g.addEventListener('click', () => select(t._id));
      root.append(g);
    });
    box.replaceChildren(root);
    const later = byTestId('timeline-later');
    const parts = [];
    if (data.hidden > 0 || state.allLanes) {
      const text = state.allLanes ? 'Show fewer' : 'Show ' + data.hidden + ' more task' + (data.hidden > 1 ? 's' : '') + ' in this window';
      parts.push(el('button', { type: 'button', class: 'link-button', testid: 'timeline-more', onclick: () => {
        state.allLanes = !state.allLanes;
        refreshTimelineData();
      } }, text));
    }
    if (data.later.length) {
      const names = data.later.slice(0, 5).map((t) => {
        const span = el('span', { class: 'later-item', testid: 'timeline-later-item', 'data-taskid': t._id, 'data-name': t.name, title: fmtTime(t.next_fire_time) },
          t.name + ' ' + fmtRelative(t.next_fire_time));
        span.addEventListener('click', () => select(t._id));
        return span;
      });
      parts.push(el('span', {}, 'Later:'), ...names);
      if (data.later.length > 5) parts.push(el('span', {}, 'and ' + (data.later.length - 5) + ' more'));
    }
    later.replaceChildren(...parts);
    later.hidden = parts.length === 0;
  }

  function truncate(text, n) {
    return text.length > n ? text.slice(0, n - 1) + '…' : text;
  }

  function setupTimeline() {
    for (const button of byTestId('timeline-ranges').querySelectorAll('button')) {
      button.addEventListener('click', () => {
        state.range = Number(button.getAttribute('data-range'));
        for (const b of button.parentNode.children) b.classList.toggle('on', b === button);
        refreshTimelineData();
      });
    }
    let resize = null;
    window.addEventListener('resize', () => { clearTimeout(resize); resize = setTimeout(drawTimeline, 100); });
  }

  // ---------- dead letters ----------

  async function refreshDeadLetters() {
    let list;
    try {
      list = (await get('dead-letters?limit=100')).dead_letters;
    } catch (e) {
      if (e.status !== 401) notice('Dead letters: ' + e.message, 'error');
      return;
    }
    state.deadLetters = list;
    byTestId('dead-letter-rows').replaceChildren(...list.map((d) => el('tr', {
      testid: 'dead-letter-row', 'data-msgid': d.msgid, 'data-taskid': d.taskid, 'data-tag': d.tag,
    },
    el('td', { class: 'name' }, d.tag),
    el('td', { class: 'mono small link', onclick: () => select(d.taskid) }, d.taskid),
    el('td', {}, d.group),
    el('td', {}, fmtTime(d.fire_time)),
    el('td', { class: 'num' }, d.attempts),
    el('td', {}, timeCell(d.died_at)),
    el('td', { class: 'mono small clip', title: d.data }, truncate(d.data, 60)),
    el('td', {}, el('button', { type: 'button', testid: 'requeue-button', 'data-msgid': d.msgid, onclick: () => requeue([d.msgid]) }, 'Requeue')))));
    byTestId('dead-letters-empty').hidden = list.length > 0;
    byTestId('dead-letter-table').hidden = list.length === 0;
    byTestId('dead-letters-count').textContent = list.length ? String(list.length) + (list.length === 100 ? '+' : '') : '';
    byTestId('requeue-all').disabled = list.length === 0;
  }

  async function requeue(msgids) {
    if (!msgids.length) return;
    try {
      const res = await post('dead-letters/requeue', { msgids });
      notice('Requeued ' + res.count + ' message' + (res.count === 1 ? '' : 's') + '.');
    } catch (e) {
      notice('Requeue: ' + e.message, 'error');
    }
    refreshDeadLetters();
    refreshCounters();
  }

  // ---------- hash state and polling ----------

  function readHash() {
    const p = new URLSearchParams(location.hash.slice(1));
    state.selected = p.get('task') || null;
    state.query = p.get('name') || '';
    state.status = p.get('status') || '';
    const form = byTestId('task-filters');
    form.q.value = state.query;
    form.status.value = state.status;
  }

  function writeHash() {
    const hash = query({ task: state.selected, name: state.query, status: state.status });
    history.replaceState(null, '', hash ? '#' + hash : location.pathname + location.search);
  }

  function refreshLists() {
    refreshTasks();
    refreshDetail();
    refreshTimelineData();
    refreshDeadLetters();
  }

  function refreshAll() {
    refreshCounters();
    refreshLists();
  }

  function every(ms, fn) {
    setInterval(() => { if (!document.hidden) fn(); }, ms);
  }

  function start() {
    const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';
    byTestId('timezone').textContent = 'times in ' + tz;
    readHash();
    setupToken();
    setupFilters();
    setupDetail();
    setupTimeline();
    byTestId('requeue-all').addEventListener('click', () => requeue(state.deadLetters.map((d) => d.msgid)));
    window.addEventListener('hashchange', () => { readHash(); refreshLists(); });
    refreshAll();
    every(COUNTER_EVERY_MS, refreshCounters);
    every(LIST_EVERY_MS, refreshLists);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
