// log_merge.js: the log tail's lines, from one container or merged across several (no DOM,
// unit-tested in tests/web). Pieces arrive per stream and may cut a line anywhere: each
// (container, channel) keeps its own unfinished line, so lines of two containers never mix.
// Lines keep their arrival order across containers, each tagged with its container and channel;
// the oldest go once `max` are kept.

export class LogMerge {
  constructor(max = 2000) {
    this.max = max;
    this.lines = [];     // {source, channel, text}
    this.partial = {};   // `${source}\n${channel}` -> the unfinished line
    this.sources = new Set();
  }

  // A piece of output of `source` (a container's name) on `channel` (stdout, stderr).
  add(source, channel, data) {
    const ch = channel === 'stderr' ? 'stderr' : 'stdout';
    const key = `${source}\n${ch}`;
    const parts = ((this.partial[key] || '') + (data || '')).replace(/\r/g, '').split('\n');
    this.partial[key] = parts.pop();
    this.sources.add(source);
    for (const text of parts) this.lines.push({ source, channel: ch, text });
    if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max);
  }

  // The lines shown: `channel` 'all', 'stdout' or 'stderr'; `query` a plain substring of the line
  // or of its container's name (case-insensitive).
  shown(channel = 'all', query = '') {
    const q = query.toLowerCase();
    return this.lines.filter((l) => (channel === 'all' || l.channel === channel) &&
      (!q || l.text.toLowerCase().includes(q) || l.source.toLowerCase().includes(q)));
  }

  // Lines as text: tagged with their container when more than one is followed.
  format(lines) {
    const tagged = this.sources.size > 1;
    return lines.map((l) => (tagged ? `[${l.source}] ` : '') + (l.channel === 'stderr' && tagged ? '(stderr) ' : '') + l.text).join('\n');
  }
}

// Running containers first, newest first; at most `limit` (the bridge lets one WebSocket hold 8
// streams): [chosen, left out].
export function pickFollowed(containers, limit = 8) {
  const running = (containers || []).filter((c) => c.state === 'running')
    .sort((a, b) => (b.created || 0) - (a.created || 0));
  return [running.slice(0, limit), running.slice(limit)];
}
