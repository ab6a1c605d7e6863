// taskcenter dashboard, shared part: helpers, the HTTP calls (with the bearer token), the
// token form and the live counters. Every script of the page hangs its functions on the
// one global `TC`; `app.js`, loaded last, starts the page.
'use strict';

window.TC = (function () {
  const API = 'v1/api/';
  const TOKEN_KEY = 'taskcenter.token';
  const KINDS = { 1: 'once', 2: 'loop', 3: 'cron' };

  const state = {
    view: 'tasks',
    query: '',
    status: '',
    limit: 20,
    offset: 0,
    nextOffset: null,
    selected: null,
    checked: new Set(),
    range: 3600000,
    timelineTasks: [],
    cronCache: new Map(),
    deadLetters: [],
    deadGroup: '',
    deadTag: '',
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
    if (task.end_time) text += ' · until ' + fmtTime(task.end_time * 1000).slice(0, 16);
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
    // A refusal of a token that was replaced while the request was on its way says nothing
    // of the new one.
    if (res.status === 401 && sessionStorage.getItem(TOKEN_KEY) === token) showAuth(true);
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
      const refused = Boolean(sessionStorage.getItem(TOKEN_KEY));
      byTestId('auth-required').textContent = refused
        ? 'The server refused the token given: enter the right one.'
        : 'This server requires a bearer token for its API.';
      byTestId('auth-required').hidden = false;
      setLive('auth', refused ? 'token refused' : 'token required');
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
      TC.refreshAll();
    });
    byTestId('token-clear').addEventListener('click', () => {
      sessionStorage.removeItem(TOKEN_KEY);
      notice('Token forgotten.');
      TC.refreshAll();
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
    TC.drawTimeline();
  }

  function truncate(text, n) {
    return text.length > n ? text.slice(0, n - 1) + '…' : text;
  }

  function fmtLate(ms) {
    if (ms === null || ms === undefined) return '—';
    if (ms < 1000) return ms + ' ms';
    return fmtDuration(ms);
  }

  /** A button that asks again before it acts: the first click arms it, the second acts. */
  function confirmButton(button, question, action) {
    const label = button.textContent;
    let timer = null;
    button.addEventListener('click', () => {
      if (button.getAttribute('data-armed') !== 'true') {
        button.setAttribute('data-armed', 'true');
        button.textContent = question;
        timer = setTimeout(() => { button.removeAttribute('data-armed'); button.textContent = label; }, 5000);
        return;
      }
      clearTimeout(timer);
      button.removeAttribute('data-armed');
      button.textContent = label;
      action();
    });
  }

  return {
    API, KINDS, state, byTestId, el, svg, pad, fmtTime, fmtDuration, fmtRelative, fmtPeriod,
    schedule, timeCell, badge, notice, setLive, call, get, post, query, setupToken,
    refreshCounters, truncate, fmtLate, confirmButton,
  };
})();
