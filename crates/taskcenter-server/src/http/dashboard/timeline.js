// taskcenter dashboard: the timeline of upcoming fires, one lane per task, over a chosen
// window; tasks due later are listed under it.
'use strict';

(function (TC) {
  const { state, byTestId, el, svg, pad, fmtTime, fmtDuration, fmtRelative, schedule, truncate, post, get, query, KINDS } = TC;
  const TIMELINE_LANES = 12;
  const TIMELINE_LANES_ALL = 100;

  /**
   * A lane's label: the task's name, and where several lanes share it, what tells them
   * apart (the schedule, else the end of the id), cut to the label column's width.
   */
  function laneLabel(t, peers, labelW) {
    const room = Math.max(12, Math.floor((labelW - 14) / 6.6));
    const same = peers(t.name);
    if (same.length < 2) return truncate(t.name, room);
    const short = (task) => (task.type === 1 ? '' : schedule(task).split(' · ')[0]);
    const unique = short(t) && same.filter((o) => short(o) === short(t)).length === 1;
    const tail = unique ? short(t) : '#' + t._id.slice(-6);
    const name = truncate(t.name, Math.max(6, room - tail.length - 3));
    return truncate(name + ' · ' + tail, room);
  }


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

  /**
   * Text widths depend on the fonts the browser has, so collisions are settled after layout:
   * a tick label that touches the `now` label or the label before it is removed.
   */
  function dropCrowdedTickLabels(root) {
    const nowLabel = root.querySelector('.now-label');
    if (!nowLabel || typeof nowLabel.getBBox !== 'function') return;
    const nowBox = nowLabel.getBBox();
    let right = nowBox.width > 0 ? nowBox.x + nowBox.width : -Infinity;
    for (const label of root.querySelectorAll('.tick-label')) {
      const box = label.getBBox();
      if (box.x < right + 6) label.remove();
      else right = box.x + box.width;
    }
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
      // Leave room for the `now` label; labels that still touch it are dropped once measured.
      if (x(t) - labelW < 40) continue;
      root.append(svg('text', { x: x(t), y: top - 10, class: 'tick-label', 'text-anchor': 'middle' }, tickLabel(t, range)));
    }
    root.append(svg('line', { x1: labelW, x2: labelW, y1: top - 6, y2: height - 4, class: 'now' }));
    root.append(svg('text', { x: labelW + 4, y: top - 10, class: 'now-label' }, 'now'));
    if (!data.lanes.length) {
      root.append(svg('text', { x: labelW + 12, y: top + 16, class: 'empty-label' }, 'No fires due in this window.'));
    }
    const names = new Map();
    for (const lane of data.lanes) names.set(lane.task.name, [...(names.get(lane.task.name) || []), lane.task]);
    const shared = (name) => names.get(name) || [];
    data.lanes.forEach((lane, i) => {
      const y = top + i * laneH + laneH / 2;
      const t = lane.task;
      const g = svg('g', { class: 'lane lane-' + (KINDS[t.type] || 'x'), testid: 'timeline-lane', 'data-taskid': t._id, 'data-name': t.name });
      g.append(svg('line', { x1: labelW, x2: width - 8, y1: y, y2: y, class: 'lane-line' }));
      const label = svg('text', { x: labelW - 10, y: y + 4, 'text-anchor': 'end', class: 'lane-label', testid: 'timeline-label', 'data-taskid': t._id }, laneLabel(t, shared, labelW));
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
      g.addEventListener('click', () => TC.select(t._id));
      root.append(g);
    });
    box.replaceChildren(root);
    dropCrowdedTickLabels(root);
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
        span.addEventListener('click', () => TC.select(t._id));
        return span;
      });
      parts.push(el('span', {}, 'Later:'), ...names);
      if (data.later.length > 5) parts.push(el('span', {}, 'and ' + (data.later.length - 5) + ' more'));
    }
    later.replaceChildren(...parts);
    later.hidden = parts.length === 0;
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


  Object.assign(TC, { refreshTimelineData, drawTimeline, setupTimeline });
})(window.TC);
