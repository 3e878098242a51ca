// history_graph.js: the stats history's graph as numbers (no DOM, unit-tested in tests/web): two
// polylines in a w x h box, CPU % and memory, x by sample time, each scaled to its own peak.

// samples: [{t, cpu_percent, memory_bytes}, ...] oldest first (GET .../stats/history).
export function historyLines(samples, w = 600, h = 120) {
  const list = (samples || []).filter((s) => Number.isFinite(s.t));
  if (!list.length) return { cpu: '', memory: '', cpuPeak: 0, memoryPeak: 0, from: null, to: null, count: 0 };
  const from = list[0].t, to = list[list.length - 1].t;
  const span = Math.max(1, to - from);
  const cpuPeak = Math.max(1, ...list.map((s) => s.cpu_percent || 0));
  const memoryPeak = Math.max(1, ...list.map((s) => s.memory_bytes || 0));
  const x = (t) => (list.length < 2 ? w : ((t - from) / span) * w);
  const y = (v, peak) => h - (v / peak) * (h - 16) - 2;
  const line = (key, peak) => list.map((s) => `${x(s.t).toFixed(1)},${y(s[key] || 0, peak).toFixed(1)}`).join(' ');
  return { cpu: line('cpu_percent', cpuPeak), memory: line('memory_bytes', memoryPeak), cpuPeak, memoryPeak,
    from, to, count: list.length };
}

// "12 min", "3.5 h": how long the graph covers.
export function spanWords(ms) {
  if (!(ms > 0)) return 'no time yet';
  if (ms < 120000) return `${Math.round(ms / 1000)} s`;
  if (ms < 7200000) return `${Math.round(ms / 60000)} min`;
  return `${(ms / 3600000).toFixed(1)} h`;
}

// A live sample (a follow-stats piece: {cpu_percent, memory_usage, ...}) taken at `now` (unix ms)
// added to the history's samples as the bridge would keep it: a new point once `stepMs` has passed
// since the newest one, otherwise merged into that newest point (CPU averaged, memory the latest);
// points older than `windowMs` before now fall off. Returns a new array; `samples` is not changed.
export function mergeLive(samples, live, now, stepMs, windowMs) {
  const list = (samples || []).filter((s) => Number.isFinite(s.t) && s.t >= now - windowMs);
  if (!live || !Number.isFinite(now)) return list;
  const point = { t: now, cpu_percent: Number(live.cpu_percent) || 0, memory_bytes: Number(live.memory_usage) || 0, samples: 1 };
  const last = list[list.length - 1];
  if (last && now < last.t) return list;  // older than what is drawn: the clock went back
  if (last && now - last.t < stepMs) {
    const n = (last.samples || 1) + 1;
    list[list.length - 1] = { ...last, t: now, samples: n, memory_bytes: point.memory_bytes,
      cpu_percent: ((last.cpu_percent || 0) * (n - 1) + point.cpu_percent) / n };
  } else {
    list.push(point);
  }
  return list;
}
