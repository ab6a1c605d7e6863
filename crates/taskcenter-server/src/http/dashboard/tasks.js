// taskcenter dashboard: the task table (search, filters, pages, bulk actions on checked
// rows) and the selected task's detail with its fire history and actions.
'use strict';

(function (TC) {
  const { state, byTestId, el, fmtTime, fmtRelative, schedule, timeCell, badge, notice, get, post, query, KINDS } = TC;

  // ---------- table ----------

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
          search: q, status: state.status, limit: state.limit, offset: state.offset,
        }));
        tasks = page.tasks;
        nextOffset = page.next_offset;
      }
    } catch (e) {
      if (e.status !== 401) notice('Tasks: ' + e.message, 'error');
      return;
    }
    state.nextOffset = nextOffset;
    const shown = new Set(tasks.map((t) => t._id));
    for (const id of [...state.checked]) if (!shown.has(id)) state.checked.delete(id);
    body.replaceChildren(...tasks.map(taskRow));
    byTestId('tasks-empty').hidden = tasks.length > 0;
    byTestId('page-info').textContent = tasks.length
      ? (state.offset + 1) + '–' + (state.offset + tasks.length)
      : '';
    byTestId('page-prev').disabled = state.offset === 0;
    byTestId('page-next').disabled = nextOffset === null;
    updateBulk();
  }

  function taskRow(t) {
    const box = el('input', {
      type: 'checkbox', testid: 'task-check', 'data-taskid': t._id, 'aria-label': 'Select ' + t.name,
      checked: state.checked.has(t._id),
    });
    box.addEventListener('click', (ev) => ev.stopPropagation());
    box.addEventListener('change', () => {
      if (box.checked) state.checked.add(t._id);
      else state.checked.delete(t._id);
      updateBulk();
    });
    const row = el('tr', {
      testid: 'task-row',
      'data-taskid': t._id,
      'data-name': t.name,
      'data-status': t.status,
      class: t._id === state.selected ? 'selected' : null,
      tabindex: 0,
    },
    el('td', { class: 'check' }, box),
    el('td', { testid: 'task-name', class: 'name' }, el('span', {}, t.name), el('span', { class: 'sub mono' }, t._id)),
    el('td', { class: 'schedule', testid: 'task-schedule' }, el('span', { class: 'kind' }, KINDS[t.type] || t.type), ' ', el('span', { class: 'mono' }, schedule(t))),
    el('td', {}, badge(t.status, 'task-status')),
    el('td', { testid: 'task-next-fire', 'data-ms': t.next_fire_time }, timeCell(t.next_fire_time)),
    el('td', { class: 'num' }, t.fire_count),
    el('td', { class: 'col-created' }, timeCell(t.created_at * 1000)));
    row.addEventListener('click', () => select(t._id));
    row.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') select(t._id); });
    return row;
  }

  // ---------- bulk actions ----------

  function updateBulk() {
    const n = state.checked.size;
    byTestId('bulk-bar').hidden = n === 0;
    byTestId('bulk-count').textContent = n + ' selected';
    const all = byTestId('check-all');
    const boxes = document.querySelectorAll('[data-testid="task-check"]');
    all.checked = boxes.length > 0 && n === boxes.length;
    all.indeterminate = n > 0 && n < boxes.length;
  }

  async function bulk(action) {
    const ids = [...state.checked];
    if (!ids.length) return;
    let done = 0;
    const failed = [];
    if (action === 'delete') {
      try {
        done = (await post('delete-task', { ids })).SucIds.length;
      } catch (e) {
        failed.push(e.message);
      }
    } else {
      const results = await Promise.allSettled(ids.map((taskid) => post(action + '-task', { taskid })));
      for (const r of results) {
        if (r.status === 'fulfilled') done += 1;
        else failed.push(r.reason.message);
      }
    }
    const verb = { pause: 'Paused', resume: 'Resumed', delete: 'Deleted' }[action];
    if (failed.length) notice(verb + ' ' + done + ' of ' + ids.length + ': ' + failed[0], 'error');
    else notice(verb + ' ' + done + ' task' + (done === 1 ? '' : 's') + '.');
    state.checked.clear();
    TC.refreshAfterChange();
  }

  function setupBulk() {
    byTestId('check-all').addEventListener('change', (ev) => {
      for (const box of document.querySelectorAll('[data-testid="task-check"]')) {
        box.checked = ev.target.checked;
        const id = box.getAttribute('data-taskid');
        if (box.checked) state.checked.add(id);
        else state.checked.delete(id);
      }
      updateBulk();
    });
    byTestId('bulk-pause').addEventListener('click', () => bulk('pause'));
    byTestId('bulk-resume').addEventListener('click', () => bulk('resume'));
    TC.confirmButton(byTestId('bulk-delete'), 'Really delete?', () => bulk('delete'));
    byTestId('bulk-clear').addEventListener('click', () => {
      state.checked.clear();
      for (const box of document.querySelectorAll('[data-testid="task-check"]')) box.checked = false;
      updateBulk();
    });
  }

  function setupFilters() {
    const form = byTestId('task-filters');
    let debounce = null;
    const apply = () => {
      state.query = form.q.value;
      state.status = form.status.value;
      state.limit = Number(form.limit.value);
      state.offset = 0;
      TC.writeHash();
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
    if (id) state.view = 'tasks';
    TC.writeHash();
    TC.showView();
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
        TC.writeHash();
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
    el('td', { class: 'num', title: 'published ' + fmtTime(f.publish_time) }, TC.fmtLate(f.publish_time - f.fire_time)),
    el('td', {}, badge(f.state), f.reason ? el('span', { class: 'sub failure', testid: 'history-reason', title: 'why the last failed delivery failed' }, f.reason) : null),
    el('td', { class: 'num' }, f.attempts),
    el('td', {}, f.group || '—'),
    el('td', { class: 'mono small' }, f.msgid || '—'))));
    byTestId('history-empty').hidden = fires.fires.length > 0;
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
        TC.writeHash();
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
    TC.refreshAfterChange();
  }

  function setupDetail() {
    for (const action of ['pause', 'resume', 'trigger', 'delete']) {
      byTestId('action-' + action).addEventListener('click', () => act(action));
    }
    // The form starts from the task as stored now, not as last shown.
    byTestId('action-edit').addEventListener('click', async () => {
      if (!state.selected) return;
      try {
        TC.openForm(await get('query-task-by-id?' + query({ taskid: state.selected })));
      } catch (e) {
        notice('Edit: ' + e.message, 'error');
      }
    });
    byTestId('detail-close').addEventListener('click', () => select(null));
  }

  Object.assign(TC, { refreshTasks, refreshDetail, select, setupFilters, setupDetail, setupBulk });
})(window.TC);
