// taskcenter dashboard: the last hour per minute, drawn as plain SVG from the server's
// ring buffer (`GET graphs`): fires, deliveries acked / retried / dead, and the lateness
// of first deliveries (p50, p99).
'use strict';

(function (TC) {
  const { byTestId, el, svg, pad, notice, get } = TC;

  let last = null;

  /** A round upper bound for the y axis whose half is round too: 2, 4 or 10 times a power of ten. */
  function niceMax(value) {
    if (!(value > 2)) return 2;
    const p = Math.pow(10, Math.floor(Math.log10(value)));
    return [1, 2, 4, 10].map((m) => m * p).find((m) => m >= value);
  }

  function hm(ms) {
    const d = new Date(ms);
    return pad(d.getHours()) + ':' + pad(d.getMinutes());
  }

  /**
   * One chart: `series` of `{name, cls, values}` (values null where unknown) over the
   * minutes, as bars (`bars`: side by side per minute) or lines.
   */
  function chart(box, minutes, series, opts) {
    const width = Math.max(320, box.clientWidth || 600);
    const height = 170;
    const left = 48;
    const right = 10;
    const top = 12;
    const bottom = 22;
    const plotW = width - left - right;
    const plotH = height - top - bottom;
    const all = series.flatMap((s) => s.values.filter((v) => v !== null));
    const max = niceMax(Math.max(0, ...all));
    const slot = plotW / minutes.length;
    const x = (i) => left + i * slot + slot / 2;
    const y = (v) => top + plotH - (v / max) * plotH;
    const root = svg('svg', {
      width, height, viewBox: '0 0 ' + width + ' ' + height, role: 'img', class: 'chart',
      'aria-label': opts.title, testid: opts.testid,
    });
    for (const frac of [0, 0.5, 1]) {
      const v = max * frac;
      root.append(svg('line', { x1: left, x2: width - right, y1: y(v), y2: y(v), class: 'grid-line' }));
      root.append(svg('text', { x: left - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis-label' }, opts.format(v)));
    }
    minutes.forEach((m, i) => {
      if (i % 10 === 0 || i === minutes.length - 1) {
        if (i === minutes.length - 1 || minutes.length - 1 - i >= 4) {
          const end = i === minutes.length - 1;
          root.append(svg('text', { x: end ? width - right : x(i), y: height - 6, 'text-anchor': end ? 'end' : 'middle', class: 'axis-label' }, hm(m.minute)));
        }
      }
    });
    if (opts.bars) {
      const w = Math.max(1, (slot - 2) / series.length);
      series.forEach((s, k) => s.values.forEach((v, i) => {
        if (!v) return;
        root.append(svg('rect', {
          x: left + i * slot + 1 + k * w, y: y(v), width: w, height: Math.max(1, y(0) - y(v)), class: 'bar ' + s.cls,
          testid: 'chart-bar', 'data-series': s.name, 'data-minute': minutes[i].minute, 'data-value': v,
        }, svg('title', {}, s.name + ' ' + hm(minutes[i].minute) + ': ' + opts.format(v))));
      }));
    } else {
      for (const s of series) {
        let d = '';
        s.values.forEach((v, i) => {
          if (v === null) return;
          d += (d && s.values[i - 1] !== null ? 'L' : 'M') + x(i).toFixed(1) + ' ' + y(v).toFixed(1) + ' ';
        });
        if (d) root.append(svg('path', { d, class: 'line ' + s.cls, 'data-series': s.name }));
        s.values.forEach((v, i) => {
          if (v === null) return;
          root.append(svg('circle', {
            cx: x(i), cy: y(v), r: 2.5, class: 'dot ' + s.cls, testid: 'chart-point', 'data-series': s.name,
            'data-minute': minutes[i].minute, 'data-value': v,
          }, svg('title', {}, s.name + ' ' + hm(minutes[i].minute) + ': ' + opts.format(v))));
        });
      }
    }
    const legend = el('div', { class: 'chart-legend' }, ...series.map((s) => {
      const total = s.values.reduce((a, v) => a + (v || 0), 0);
      return el('span', { class: 'legend-item' }, el('span', { class: 'swatch ' + s.cls }),
        s.name + (opts.total ? ' ' + total : ''));
    }));
    box.replaceChildren(root, legend);
  }

  const count = (v) => String(Math.round(v));
  const ms = (v) => {
    if (v >= 1000) return (v / 1000).toFixed(v >= 10000 ? 0 : 1) + ' s';
    return (v < 10 && v % 1 !== 0 ? v.toFixed(1) : String(Math.round(v))) + ' ms';
  };

  function draw() {
    if (!last) return;
    const m = last.minutes;
    chart(byTestId('chart-fires'), m, [{ name: 'fires', cls: 's-fires', values: m.map((p) => p.fires) }],
      { title: 'Fires per minute', testid: 'chart-fires-svg', bars: true, format: count, total: true });
    chart(byTestId('chart-deliveries'), m, [
      { name: 'acked', cls: 's-acked', values: m.map((p) => p.acked) },
      { name: 'retried', cls: 's-retried', values: m.map((p) => p.retried) },
      { name: 'dead', cls: 's-dead', values: m.map((p) => p.dead) },
    ], { title: 'Deliveries per minute', testid: 'chart-deliveries-svg', bars: true, format: count, total: true });
    chart(byTestId('chart-lateness'), m, [
      { name: 'p50', cls: 's-p50', values: m.map((p) => p.lateness_p50_ms) },
      { name: 'p99', cls: 's-p99', values: m.map((p) => p.lateness_p99_ms) },
    ], { title: 'Delivery lateness', testid: 'chart-lateness-svg', bars: false, format: ms });
  }

  async function refreshGraphs() {
    try {
      last = await get('graphs');
    } catch (e) {
      if (e.status !== 401) notice('Graphs: ' + e.message, 'error');
      return;
    }
    draw();
  }

  function setupGraphs() {
    let resize = null;
    window.addEventListener('resize', () => { clearTimeout(resize); resize = setTimeout(draw, 100); });
  }

  Object.assign(TC, { refreshGraphs, drawGraphs: draw, setupGraphs });
})(window.TC);
