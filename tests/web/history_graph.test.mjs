// Unit tests of ui-bridge/web/js/history_graph.js: the stats history graph's polylines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { historyLines, mergeLive, spanWords } from '../../ui-bridge/web/js/history_graph.js';

const pts = (s) => s.split(' ').map((p) => p.split(',').map(Number));

test('x follows time across the box; y is scaled to each line\'s own peak', () => {
  const g = historyLines([
    { t: 1000, cpu_percent: 0, memory_bytes: 100 },
    { t: 2000, cpu_percent: 50, memory_bytes: 400 },
    { t: 5000, cpu_percent: 25, memory_bytes: 200 }], 600, 120);
  assert.equal(g.count, 3);
  assert.equal(g.cpuPeak, 50);
  assert.equal(g.memoryPeak, 400);
  const cpu = pts(g.cpu), mem = pts(g.memory);
  assert.deepEqual(cpu.map((p) => p[0]), [0, 150, 600]);  // 1 s of 4 s = a quarter of the width
  assert.equal(cpu[1][1], 14);                             // the peak stops under the captions
  assert.equal(cpu[0][1], 118);                            // zero sits on the bottom margin
  assert.ok(mem[2][1] > mem[1][1], 'half the memory peak draws lower');
  assert.equal(g.to - g.from, 4000);
});

test('no samples, or samples without a time, draw nothing', () => {
  for (const s of [[], null, [{ cpu_percent: 3 }]]) {
    const g = historyLines(s);
    assert.equal(g.count, 0);
    assert.equal(g.cpu, '');
  }
  assert.equal(historyLines([{ t: 5, cpu_percent: 1 }]).cpu, '600.0,14.0');  // one point: at the right edge
});

test('the span in words', () => {
  assert.equal(spanWords(0), 'no time yet');
  assert.equal(spanWords(45000), '45 s');
  assert.equal(spanWords(12 * 60000), '12 min');
  assert.equal(spanWords(3.5 * 3600000), '3.5 h');
});

test('a live sample starts a new point once a step has passed, else merges into the newest', () => {
  const base = [{ t: 1000, cpu_percent: 10, memory_bytes: 100, samples: 1 }];
  let s = mergeLive(base, { cpu_percent: 30, memory_usage: 300 }, 5000, 10000, 3600000);
  assert.equal(s.length, 1, 'within the step: merged');
  assert.deepEqual(s[0], { t: 5000, cpu_percent: 20, memory_bytes: 300, samples: 2 });
  assert.equal(base[0].cpu_percent, 10, 'the input is not changed');
  s = mergeLive(s, { cpu_percent: 40, memory_usage: 400 }, 15000, 10000, 3600000);
  assert.equal(s.length, 2, 'a step later: a new point');
  assert.deepEqual(s[1], { t: 15000, cpu_percent: 40, memory_bytes: 400, samples: 1 });
  assert.equal(historyLines(s).count, 2);
});

test('live points push the oldest out of the window; a sample from the past is ignored', () => {
  const s = [{ t: 0, cpu_percent: 1 }, { t: 50000, cpu_percent: 2 }];
  const after = mergeLive(s, { cpu_percent: 3 }, 70000, 10000, 60000);
  assert.deepEqual(after.map((p) => p.t), [50000, 70000]);
  assert.deepEqual(mergeLive(s, { cpu_percent: 9 }, 40000, 10000, 1e9).map((p) => p.cpu_percent), [1, 2]);
  assert.deepEqual(mergeLive(null, { cpu_percent: 5, memory_usage: 7 }, 10, 1000, 1e9),
    [{ t: 10, cpu_percent: 5, memory_bytes: 7, samples: 1 }]);
});
