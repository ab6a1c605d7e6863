// taskcenter dashboard: the queues (per consumer group and tag: ready, leased, retrying
// with the next attempt, dead), the consumers seen, and the dead letters with their
// filters, requeue and purge.
'use strict';

(function (TC) {
  const { state, byTestId, el, fmtTime, fmtRelative, timeCell, notice, get, post, query, truncate } = TC;
  const DEAD_PAGE = 500;

  // ---------- queues and consumers ----------

  function figure(n, kind) {
    return el('td', { class: 'num' + (n ? ' n-' + kind : ' zero'), 'data-kind': kind }, n);
  }

  async function refreshQueues() {
    let q;
    try {
      q = await get('queues');
    } catch (e) {
      if (e.status !== 401) notice('Queues: ' + e.message, 'error');
      return;
    }
    const rows = [];
    for (const g of q.groups) {
      rows.push(el('tr', {
        class: 'group-row', testid: 'queue-group', 'data-group': g.group,
        'data-ready': g.ready, 'data-leased': g.leased, 'data-retrying': g.retrying, 'data-dead': g.dead,
      },
      el('td', { class: 'name' }, g.group), el('td', { class: 'muted' }, g.tags.length + ' tag' + (g.tags.length === 1 ? '' : 's')),
      figure(g.ready, 'ready'), figure(g.leased, 'leased'), figure(g.retrying, 'retrying'), el('td', {}),
      figure(g.dead, 'dead')));
      for (const t of g.tags) {
        rows.push(el('tr', {
          class: 'tag-row', testid: 'queue-tag', 'data-group': g.group, 'data-tag': t.tag,
          'data-ready': t.ready, 'data-leased': t.leased, 'data-retrying': t.retrying, 'data-dead': t.dead,
        },
        el('td', {}), el('td', { class: 'mono' }, t.tag),
        figure(t.ready, 'ready'), figure(t.leased, 'leased'), figure(t.retrying, 'retrying'),
        el('td', { testid: 'queue-next-retry' }, t.next_retry === null ? el('span', { class: 'muted' }, '—') : timeCell(t.next_retry)),
        figure(t.dead, 'dead')));
      }
    }
    byTestId('queue-rows').replaceChildren(...rows);
    byTestId('queues-empty').hidden = q.groups.length > 0;
    byTestId('queue-table').hidden = q.groups.length === 0;
    byTestId('consumer-rows').replaceChildren(...q.consumers.map((c) => el('tr', {
      testid: 'consumer-row', 'data-group': c.group, 'data-client': c.client, 'data-in-flight': c.in_flight,
    },
    el('td', { class: 'mono' }, c.client), el('td', {}, c.group),
    el('td', { title: fmtTime(c.last_poll) }, fmtRelative(c.last_poll)),
    el('td', { class: 'num' }, c.in_flight))));
    byTestId('consumers-empty').hidden = q.consumers.length > 0;
    byTestId('consumer-table').hidden = q.consumers.length === 0;
    const groups = q.groups.map((g) => g.group);
    fillSelect(byTestId('dead-group'), groups, 'All groups');
    fillSelect(byTestId('dead-tag'), [...new Set(q.groups.flatMap((g) => g.tags.filter((t) => t.dead > 0).map((t) => t.tag)))].sort(), 'All tags');
  }

  /** Replaces a filter's options, keeping the current choice even while it has no rows. */
  function fillSelect(select, values, all) {
    const current = select.value;
    const list = values.includes(current) || !current ? values : [current, ...values];
    const same = select.options.length === list.length + 1 && list.every((v, i) => select.options[i + 1].value === v);
    if (same) return;
    select.replaceChildren(el('option', { value: '' }, all), ...list.map((v) => el('option', { value: v }, v)));
    select.value = current;
  }

  // ---------- dead letters ----------

  async function refreshDeadLetters() {
    let list;
    try {
      list = (await get('dead-letters?' + query({ limit: DEAD_PAGE, group: state.deadGroup }))).dead_letters;
    } catch (e) {
      if (e.status !== 401) notice('Dead letters: ' + e.message, 'error');
      return;
    }
    if (state.deadTag) list = list.filter((d) => d.tag === state.deadTag);
    state.deadLetters = list;
    byTestId('dead-letter-rows').replaceChildren(...list.map((d) => el('tr', {
      testid: 'dead-letter-row', 'data-msgid': d.msgid, 'data-taskid': d.taskid, 'data-tag': d.tag, 'data-group': d.group,
    },
    el('td', { class: 'name' }, d.tag),
    el('td', { class: 'mono small link', onclick: () => TC.select(d.taskid) }, d.taskid),
    el('td', {}, d.group),
    el('td', {}, fmtTime(d.fire_time)),
    el('td', { class: 'num' }, d.attempts),
    el('td', {}, timeCell(d.died_at)),
    el('td', { class: 'reason clip', testid: 'dead-letter-reason', title: d.reason || '' }, d.reason || el('span', { class: 'muted' }, '—')),
    el('td', { class: 'mono small clip', title: d.data }, truncate(d.data, 60)),
    el('td', { class: 'row-actions' },
      el('button', { type: 'button', testid: 'requeue-button', 'data-msgid': d.msgid, onclick: () => requeue([d.msgid]) }, 'Requeue'),
      purgeButton(d.msgid)))));
    const n = list.length;
    byTestId('dead-letters-empty').hidden = n > 0;
    byTestId('dead-letter-table').hidden = n === 0;
    byTestId('dead-letters-count').textContent = n ? String(n) + (n === DEAD_PAGE ? '+' : '') : '';
    byTestId('requeue-all').disabled = n === 0;
    byTestId('purge-all').disabled = n === 0;
  }

  function purgeButton(msgid) {
    const button = el('button', { type: 'button', class: 'danger', testid: 'purge-button', 'data-msgid': msgid }, 'Purge');
    TC.confirmButton(button, 'Really purge?', () => purge([msgid]));
    return button;
  }

  /** Requeues or purges dead letters (`action`), then shows the result. */
  async function deadAction(action, msgids) {
    if (!msgids.length) return;
    const [verb, noun] = action === 'requeue' ? ['Requeued', 'message'] : ['Purged', 'dead letter'];
    try {
      const res = await post('dead-letters/' + action, { msgids });
      notice(verb + ' ' + res.count + ' ' + noun + (res.count === 1 ? '' : 's') + '.');
    } catch (e) {
      notice(verb + ': ' + e.message, 'error');
    }
    refreshDead();
  }

  const requeue = (msgids) => deadAction('requeue', msgids);
  const purge = (msgids) => deadAction('purge', msgids);

  function refreshDead() {
    refreshDeadLetters();
    refreshQueues();
    TC.refreshCounters();
  }

  function setupQueues() {
    const shown = () => state.deadLetters.map((d) => d.msgid);
    byTestId('requeue-all').addEventListener('click', () => requeue(shown()));
    TC.confirmButton(byTestId('purge-all'), 'Really purge all shown?', () => purge(shown()));
    byTestId('dead-group').addEventListener('change', (ev) => { state.deadGroup = ev.target.value; refreshDeadLetters(); });
    byTestId('dead-tag').addEventListener('change', (ev) => { state.deadTag = ev.target.value; refreshDeadLetters(); });
  }

  Object.assign(TC, { refreshQueues, refreshDeadLetters, setupQueues });
})(window.TC);
