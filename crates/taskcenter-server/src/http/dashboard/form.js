// taskcenter dashboard: the form that creates a task or edits one. The fields follow the
// kind (once / loop / crontab); as the schedule changes, the server's preview shows the
// next fire times, or its validation message in place. The data is sent exactly as typed,
// and an edit sends it only when it was changed, so stored bytes a textarea cannot hold
// (a carriage return, say) survive an edit of the schedule.
'use strict';

(function (TC) {
  const { state, byTestId, el, pad, fmtTime, fmtRelative, notice, post } = TC;
  const PREVIEW_COUNT = 8;
  const UNITS = { s: 1, m: 60, h: 3600, d: 86400 };

  let editing = null;
  let dataTouched = false;
  let previewTimer = null;
  let previewSeq = 0;

  const form = () => byTestId('task-form');

  /** `YYYY-MM-DDTHH:MM` of unix seconds in local time, for a datetime-local input. */
  function localInput(seconds) {
    if (!seconds) return '';
    const d = new Date(seconds * 1000);
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + 'T' +
      pad(d.getHours()) + ':' + pad(d.getMinutes());
  }

  /** Unix seconds of a datetime-local value (local time); 0 when empty. */
  function inputSeconds(value) {
    if (!value) return 0;
    const ms = new Date(value).getTime();
    return Number.isNaN(ms) ? NaN : Math.floor(ms / 1000);
  }

  function showKind() {
    const kind = form().elements.type.value;
    for (const box of form().querySelectorAll('[data-kinds]')) {
      box.hidden = !box.getAttribute('data-kinds').split(' ').includes(kind);
    }
    byTestId('form-start-label').firstChild.textContent = kind === '1' ? 'Fire at ' : 'Start ';
  }

  /** The schedule and options as the API takes them; `withData` adds name and data. */
  function spec(withData) {
    const f = form();
    const type = Number(f.elements.type.value);
    const out = { type };
    const start = inputSeconds(f.elements.start.value);
    const end = inputSeconds(f.elements.end.value);
    if (start) out.start_time = start;
    if (type !== 1) out.end_time = end || 0;
    if (type === 2) out.loop_time = Math.round(Number(f.elements.loop_every.value) * UNITS[f.elements.loop_unit.value]);
    if (type === 3) {
      out.crontab = f.elements.crontab.value;
      out.timezone = f.elements.timezone.value.trim() || 'UTC';
    }
    if (type !== 1) out.loop_count = f.elements.loop_count.value === '' ? 0 : Number(f.elements.loop_count.value);
    out.ack = f.elements.ack.checked;
    if (f.elements.ack.checked && f.elements.max_runtime.value !== '') out.max_runtime = Number(f.elements.max_runtime.value);
    out.misfire = f.elements.misfire.value;
    if (withData) {
      out.name = f.elements.task_name.value;
      if (!editing || dataTouched) out.data = f.elements.data.value;
    }
    return out;
  }

  function setError(msg) {
    const box = byTestId('form-error');
    box.textContent = msg || '';
    box.hidden = !msg;
    form().classList.toggle('invalid', Boolean(msg));
  }

  function schedulePreview() {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(preview, 250);
  }

  async function preview() {
    const seq = ++previewSeq;
    const list = byTestId('form-preview');
    let times;
    try {
      times = (await post('preview', Object.assign(spec(false), { count: PREVIEW_COUNT }))).fire_times;
    } catch (e) {
      if (seq !== previewSeq) return;
      list.replaceChildren();
      list.setAttribute('data-state', 'error');
      setError(e.message);
      return;
    }
    if (seq !== previewSeq) return;
    setError('');
    list.setAttribute('data-state', 'ok');
    list.replaceChildren(...(times.length ? times.map((ms) => el('li', { testid: 'form-preview-time', 'data-ms': ms },
      el('span', { class: 'mono' }, fmtTime(ms)), el('span', { class: 'muted' }, ' ' + fmtRelative(ms))))
      : [el('li', { class: 'muted' }, 'No fire: the schedule ends before its first one.')]));
  }

  function fill(task) {
    const f = form();
    f.reset();
    f.elements.task_name.value = task ? task.name : '';
    f.elements.data.value = task ? task.data : '';
    f.elements.type.value = String(task ? task.type : 3);
    f.elements.crontab.value = task && task.type === 3 ? task.crontab : '*/5 * * * *';
    f.elements.timezone.value = task ? task.timezone : (Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');
    const every = task && task.type === 2 ? task.loop_time : 60;
    const unit = ['d', 'h', 'm'].find((u) => every % UNITS[u] === 0) || 's';
    f.elements.loop_unit.value = unit;
    f.elements.loop_every.value = String(every / UNITS[unit]);
    f.elements.loop_count.value = task && task.loop_count ? String(task.loop_count) : '';
    f.elements.start.value = localInput(task ? task.start_time : 0);
    f.elements.end.value = localInput(task ? task.end_time : 0);
    f.elements.ack.checked = Boolean(task && task.ack);
    f.elements.max_runtime.value = task && task.ack ? String(task.max_runtime) : '';
    f.elements.misfire.value = task ? task.misfire : 'coalesce';
    byTestId('form-data-note').hidden = !(task && /[\r\0]/.test(task.data));
  }

  function openForm(task) {
    editing = task || null;
    dataTouched = false;
    fill(task);
    byTestId('form-title').textContent = task ? 'Edit ' + task.name : 'New task';
    byTestId('form-submit').textContent = task ? 'Save changes' : 'Create task';
    byTestId('task-form-modal').hidden = false;
    form().setAttribute('data-mode', task ? 'edit' : 'create');
    setError('');
    showKind();
    preview();
    form().elements.task_name.focus();
  }

  function closeForm() {
    byTestId('task-form-modal').hidden = true;
    editing = null;
  }

  async function submit(ev) {
    ev.preventDefault();
    const body = spec(true);
    const button = byTestId('form-submit');
    button.disabled = true;
    try {
      if (editing) {
        const task = await post('update-task', Object.assign({ taskid: editing._id }, body));
        notice('Saved ' + task.name + '.');
        closeForm();
        TC.select(task._id);
      } else {
        const res = await post('task', body);
        notice(res.deduplicated ? 'Already there: ' + res.taskid + '.' : 'Created ' + res.name + '.');
        closeForm();
        TC.select(res.taskid);
      }
      TC.refreshAfterChange();
    } catch (e) {
      setError(e.message);
    } finally {
      button.disabled = false;
    }
  }

  function setupForm() {
    const f = form();
    const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
    byTestId('timezones').replaceChildren(...['UTC', ...zones.filter((z) => z !== 'UTC')].map((z) => el('option', { value: z })));
    f.addEventListener('submit', submit);
    f.addEventListener('input', (ev) => {
      if (ev.target === f.elements.data) dataTouched = true;
      if (ev.target !== f.elements.data && ev.target !== f.elements.task_name) schedulePreview();
    });
    f.elements.type.addEventListener('change', () => { showKind(); schedulePreview(); });
    f.addEventListener('change', (ev) => { if (ev.target.type === 'checkbox' || ev.target.tagName === 'SELECT') schedulePreview(); });
    byTestId('new-task').addEventListener('click', () => openForm(null));
    byTestId('form-close').addEventListener('click', closeForm);
    byTestId('form-cancel').addEventListener('click', closeForm);
    byTestId('task-form-modal').addEventListener('click', (ev) => { if (ev.target === ev.currentTarget) closeForm(); });
    document.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape' && !byTestId('task-form-modal').hidden) closeForm();
    });
    if (state.view === 'new') openForm(null);
  }

  Object.assign(TC, { openForm, closeForm, setupForm });
})(window.TC);
