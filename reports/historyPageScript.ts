/**
 * The script of a history page, as text embedded in the page (the page must open from a file
 * with no server and no other files). It draws on one canvas and renders only the rows of the
 * linearization list that are on screen, so a 100,000-operation history costs a few megabytes
 * of JSON and no DOM node per operation (Porcupine's pages hit 1.5 GB that way, its issue #20).
 *
 * Plain ES2019 in a string: it runs in the browser, not under Node, and is not type-checked;
 * `historyPage.test.ts` at least compiles it.
 */
export const historyPageScript = String.raw`
'use strict';
(function () {
  var data = JSON.parse(document.getElementById('history-data').textContent);
  var count = data.invokedAt.length;
  var strings = data.strings;
  var canvas = document.getElementById('timeline');
  var context = canvas.getContext('2d');
  var tooltip = document.getElementById('tooltip');
  var list = document.getElementById('order-list');
  var listSpacer = document.getElementById('order-spacer');
  var listRows = document.getElementById('order-rows');
  var select = document.getElementById('partition-select');

  function endOf(i) { var end = data.completedAt[i]; return end === null ? Infinity : end; }

  var timeMin = Infinity, timeMax = -Infinity;
  for (var i = 0; i < count; i++) {
    timeMin = Math.min(timeMin, data.invokedAt[i]);
    timeMax = Math.max(timeMax, data.completedAt[i] === null ? data.invokedAt[i] : data.completedAt[i]);
  }
  if (count === 0) { timeMin = 0; timeMax = 1; }
  var margin = Math.max(1, (timeMax - timeMin) * 0.02);

  // Per lane: operations by invocation, and the running maximum of their ends, so that the ones
  // overlapping the view are found by binary search.
  var lanes = data.processes.map(function () { return []; });
  for (i = 0; i < count; i++) lanes[data.lane[i]].push(i);
  var laneEnds = lanes.map(function (lane) {
    lane.sort(function (a, b) { return data.invokedAt[a] - data.invokedAt[b]; });
    var running = -Infinity;
    return lane.map(function (op) { running = Math.max(running, endOf(op)); return running; });
  });

  var orders = data.partitions.map(function () { return []; });
  for (i = 0; i < count; i++) if (data.position[i] >= 0) orders[data.partition[i]][data.position[i]] = i;
  var stuck = {};
  if (data.violation >= 0) data.partitions[data.violation].stuck.forEach(function (op) { stuck[op] = true; });

  var axisHeight = 22;
  var laneHeight = Math.max(3, Math.min(18, Math.floor(600 / Math.max(1, lanes.length))));
  var view = { start: timeMin - margin, end: timeMax + margin };
  var hovered = -1, selected = -1;
  var shownPartition = data.violation >= 0 ? data.violation : 0;

  function resize() {
    var box = canvas.parentElement.getBoundingClientRect();
    var ratio = window.devicePixelRatio || 1;
    canvas.width = Math.floor(box.width * ratio);
    canvas.height = Math.floor((axisHeight + lanes.length * laneHeight + 8) * ratio);
    canvas.style.width = box.width + 'px';
    canvas.style.height = (axisHeight + lanes.length * laneHeight + 8) + 'px';
    context.setTransform(ratio, 0, 0, ratio, 0, 0);
    draw();
  }
  function width() { return canvas.width / (window.devicePixelRatio || 1); }
  function xOf(time) { return (time - view.start) / (view.end - view.start) * width(); }
  function timeAt(x) { return view.start + x / width() * (view.end - view.start); }

  function colorOf(op) {
    if (stuck[op]) return '#d62728';
    var outcome = data.outcomes[op];
    if (data.partition[op] < 0) return '#d9d9d9';
    if (data.position[op] >= 0) return data.partition[op] === data.violation ? '#ff9f1c' : '#2ca02c';
    if (outcome === 'u') return '#b0b0b0';
    return '#8c8c8c';
  }

  function firstVisible(lane) {
    var ends = laneEnds[lane], low = 0, high = ends.length;
    while (low < high) { var middle = (low + high) >> 1; if (ends[middle] < view.start) low = middle + 1; else high = middle; }
    return low;
  }

  function drawAxis() {
    var span = view.end - view.start, step = Math.pow(10, Math.floor(Math.log10(span / 8)));
    if (span / step > 16) step *= 5; else if (span / step > 8) step *= 2;
    context.fillStyle = '#555'; context.font = '11px sans-serif'; context.textBaseline = 'middle';
    for (var t = Math.ceil(view.start / step) * step; t <= view.end; t += step) {
      var x = xOf(t);
      context.fillRect(x, axisHeight - 6, 1, 6);
      context.fillText(String(Math.round(t * 1000) / 1000), x + 2, 8);
    }
  }

  function draw() {
    context.clearRect(0, 0, width(), canvas.height);
    drawAxis();
    context.textBaseline = 'middle';
    for (var lane = 0; lane < lanes.length; lane++) {
      var y = axisHeight + lane * laneHeight;
      if (lane % 2 === 0) { context.fillStyle = '#f6f6f6'; context.fillRect(0, y, width(), laneHeight); }
      var ops = lanes[lane];
      for (var k = firstVisible(lane); k < ops.length; k++) {
        var op = ops[k];
        if (data.invokedAt[op] > view.end) break;
        var left = Math.max(-1, xOf(data.invokedAt[op]));
        var right = Math.min(width() + 1, xOf(endOf(op)));
        if (right < 0) continue;
        context.fillStyle = colorOf(op);
        context.globalAlpha = data.outcomes[op] === 'u' ? 0.45 : 1;
        context.fillRect(left, y + 1, Math.max(1, right - left), laneHeight - 2);
        context.globalAlpha = 1;
        if (op === hovered || op === selected) {
          context.strokeStyle = '#000'; context.lineWidth = 2;
          context.strokeRect(left, y + 1, Math.max(1, right - left), laneHeight - 2);
        }
        if (right - left > 34 && laneHeight >= 12 && data.position[op] >= 0) {
          context.fillStyle = '#000'; context.font = '10px sans-serif';
          context.fillText(String(data.position[op] + 1), left + 3, y + laneHeight / 2);
        }
      }
    }
    if (hovered >= 0) drawNeighbours(hovered);
  }

  // Lines from an operation to the ones just before and after it in its linearization.
  function drawNeighbours(op) {
    var place = data.position[op];
    if (place < 0) return;
    var order = orders[data.partition[op]];
    context.strokeStyle = '#1f77b4'; context.lineWidth = 1.5;
    [order[place - 1], order[place + 1]].forEach(function (other) {
      if (other === undefined) return;
      context.beginPath();
      context.moveTo(centerX(op), centerY(op));
      context.lineTo(centerX(other), centerY(other));
      context.stroke();
    });
  }
  function centerX(op) { return (Math.max(0, xOf(data.invokedAt[op])) + Math.min(width(), xOf(endOf(op)))) / 2; }
  function centerY(op) { return axisHeight + data.lane[op] * laneHeight + laneHeight / 2; }

  function opAt(x, y) {
    var lane = Math.floor((y - axisHeight) / laneHeight);
    if (lane < 0 || lane >= lanes.length) return -1;
    var time = timeAt(x), slack = 3 * (view.end - view.start) / width(), found = -1, ops = lanes[lane];
    for (var k = firstVisible(lane); k < ops.length && data.invokedAt[ops[k]] <= time + slack; k++) {
      if (endOf(ops[k]) >= time - slack) found = ops[k];
    }
    return found;
  }

  function describe(op) {
    var end = data.completedAt[op] === null ? '∞' : data.completedAt[op];
    var outcome = { o: 'ok', f: 'failed (dropped)', u: 'unknown outcome' }[data.outcomes[op]];
    var lines = ['#' + op + '  process ' + data.processes[data.lane[op]] + '  [' + data.invokedAt[op] + ', ' + end + ']', strings[data.text[op]], outcome];
    var partition = data.partition[op];
    if (partition < 0) lines.push('dropped: cannot affect the verdict');
    else {
      var name = data.partitions[partition].name;
      if (name !== '') lines.push('partition ' + JSON.stringify(name));
      if (data.position[op] >= 0) lines.push('linearized ' + (data.position[op] + 1) + ' of ' + orders[partition].length + '; state after: ' + strings[data.stateAfter[op]]);
      else if (stuck[op]) lines.push('could not be placed after the longest prefix');
      else lines.push('not in the linearization found');
    }
    return lines;
  }

  canvas.addEventListener('mousemove', function (event) {
    var box = canvas.getBoundingClientRect();
    if (dragging) {
      var shift = (event.clientX - dragging.x) / width() * (view.end - view.start);
      view = { start: dragging.view.start - shift, end: dragging.view.end - shift };
      draw();
      return;
    }
    var op = opAt(event.clientX - box.left, event.clientY - box.top);
    if (op !== hovered) { hovered = op; draw(); }
    if (op < 0) { tooltip.style.display = 'none'; return; }
    tooltip.textContent = describe(op).join('\n');
    tooltip.style.display = 'block';
    tooltip.style.left = Math.min(event.clientX + 14, window.innerWidth - 460) + 'px';
    tooltip.style.top = (event.clientY + 14) + 'px';
  });
  canvas.addEventListener('mouseleave', function () { hovered = -1; tooltip.style.display = 'none'; draw(); });
  var dragging = null;
  canvas.addEventListener('mousedown', function (event) { dragging = { x: event.clientX, view: view }; });
  window.addEventListener('mouseup', function () { dragging = null; });
  canvas.addEventListener('wheel', function (event) {
    event.preventDefault();
    var box = canvas.getBoundingClientRect();
    var pivot = timeAt(event.clientX - box.left), factor = Math.exp(event.deltaY * 0.002);
    var span = Math.max(1e-3, (view.end - view.start) * factor);
    var share = (pivot - view.start) / (view.end - view.start);
    view = { start: pivot - share * span, end: pivot + (1 - share) * span };
    draw();
  }, { passive: false });
  canvas.addEventListener('dblclick', function () { view = { start: timeMin - margin, end: timeMax + margin }; draw(); });

  function focus(op) {
    selected = op;
    var span = view.end - view.start, middle = (data.invokedAt[op] + Math.min(endOf(op), data.invokedAt[op] + span / 4)) / 2;
    view = { start: middle - span / 2, end: middle + span / 2 };
    draw();
    renderRows();
  }

  // The linearization of the shown partition as a virtual list: only visible rows exist.
  var rowHeight = 20;
  function rowsOf() {
    var rows = orders[shownPartition] ? orders[shownPartition].slice() : [];
    if (shownPartition === data.violation) rows.push(-1);
    return rows.concat(shownPartition === data.violation ? data.partitions[data.violation].stuck : []);
  }
  var rows = [];
  function renderRows() {
    var first = Math.max(0, Math.floor(list.scrollTop / rowHeight) - 5);
    var last = Math.min(rows.length, first + Math.ceil(list.clientHeight / rowHeight) + 10);
    listRows.style.transform = 'translateY(' + first * rowHeight + 'px)';
    listRows.textContent = '';
    for (var r = first; r < last; r++) {
      var op = rows[r], row = document.createElement('div');
      row.className = 'row' + (op === selected ? ' selected' : '') + (stuck[op] ? ' stuck' : '');
      if (op < 0) { row.className = 'row heading'; row.textContent = 'could not be placed next:'; }
      else {
        var place = data.position[op] >= 0 ? (data.position[op] + 1) + '. ' : '✗ ';
        row.textContent = place + strings[data.text[op]] + (data.stateAfter[op] >= 0 ? '  ⇒ ' + strings[data.stateAfter[op]] : '');
        row.title = describe(op).join('\n');
        row.addEventListener('click', focus.bind(null, op));
      }
      listRows.appendChild(row);
    }
  }
  function showPartition(index) {
    shownPartition = index;
    rows = rowsOf();
    listSpacer.style.height = rows.length * rowHeight + 'px';
    list.scrollTop = 0;
    renderRows();
  }
  list.addEventListener('scroll', renderRows);
  data.partitions.forEach(function (partition, index) {
    var option = document.createElement('option');
    option.value = String(index);
    option.textContent = (partition.name === '' ? 'whole history' : 'partition ' + JSON.stringify(partition.name)) + ': ' + partition.verdict;
    select.appendChild(option);
  });
  select.value = String(shownPartition);
  select.addEventListener('change', function () { showPartition(Number(select.value)); });
  window.addEventListener('resize', resize);
  showPartition(shownPartition);
  resize();
})();
`;
