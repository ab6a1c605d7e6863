// taskcenter dashboard: starts the page. State lives in `TC.state` and in the URL hash
// (#view=queues&task=ID&name=…&status=…), so a view can be linked to and reloaded.
// Counters poll every 2 s, lists every 5 s, while the tab is visible.
'use strict';

(function (TC) {
  const { state, byTestId, query } = TC;
  const COUNTER_EVERY_MS = 2000;
  const LIST_EVERY_MS = 5000;
  const VIEWS = ['tasks', 'queues', 'graphs'];

  function readHash() {
    const p = new URLSearchParams(location.hash.slice(1));
    state.selected = p.get('task') || null;
    state.query = p.get('name') || '';
    state.status = p.get('status') || '';
    const view = p.get('view') || 'tasks';
    state.view = view === 'new' || VIEWS.includes(view) ? view : 'tasks';
    const form = byTestId('task-filters');
    form.q.value = state.query;
    form.status.value = state.status;
  }

  function writeHash() {
    const view = state.view === 'tasks' || state.view === 'new' ? null : state.view;
    const hash = query({ view, task: state.selected, name: state.query, status: state.status });
    history.replaceState(null, '', hash ? '#' + hash : location.pathname + location.search);
  }

  function showView() {
    const view = state.view === 'new' ? 'tasks' : state.view;
    for (const name of VIEWS) {
      byTestId('view-' + name).hidden = name !== view;
      const tab = byTestId('tab-' + name);
      tab.classList.toggle('on', name === view);
      tab.setAttribute('aria-selected', String(name === view));
    }
    if (view === 'tasks') TC.drawTimeline();
    if (view === 'graphs') TC.drawGraphs();
  }

  function refreshLists() {
    TC.refreshTasks();
    TC.refreshDetail();
    TC.refreshTimelineData();
    TC.refreshQueues();
    TC.refreshDeadLetters();
    TC.refreshGraphs();
  }

  function refreshAll() {
    TC.refreshCounters();
    refreshLists();
  }

  /** After the user changed tasks: everything that shows them. */
  function refreshAfterChange() {
    TC.refreshTasks();
    TC.refreshDetail();
    TC.refreshTimelineData();
    TC.refreshCounters();
  }

  function every(ms, fn) {
    setInterval(() => { if (!document.hidden) fn(); }, ms);
  }

  function start() {
    const tz = Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';
    byTestId('timezone').textContent = 'times in ' + tz;
    readHash();
    TC.setupToken();
    TC.setupFilters();
    TC.setupDetail();
    TC.setupBulk();
    TC.setupTimeline();
    TC.setupQueues();
    TC.setupGraphs();
    TC.setupForm();
    for (const name of VIEWS) {
      byTestId('tab-' + name).addEventListener('click', () => {
        state.view = name;
        writeHash();
        showView();
      });
    }
    showView();
    window.addEventListener('hashchange', () => { readHash(); showView(); refreshLists(); });
    refreshAll();
    every(COUNTER_EVERY_MS, TC.refreshCounters);
    every(LIST_EVERY_MS, refreshLists);
  }

  Object.assign(TC, { writeHash, showView, refreshAll, refreshAfterChange });

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})(window.TC);
