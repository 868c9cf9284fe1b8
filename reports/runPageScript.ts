/**
 * The script of a run page, as text embedded in the page (it must open from a file, with no server
 * and no other files). It draws the run on one SVG: a time axis, the faults, one lane per member
 * (its role as colour, its term as labels, its commit index as a line, its process down or paused
 * shaded), one lane per client (each operation a bar from invocation to completion) and the
 * violation as a red line. Zoom buttons redraw it wider. Every mark carries a title (hover).
 *
 * Plain ES2019 in a string: it runs in the browser, not under Node, and is not type-checked;
 * `runPage.test.ts` runs it in headless Chromium.
 */
export const runPageScript = String.raw`
'use strict';
(function () {
  var data = JSON.parse(document.getElementById('run-data').textContent);
  var rec = data.recording;
  var svgNs = 'http://www.w3.org/2000/svg';
  var box = document.getElementById('timeline');
  var zoom = 1;
  var labelWidth = 92, axisHeight = 24, faultHeight = 26, memberHeight = 34, clientHeight = 13, gap = 4;
  var roleColours = { leader: '#2ca02c', candidate: '#ff7f0e', 'pre-candidate': '#ffbb78', follower: '#aec7e8' };
  var outcomeColours = { ok: '#2ca02c', fail: '#b0b0b0', unknown: '#ff9f1c' };
  var endUs = Math.max(1, rec.endUs);

  function el(name, attributes, parent, title) {
    var node = document.createElementNS(svgNs, name);
    for (var key in attributes) node.setAttribute(key, attributes[key]);
    if (title) { var t = document.createElementNS(svgNs, 'title'); t.textContent = title; node.appendChild(t); }
    if (parent) parent.appendChild(node);
    return node;
  }
  function seconds(us) { return (us / 1e6).toFixed(6) + 's'; }

  function draw() {
    while (box.firstChild) box.removeChild(box.firstChild);
    var width = Math.max(400, (box.clientWidth - labelWidth - 8) * zoom);
    var x = function (us) { return labelWidth + (Math.min(us, endUs) / endUs) * width; };
    var lanes = [];
    var y = axisHeight;
    lanes.push({ kind: 'faults', top: y, height: faultHeight }); y += faultHeight + gap;
    rec.members.forEach(function (member) { lanes.push({ kind: 'node', member: member, top: y, height: memberHeight }); y += memberHeight + gap; });
    rec.clients.forEach(function (client) { lanes.push({ kind: 'client', client: client, top: y, height: clientHeight }); y += clientHeight + 2; });
    var svg = el('svg', { width: labelWidth + width + 8, height: y + 8, id: 'run-svg' }, box);
    drawAxis(svg, x, width, y);
    lanes.forEach(function (lane) {
      var g = el('g', { 'data-lane': lane.kind === 'faults' ? 'faults' : lane.kind === 'node' ? 'node-' + lane.member.id : 'client-' + lane.client.id }, svg);
      var label = lane.kind === 'faults' ? 'faults' : lane.kind === 'node' ? 'node ' + lane.member.id : 'client ' + lane.client.id;
      el('text', { x: 4, y: lane.top + Math.min(lane.height - 3, 14), class: 'lane-label' }, g).textContent = label;
      if (lane.kind === 'faults') drawFaults(g, lane, x);
      else if (lane.kind === 'node') drawMember(g, lane, x);
      else drawClient(g, lane, x);
    });
    drawQuietAndViolation(svg, x, y);
  }

  function drawAxis(svg, x, width, bottom) {
    var g = el('g', { class: 'axis' }, svg);
    var step = niceStep(endUs / Math.max(1, width / 90));
    for (var t = 0; t <= endUs; t += step) {
      el('line', { x1: x(t), x2: x(t), y1: axisHeight - 6, y2: bottom, class: 'grid' }, g);
      el('text', { x: x(t) + 2, y: 12, class: 'tick-label' }, g).textContent = (t / 1e6) + ' s';
    }
  }
  function niceStep(us) {
    var candidates = [1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7, 2e7, 6e7];
    for (var i = 0; i < candidates.length; i++) if (candidates[i] >= us) return candidates[i];
    return 6e7;
  }

  function drawFaults(g, lane, x) {
    var open = { partition: null, network: null };
    function close(kind, atUs) {
      var mark = open[kind];
      if (!mark) return;
      var rect = el('rect', { x: x(mark.atUs), y: lane.top + 2, width: Math.max(1, x(atUs) - x(mark.atUs)), height: lane.height - 4, class: 'fault fault-' + kind }, g,
        mark.text + ' from ' + seconds(mark.atUs) + ' to ' + seconds(atUs));
      rect.setAttribute('data-fault', kind);
      open[kind] = null;
    }
    rec.faults.forEach(function (fault) {
      if (fault.kind === 'partition' || fault.kind === 'heal' || fault.kind === 'quiet') close('partition', fault.atUs);
      if (fault.kind === 'network' || fault.kind === 'quiet') close('network', fault.atUs);
      if (fault.kind === 'partition' || fault.kind === 'network') { open[fault.kind] = fault; return; }
      if (fault.kind === 'heal' || fault.kind === 'quiet') return;
      var px = x(fault.atUs);
      el('path', { d: 'M' + (px - 4) + ' ' + (lane.top + lane.height - 2) + ' L' + px + ' ' + (lane.top + 4) + ' L' + (px + 4) + ' ' + (lane.top + lane.height - 2) + ' Z', class: 'fault fault-instant', 'data-fault': fault.kind }, g,
        fault.text + ' at ' + seconds(fault.atUs));
    });
    close('partition', endUs);
    close('network', endUs);
  }

  function drawMember(g, lane, x) {
    var member = lane.member;
    var statuses = member.statuses;
    var top = lane.top, height = lane.height;
    el('rect', { x: labelWidth, y: top, width: x(endUs) - labelWidth, height: height, class: 'lane-back' }, g);
    for (var i = 0; i < statuses.length; i++) {
      var from = statuses[i][0], role = statuses[i][1];
      var j = i;
      while (j + 1 < statuses.length && statuses[j + 1][1] === role) j++;
      var to = j + 1 < statuses.length ? statuses[j + 1][0] : endUs;
      if (role !== null) el('rect', { x: x(from), y: top, width: Math.max(1, x(to) - x(from)), height: height, fill: roleColours[role] || '#ddd', class: 'role role-' + role }, g,
        'node ' + member.id + ': ' + role + ' from ' + seconds(from) + ' to ' + seconds(to));
      i = j;
    }
    var lastTermX = -1e9, lastTerm = null;
    statuses.forEach(function (status) {
      if (status[2] === null || status[2] === lastTerm) return;
      lastTerm = status[2];
      if (x(status[0]) - lastTermX < 26) return;
      lastTermX = x(status[0]);
      el('text', { x: lastTermX + 1, y: top + 10, class: 'term-label' }, g, 'term ' + status[2] + ' from ' + seconds(status[0])).appendChild(document.createTextNode('t' + status[2]));
    });
    drawCommitLine(g, member, top, height, x);
    var processes = member.processes;
    for (var k = 0; k < processes.length; k++) {
      var state = processes[k][1];
      if (state === 'up') continue;
      var end = k + 1 < processes.length ? processes[k + 1][0] : endUs;
      el('rect', { x: x(processes[k][0]), y: top, width: Math.max(2, x(end) - x(processes[k][0])), height: height, class: 'process process-' + state }, g,
        'node ' + member.id + ' ' + state + ' from ' + seconds(processes[k][0]) + ' to ' + seconds(end));
    }
  }

  function drawCommitLine(g, member, top, height, x) {
    var commits = member.statuses.filter(function (s) { return s[3] !== null; });
    if (commits.length === 0) return;
    var highest = 1;
    rec.members.forEach(function (m) { m.statuses.forEach(function (s) { if (s[3] !== null && s[3] > highest) highest = s[3]; }); });
    var yOf = function (commit) { return top + height - 2 - (commit / highest) * (height - 14); };
    var points = [], lastX = -1;
    commits.forEach(function (s, index) {
      var px = x(s[0]);
      if (px - lastX < 1 && index !== commits.length - 1) return;
      if (points.length > 0) points.push(px.toFixed(1) + ',' + points[points.length - 1].split(',')[1]);
      points.push(px.toFixed(1) + ',' + yOf(s[3]).toFixed(1));
      lastX = px;
    });
    var last = commits[commits.length - 1];
    points.push(x(endUs).toFixed(1) + ',' + yOf(last[3]).toFixed(1));
    el('polyline', { points: points.join(' '), class: 'commit-line' }, g, 'node ' + member.id + ' commit index (highest ' + last[3] + ')');
  }

  function drawClient(g, lane, x) {
    var operations = lane.client.operations;
    for (var i = 0; i < operations.length; i++) {
      var op = operations[i];
      var end = op[1] !== null ? op[1] : (i + 1 < operations.length ? operations[i + 1][0] : endUs);
      el('rect', { x: x(op[0]), y: lane.top, width: Math.max(1, x(end) - x(op[0])), height: lane.height, fill: outcomeColours[op[2]], class: 'op op-' + op[2] }, g,
        'client ' + lane.client.id + ', ' + seconds(op[0]) + '–' + (op[1] === null ? 'gave up' : seconds(op[1])) + ': ' + op[3]);
    }
  }

  function drawQuietAndViolation(svg, x, bottom) {
    rec.faults.forEach(function (fault) {
      if (fault.kind !== 'quiet') return;
      el('line', { x1: x(fault.atUs), x2: x(fault.atUs), y1: axisHeight - 6, y2: bottom, class: 'quiet-line' }, svg, 'quiet at ' + seconds(fault.atUs) + ': faults stop, liveness must follow');
    });
    if (!data.violation) return;
    var vx = x(data.violation.timeUs);
    el('line', { x1: vx, x2: vx, y1: 0, y2: bottom, class: 'violation-line' }, svg, 'violation at ' + seconds(data.violation.timeUs) + ': ' + data.violation.message);
    el('text', { x: vx + 3, y: axisHeight - 8, class: 'violation-label' }, svg).textContent = 'violation';
  }

  document.getElementById('zoom-in').addEventListener('click', function () { zoom = Math.min(zoom * 2, 256); draw(); });
  document.getElementById('zoom-out').addEventListener('click', function () { zoom = Math.max(zoom / 2, 1); draw(); });
  document.getElementById('zoom-violation').addEventListener('click', function () {
    if (!data.violation) return;
    zoom = 16; draw();
    box.scrollLeft = Math.max(0, (data.violation.timeUs / endUs) * (box.scrollWidth - labelWidth) - box.clientWidth / 2);
  });
  window.addEventListener('resize', draw);
  draw();
  document.body.setAttribute('data-rendered', 'true');
})();
`;
