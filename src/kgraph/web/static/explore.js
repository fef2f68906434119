/* kgraph explorer: search, expand on click, style by kind, filters, audit overlay.
 *
 * Every string from the graph reaches the DOM through textContent (never innerHTML), and
 * vis-network tooltips are DOM elements built the same way, so a document that quotes
 * "<script>" shows it as text. The canvas holds only what the user opened or expanded.
 * Positions come from kgLayout.layered (static/layout.js): levels top-down, siblings together,
 * wide levels wrapped into rows; physics off. The default zoom never drops below the scale at
 * which the smallest label is 10 px, and expanding or collapsing keeps the clicked node where
 * it was on screen. Words come from the page (vi, or en with ?lang=en).
 */
(function () {
  "use strict";
  const CONFIG = JSON.parse(document.getElementById("explorer-config").textContent);
  const W = CONFIG.words;
  const fmt = (text, n) => String(text).replace("{n}", String(n));
  const REL = CONFIG.relations;

  const KIND_STYLE = {
    document: { shape: "box", color: "#2f6db5", font: "#ffffff" },
    task: { shape: "ellipse", color: "#cfe3c8", font: "#1d2733" },
    assignment: { shape: "box", color: "#f5d98b", font: "#1d2733" },
    duty: { shape: "ellipse", color: "#fbeec5", font: "#1d2733" },
    agency: { shape: "diamond", color: "#2e9c6a", font: "#1d2733" },
    collective: { shape: "hexagon", color: "#7fc7a4", font: "#1d2733" },
    mention: { shape: "triangle", color: "#d9d9d9", font: "#1d2733" },
    province: { shape: "star", color: "#8e5bb5", font: "#1d2733" },
  };
  const DOCTYPE_COLOR = {
    "Chỉ thị": "#b3261e", "Nghị quyết": "#7b1fa2", "Kết luận": "#6a1b9a",
    "Kế hoạch": "#2f6db5", "Quyết định": "#00796b", "Chương trình": "#1565c0",
    "Công văn": "#546e7a", "Thông báo": "#5d4037",
  };
  const EDGE_STYLE = {
    implements: { color: "#1f3a5f", width: 2.5, dashes: false, label: `${REL.implements} (kg:implements)` },
    based_on: { color: "#1f3a5f", width: 1.5, dashes: [8, 4], label: `${REL.based_on} (eli:based_on)` },
    cites: { color: "#9aa7b5", width: 1, dashes: [2, 4], label: `${REL.cites} (eli:cites)` },
    task: { color: "#9fb7a0", width: 1, dashes: false, label: `${REL.task} (kg:hasTask)` },
    subtask: { color: "#9fb7a0", width: 1, dashes: false, label: "" },
    assignment: { color: "#c9a227", width: 1, dashes: false, label: `${REL.assignment} (kg:hasAssignment)` },
    duty: { color: "#c9a227", width: 1, dashes: [4, 3], label: "" },
    addressee: { color: "#2e9c6a", width: 2, dashes: false, label: `${REL.addressee} (kg:addressee)` },
    request: { color: "#8e5bb5", width: 2, dashes: [6, 4], label: `${REL.request} (kg:isRequest → addressee)` },
    lead: { color: "#d32f2f", width: 3, dashes: false, label: `${REL.lead} (kg:leadAgency)` },
    coordinate: { color: "#ef8f00", width: 1.5, dashes: [6, 3], label: `${REL.coordinate} (kg:coordinatingAgency)` },
    province: { color: "#c6b3d8", width: 1, dashes: [2, 3], label: `${REL.province} (kg:province)` },
  };
  const ROLE_RELS = new Set(["addressee", "request", "lead", "coordinate"]);
  const AGENT_KINDS = new Set(["agency", "collective", "mention"]);
  const CLUSTER_THRESHOLD = 12;
  const MIN_LABEL_PX = 10;  // no label smaller than this on screen at the default zoom
  const MAX_LABEL_WIDTH = 220;

  const $ = (id) => document.getElementById(id);
  const el = (tag, text, cls) => {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  };
  const fold = (s) => String(s || "").replace(/đ/g, "d").replace(/Đ/g, "D")
    .normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/\s+/g, " ").trim();

  const timings = { start: performance.now() };
  const data = new Map();      // id -> node record from the API
  const edgeData = new Map();  // edge id -> edge record
  const expanded = new Set();
  const levelOf = new Map();  // id -> level last given to vis
  const roots = new Set();
  let clusters = [];

  const nodes = new vis.DataSet();
  const edges = new vis.DataSet();
  const network = new vis.Network($("graph"), { nodes, edges }, {
    layout: { improvedLayout: false, hierarchical: { enabled: false } },
    physics: { enabled: false },
    interaction: { hover: true, tooltipDelay: 150, hideEdgesOnDrag: true, multiselect: false },
    nodes: { font: { size: 14, face: "system-ui, sans-serif" }, margin: 8, widthConstraint: { maximum: MAX_LABEL_WIDTH } },
    edges: { arrows: { to: { enabled: true, scaleFactor: 0.6 } }, smooth: false, font: { size: 12, align: "middle" } },
  });
  network.once("afterDrawing", () => { timings.firstDraw = performance.now(); });

  let batching = 0;
  /** Run ``change`` with vis's redraws held, then draw once: with physics off vis redraws the
   *  whole canvas on every change of its data (adding nodes, each group, each move), and a
   *  picture of thousands of nodes costs a few hundred ms a redraw. */
  function batch(change) {
    if (batching++ === 0) network.body.emitter.emit("_blockRedraw");
    try {
      return change();
    } finally {
      if (--batching === 0) { network.body.emitter.emit("_allowRedraw"); network.redraw(); }
    }
  }

  function tooltip(record) {
    const box = el("div", record.title);
    box.className = "kg-tooltip";
    return box;
  }

  function visNode(record) {
    const style = KIND_STYLE[record.kind] || KIND_STYLE.document;
    let background = style.color;
    if (record.kind === "document" && DOCTYPE_COLOR[record.doctype]) background = DOCTYPE_COLOR[record.doctype];
    const flagged = auditOn() && record.flags && record.flags.length > 0;
    return {
      id: record.id,
      label: record.label,
      title: tooltip(record),
      shape: style.shape,
      size: record.kind === "duty" || record.kind === "task" ? 14 : 20,
      color: {
        background, border: flagged ? "#e00000" : "#33415588",
        highlight: { background, border: "#111111" },
      },
      borderWidth: flagged ? 5 : 1,
      shapeProperties: { borderDashes: record.kind === "mention" ? [4, 3] : false },
      font: { color: style.shape === "box" || style.shape === "ellipse" ? style.font : "#1d2733",
        size: fontSize(record) },
      shadow: flagged ? { enabled: true, color: "#e00000", size: 14, x: 0, y: 0 } : false,
    };
  }

  function fontSize(record) { return record.kind === "document" ? 16 : 14; }

  function visEdge(record) {
    const style = EDGE_STYLE[record.rel] || EDGE_STYLE.cites;
    return {
      id: record.id, from: record.source, to: record.target,
      color: { color: style.color, highlight: "#111111" }, width: style.width, dashes: style.dashes,
      title: el("div", record.label),
    };
  }

  // ------------------------------------------------------------------ layout levels
  function assignLevels() {
    const ids = [...data.keys()];
    const indeg = new Map(ids.map((id) => [id, 0]));
    const out = new Map(ids.map((id) => [id, []]));
    for (const e of edgeData.values()) {
      if (e.rel === "cites" || !indeg.has(e.source) || !indeg.has(e.target)) continue;
      out.get(e.source).push(e.target);
      indeg.set(e.target, indeg.get(e.target) + 1);
    }
    const level = new Map();
    const queue = ids.filter((id) => indeg.get(id) === 0);
    queue.forEach((id) => level.set(id, 0));
    for (let i = 0; i < queue.length; i++) {
      const id = queue[i];
      for (const next of out.get(id)) {
        level.set(next, Math.max(level.get(next) || 0, level.get(id) + 1));
        indeg.set(next, indeg.get(next) - 1);
        if (indeg.get(next) === 0) queue.push(next);
      }
    }
    for (const id of ids) if (!level.has(id)) level.set(id, (data.get(id).level || 0));  // cycles
    return level;
  }

  // ------------------------------------------------------------------ data in and out
  function merge(sub) {
    openClusters();
    const newNodes = [];
    for (const n of sub.nodes) {
      if (!data.has(n.id)) {
        const found = auditFlags.get(n.id);
        if (found && found.length) n.flags = [...new Set([...(n.flags || []), ...found])];
        data.set(n.id, n); newNodes.push(n);
      }
    }
    const newEdges = [];
    for (const e of sub.edges) {
      const id = e.source + " " + e.rel + " " + e.target;
      if (!edgeData.has(id)) { const rec = Object.assign({ id }, e); edgeData.set(id, rec); newEdges.push(rec); }
    }
    const levels = assignLevels();
    for (const [id, level] of levels) levelOf.set(id, level);
    edges.add(newEdges.map((e) => { hiddenEdges.set(e.id, false); return visEdge(e); }));
    nodes.add(newNodes.map((n) => { hiddenNodes.set(n.id, false); return Object.assign(visNode(n), { level: levels.get(n.id) }); }));
    applyFilters();
    auditNew(newNodes.map((n) => n.id)).catch(() => {});
    return newNodes.length;
  }

  function removeNodes(ids) {
    openClusters();
    for (const id of ids) { data.delete(id); expanded.delete(id); roots.delete(id); levelOf.delete(id); hiddenNodes.delete(id); }
    for (const [id, e] of edgeData) if (!data.has(e.source) || !data.has(e.target)) edgeData.delete(id);
    nodes.remove([...ids]);
    edges.remove(edges.getIds().filter((id) => !edgeData.has(id)));
    for (const id of [...hiddenEdges.keys()]) if (!edgeData.has(id)) hiddenEdges.delete(id);
    for (const [id, level] of assignLevels()) levelOf.set(id, level);
    applyFilters();
  }

  // ------------------------------------------------------------------ layout and view
  /** Row width in canvas px: at the smallest readable scale a row spans the canvas. */
  function rowWidth() {
    const width = $("graph").clientWidth || 1000;
    return Math.max(700, (width - 40) / minScale());
  }

  function minScale() {
    let smallest = Infinity;
    for (const r of data.values()) if (hiddenNodes.get(r.id) === false) smallest = Math.min(smallest, fontSize(r));
    return MIN_LABEL_PX / (smallest === Infinity ? 14 : smallest) + 0.02;
  }

  /** Place every shown node (and each cluster as one node) with the layered layout. */
  function relayout() {
    const members = new Map();  // node id -> cluster id
    for (const [cid, ids] of clusterMembers) for (const id of ids) members.set(id, cid);
    const units = [];
    for (const r of data.values()) {
      if (hiddenNodes.get(r.id) !== false || members.has(r.id)) continue;
      const size = measured.get(r.id) || kgLayout.estimateSize(r.label, fontSize(r), MAX_LABEL_WIDTH);
      units.push({ id: r.id, level: levelOf.get(r.id) || 0, width: size.width, height: size.height, kind: r.kind, label: r.label });
    }
    for (const [cid, ids] of clusterMembers) {
      const first = data.get(ids[0]);
      units.push({ id: cid, level: levelOf.get(ids[0]) || 0, width: 130, height: 60, kind: first ? first.kind : "", label: cid });
    }
    const links = [];
    for (const e of edgeData.values()) {
      if (e.rel === "cites" || hiddenEdges.get(e.id)) continue;
      links.push({ from: members.get(e.source) || e.source, to: members.get(e.target) || e.target });
    }
    const { positions } = kgLayout.layered(units, links, { maxWidth: rowWidth() });
    const updates = [];
    for (const [id, p] of positions) {
      if (clusterMembers.has(id)) { if (network.isCluster(id)) network.moveNode(id, p.x, p.y); continue; }
      updates.push({ id, x: p.x, y: p.y, level: levelOf.get(id) });
    }
    if (updates.length) nodes.update(updates);
  }

  const measured = new Map();  // id -> size drawn by vis (labels wrap; estimates may be off)
  /** Replace estimated sizes by drawn ones; lay out again when they differ much. */
  function remeasure() {
    if (data.size > 600) return;  // large pictures keep the estimates: one layout, one draw
    let changed = false;
    for (const r of data.values()) {
      if (hiddenNodes.get(r.id) !== false || measured.has(r.id) || !network.body.nodes[r.id]) continue;
      const box = network.getBoundingBox(r.id);
      if (!box) continue;
      const size = { width: box.right - box.left + 10, height: box.bottom - box.top + 10 };
      const guess = kgLayout.estimateSize(r.label, fontSize(r), MAX_LABEL_WIDTH);
      measured.set(r.id, size);
      if (Math.abs(size.width - guess.width) > 24 || Math.abs(size.height - guess.height) > 16) changed = true;
    }
    if (changed) relayout();
  }

  /** The whole picture if that keeps labels readable, else the readable scale at its top. */
  function readableView(focusId) {
    network.fit({ animation: false });
    const floor = minScale();
    if (network.getScale() >= floor) {
      if (network.getScale() > 1.2) network.moveTo({ scale: 1.2, animation: false });
      return;
    }
    const ids = nodes.getIds().filter((id) => hiddenNodes.get(id) === false);
    let top = Infinity; let x = 0;
    const positions = network.getPositions(ids);
    for (const id of ids) if (positions[id] && positions[id].y < top) top = positions[id].y;
    if (focusId && positions[focusId]) x = positions[focusId].x;
    const height = $("graph").clientHeight || 600;
    network.moveTo({ position: { x, y: top - 40 + height / (2 * floor) }, scale: floor, animation: false });
  }

  /** Keep a node at the same place on screen across a change of the picture. */
  function keepPlace(id, change) {
    const before = network.getPositions([id])[id];
    const dom = before ? network.canvasToDOM(before) : null;
    const result = change();
    const after = network.getPositions([id])[id];
    if (dom && after) {
      const scale = Math.max(network.getScale(), minScale());
      const w = $("graph").clientWidth; const h = $("graph").clientHeight;
      network.moveTo({ position: { x: after.x - (dom.x - w / 2) / scale, y: after.y - (dom.y - h / 2) / scale }, scale, animation: false });
    }
    return result;
  }

  async function getJSON(url) {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(url + ": " + response.status);
    return response.json();
  }

  const direction = () => document.querySelector("input[name=direction]:checked").value;
  const expandDepth = (record) => (record && (record.kind === "document" || AGENT_KINDS.has(record.kind) || record.kind === "province") ? 2 : 1);

  // lineages are asked in their compact form (a third of the bytes; lineage_table.js reads it)
  const lineageURL = (iri, dir, depth) => "/api/lineage?" + new URLSearchParams({
    iri, direction: dir, depth: String(depth), compact: "true" });
  const asked = new Map();  // /api/lineage URL -> its answer, asked before it is needed
  async function lineage(iri, dir, depth) {
    const url = lineageURL(iri, dir, depth);
    const early = asked.get(url);
    asked.delete(url);
    if (!early) return kgLineageTable.decode(await getJSON(url));
    timings.requestStart = early.at;
    return kgLineageTable.decode(await early.answer);
  }

  async function open(iri, options) {
    const opts = options || {};
    const hit = opts.kind || (data.get(iri) || {}).kind;
    let dir = opts.direction || (AGENT_KINDS.has(hit) ? "up" : "down");
    document.querySelector(`input[name=direction][value="${dir}"]`).checked = true;
    const depth = opts.depth !== undefined ? opts.depth : (dir === "up" ? 8 : 1);
    timings.requestStart = performance.now();
    const sub = await lineage(iri, dir, depth);
    timings.dataReady = performance.now();
    roots.add(iri);
    if (depth > 0) expanded.add(iri);
    network.once("afterDrawing", () => { timings.drawn = performance.now(); });
    batch(() => {
      merge(sub);
      timings.merged = performance.now();
      recluster();
      readableView(iri);
      timings.laidOut = performance.now();
      network.once("afterDrawing", () => { timings.usable = performance.now(); });
    });  // drawn here, once
    await select(iri);
    status(sub.cut_at ? fmt(W.cut, sub.cut_at) : undefined);
    return sub.nodes.length;
  }

  async function expand(iri) {
    const record = data.get(iri);
    const sub = await lineage(iri, direction(), expandDepth(record));
    expanded.add(iri);
    const added = batch(() => keepPlace(iri, () => { const n = merge(sub); recluster(); return n; }));
    status([added ? fmt(W.new_nodes, added) : W.no_new,
            sub.cut_at ? fmt(W.cut, sub.cut_at) : ""].filter(Boolean).join(" · "));
    return added;
  }

  function collapse(iri) {
    const down = direction() === "down";
    const keep = new Set();
    const stack = [...roots].filter((r) => r !== iri || roots.size === 1);
    if (roots.has(iri)) stack.push(iri);
    stack.forEach((r) => keep.add(r));
    const adjacency = new Map();
    for (const e of edgeData.values()) {
      if (e.rel === "cites") continue;
      const [a, b] = down ? [e.source, e.target] : [e.target, e.source];
      if (!adjacency.has(a)) adjacency.set(a, []);
      adjacency.get(a).push(b);
    }
    while (stack.length) {
      const id = stack.pop();
      if (id === iri) continue;  // do not pass below the collapsed node
      for (const next of adjacency.get(id) || []) if (!keep.has(next)) { keep.add(next); stack.push(next); }
    }
    keep.add(iri);
    expanded.delete(iri);
    batch(() => keepPlace(iri, () => { removeNodes([...data.keys()].filter((id) => !keep.has(id))); recluster(); }));
    status();
  }

  async function toggle(iri) {
    if (expanded.has(iri)) { collapse(iri); return 0; }
    return expand(iri);
  }

  // ------------------------------------------------------------------ filters and overlay
  const auditOn = () => $("f-audit").checked;

  function passes(record, f) {
    if (f.province && record.province && record.province !== f.province) return false;
    if (f.doctype && record.doctype && record.kind !== "province" && !AGENT_KINDS.has(record.kind) && record.doctype !== f.doctype) return false;
    if (f.year && record.year && record.kind !== "province" && !AGENT_KINDS.has(record.kind) && record.year !== f.year) return false;
    if (f.agency && AGENT_KINDS.has(record.kind) && !fold(record.text || record.label).includes(f.agency)) return false;
    return true;
  }

  const hiddenNodes = new Map();  // id -> hidden flag last given to vis
  const hiddenEdges = new Map();

  /** Hide what the filters exclude; only nodes and edges whose state changes are updated. */
  function applyFilters(restyle) {
    openClusters();
    const f = {
      province: $("f-province").value, doctype: $("f-doctype").value, year: $("f-year").value,
      agency: fold($("f-agency").value), role: $("f-role").value,
    };
    const visible = new Set([...data.values()].filter((r) => passes(r, f)).map((r) => r.id));
    if (f.role) {
      const reached = new Set();
      for (const e of edgeData.values()) {
        if (e.rel === f.role && visible.has(e.source)) reached.add(e.target);
      }
      for (const r of data.values()) if (AGENT_KINDS.has(r.kind) && !reached.has(r.id)) visible.delete(r.id);
    }
    const nodeChanges = [];
    for (const r of data.values()) {
      const hidden = !visible.has(r.id);
      if (restyle) nodeChanges.push(Object.assign(visNode(r), { hidden }));
      else if (hiddenNodes.get(r.id) !== hidden) nodeChanges.push({ id: r.id, hidden });
      hiddenNodes.set(r.id, hidden);
    }
    const edgeChanges = [];
    for (const e of edgeData.values()) {
      const hidden = !(visible.has(e.source) && visible.has(e.target)) || Boolean(f.role && ROLE_RELS.has(e.rel) && e.rel !== f.role);
      if (hiddenEdges.get(e.id) !== hidden) edgeChanges.push({ id: e.id, hidden });
      hiddenEdges.set(e.id, hidden);
    }
    if (nodeChanges.length) nodes.update(nodeChanges);
    if (edgeChanges.length) edges.update(edgeChanges);
    status();
  }

  const auditFlags = new Map();  // node id -> findings about it, asked once per node
  /** Findings about the nodes shown (or ``ids``), asked from the audit index in batches (the
   *  whole corpus' overlay is megabytes) and merged into the node records. */
  async function loadAudit(ids) {
    const shown = ids || [...data.keys()];
    const wanted = shown.filter((id) => !auditFlags.has(id));
    if (wanted.length) status(W.auditing);
    for (let i = 0; i < wanted.length; i += 40) {
      const batch = wanted.slice(i, i + 40);
      const found = (await getJSON("/api/audit?" + batch.map((id) => "iri=" + encodeURIComponent(id)).join("&"))).flags;
      for (const id of batch) auditFlags.set(id, found[id] || []);
    }
    for (const id of shown) {
      const record = data.get(id);
      const flags = auditFlags.get(id) || [];
      if (record && flags.length) record.flags = [...new Set([...(record.flags || []), ...flags])];
    }
    if (wanted.length) status();
  }
  /** Nodes merged while the overlay is on get their findings too, then their red border. */
  async function auditNew(ids) {
    if (!auditOn() || !ids.length) return;
    await loadAudit(ids);
    nodes.update(ids.filter((id) => data.has(id) && nodes.get(id)).map((id) => visNode(data.get(id))));
  }

  // ------------------------------------------------------------------ clustering of fan-outs
  const clusterMembers = new Map();  // cluster id -> member ids
  const clusterHub = new Map();  // cluster id -> the node its members hang from
  const userOpened = new Set();  // clusters the user opened: never closed again by a relayout

  function openClusters() {
    let opened = 0;
    for (const id of clusters) if (network.isCluster(id)) { network.openCluster(id, {}, false); opened += 1; }
    if (opened) network.body.emitter.emit("_dataChanged");  // once, not once per group
    clusters = [];
    clusterMembers.clear();
  }

  /** Group large fan-outs (leaves of one kind under one node), then lay the picture out. */
  function recluster() {
    openClusters();
    if ($("f-cluster").checked) {
      const degree = new Map();
      const neighbours = new Map();
      for (const e of edgeData.values()) {
        if (hiddenNodes.get(e.source) !== false || hiddenNodes.get(e.target) !== false) continue;
        for (const [x, y] of [[e.source, e.target], [e.target, e.source]]) {
          degree.set(x, (degree.get(x) || 0) + 1);
          if (!neighbours.has(x)) neighbours.set(x, []);
          neighbours.get(x).push(y);
        }
      }
      const taken = new Set();
      for (const [hub, list] of neighbours) {
        const groups = new Map();
        for (const leaf of list) {
          if (degree.get(leaf) !== 1 || taken.has(leaf) || expanded.has(leaf) || roots.has(leaf)) continue;
          const kind = data.get(leaf).kind;
          if (!groups.has(kind)) groups.set(kind, []);
          groups.get(kind).push(leaf);
        }
        for (const [kind, leaves] of groups) {
          const id = "cluster:" + hub + ":" + kind;
          if (leaves.length < CLUSTER_THRESHOLD || userOpened.has(id)) continue;
          const members = new Set(leaves);
          leaves.forEach((l) => taken.add(l));
          const style = KIND_STYLE[kind] || KIND_STYLE.document;
          network.cluster({
            joinCondition: (n) => members.has(n.id),
            clusterNodeProperties: {
              id, label: `+${leaves.length} ${kindLabel(kind)}`, shape: "database",
              color: { background: style.color, border: "#334155" }, borderWidth: 2,
              font: { size: 14, color: "#1d2733" },
              title: el("div", fmt(W.grouped, leaves.length)),
            },
          }, false);  // vis refreshes (and redraws) once below, not once per group
          clusters.push(id);
          clusterMembers.set(id, leaves);
          clusterHub.set(id, hub);
        }
      }
      if (clusters.length) network.body.emitter.emit("_dataChanged");
    }
    relayout();
    network.once("afterDrawing", remeasure);
  }

  let openedAt = 0;
  /** A click on a group opens it where it is; it stays open. */
  function openGroup(id) {
    openedAt = performance.now();
    userOpened.add(id);
    keepPlace(clusterHub.get(id) || id, () => {
      const members = clusterMembers.get(id) || [];
      const at = network.getPositions([id])[id];
      network.openCluster(id);
      clusters = clusters.filter((c) => c !== id);
      clusterMembers.delete(id);
      if (at && members.length) nodes.update(members.map((m) => ({ id: m, x: at.x, y: at.y })));
      relayout();
    });
    status();
  }

  function status(extra) {
    let shown = 0;
    for (const hidden of hiddenNodes.values()) if (!hidden) shown += 1;
    $("status").textContent = `${shown} / ${data.size} ${W.nodes}` + (clusters.length ? `, ${clusters.length} ${W.groups}` : "") + (extra ? ` · ${extra}` : "");
  }

  // ------------------------------------------------------------------ side panel
  function definition(dl, term, value) {
    if (!value) return;
    dl.append(el("dt", term), el("dd", value));
  }

  async function select(iri) {
    if (!data.has(iri)) return;
    try { network.selectNodes([iri]); } catch (err) { /* inside a cluster: nothing to highlight */ }
    const detail = await getJSON("/api/node?" + new URLSearchParams({ iri }));
    renderPanel(detail);
    $("panel").dataset.iri = iri;
    return detail;
  }

  function renderPanel(detail) {
    const panel = $("panel");
    const n = detail.node;
    const previous = panel.dataset.iri && panel.dataset.iri !== n.id ? panel.dataset.iri : null;
    panel.replaceChildren();
    panel.append(el("span", (n.kind === "document" && n.doctype) ? n.doctype : kindLabel(n.kind), "kind"));
    const h = el("h2", n.number && n.kind === "document" ? n.number : (n.text || n.label));
    h.id = "panel-title";
    panel.append(h);
    if (n.flags.length) {
      const ul = el("ul"); ul.className = "flags";
      n.flags.forEach((f) => ul.append(el("li", "⚠ " + f, "flag")));
      panel.append(ul);
    }
    const actions = el("div", null, "actions");
    const button = (label, handler, id) => {
      const b = el("button", label); b.type = "button"; if (id) b.id = id;
      b.addEventListener("click", handler); actions.append(b); return b;
    };
    button(expanded.has(n.id) ? W.collapse : W.expand, async () => { await toggle(n.id); await select(n.id); }, "panel-toggle");
    button(W.origin, () => open(n.id, { direction: "up", depth: 8 }), "panel-up");
    button(W.carried_out, () => open(n.id, { direction: "down", depth: 8 }), "panel-down");
    if (previous) button(W.path, () => showPath(previous, n.id), "panel-path");
    if (n.page && n.page.startsWith("/id/")) {
      const a = el("a", W.page); a.href = n.page + (CONFIG.lang === "en" ? "?lang=en" : ""); a.id = "panel-page"; actions.append(a);
    }
    panel.append(actions);
    if (n.text && n.kind !== "document") { panel.append(el("h3", W.content)); panel.append(el("p", n.text, "text")); }
    if (detail.source_text) {
      panel.append(el("h3", W.quote));
      const q = el("blockquote", detail.source_text); q.id = "panel-source"; panel.append(q);
    }
    if (detail.source_page) {  // the page of the original (PDF, Word, scan) it stands on
      const p = el("p", null, "source-page"); p.id = "panel-source-page";
      if (detail.source_href) {
        const a = el("a", detail.source_page); a.href = detail.source_href; a.target = "_blank"; p.append(a);
      } else p.append(document.createTextNode(detail.source_page));
      panel.append(p);
    }
    if (detail.roles.length) {
      panel.append(el("h3", W.roles));
      const ul = el("ul", null, "roles"); ul.id = "panel-roles";
      for (const r of detail.roles) {
        const li = el("li");
        li.append(el("span", REL[r.relation] || r.role, "role"), document.createTextNode(` — ${r.document_number} (${r.item_kind} ${r.item_number}): `));
        li.append(el("span", r.text, "role-text"));
        li.dataset.relation = r.relation;
        ul.append(li);
      }
      panel.append(ul);
    }
    panel.append(el("h3", W.properties));
    const dl = el("dl"); dl.id = "panel-props";
    definition(dl, "IRI", n.id);
    definition(dl, W.province, n.province);
    definition(dl, W.year_label, n.year);
    for (const p of detail.properties) definition(dl, p.predicate, p.value === "true" && !p.iri ? W.yes : p.value === "false" && !p.iri ? W.no : p.value);
    panel.append(dl);
    const around = detail.neighbours.nodes.filter((m) => m.id !== n.id);
    if (around.length) {
      panel.append(el("h3", `${W.links} (${around.length})`));
      const ul = el("ul", null, "neighbours");
      for (const m of around.slice(0, 80)) {
        const li = el("li");
        const link = el("button", m.label); link.type = "button";
        link.addEventListener("click", async () => {
          merge({ nodes: [m], edges: detail.neighbours.edges.filter((e) => data.has(e.source) || data.has(e.target)).filter((e) => e.source === m.id || e.target === m.id) });
          recluster();
          network.focus(m.id, { scale: 1, animation: false });
          await select(m.id);
        });
        li.append(link, el("span", " " + kindLabel(m.kind), "kind"));
        ul.append(li);
      }
      panel.append(ul);
    }
  }

  let kinds = {};
  const kindLabel = (k) => kinds[k] || k;

  async function showPath(from, to) {
    const sub = await getJSON("/api/path?" + new URLSearchParams({ from, to }));
    merge(sub);
    recluster();
    network.selectNodes(sub.nodes.map((n) => n.id));
    status(fmt(W.path_nodes, sub.nodes.length));
  }

  // ------------------------------------------------------------------ search
  let searchSeq = 0;
  async function search(q) {
    const seq = ++searchSeq;
    const list = $("results");
    if (!q.trim()) { list.hidden = true; list.replaceChildren(); return []; }
    const hits = await getJSON("/api/search?" + new URLSearchParams({ q, limit: "20" }));
    if (seq !== searchSeq) return hits;
    list.replaceChildren();
    for (const hit of hits) {
      const li = el("li"); li.setAttribute("role", "option"); li.dataset.iri = hit.iri;
      li.append(el("span", hit.label, "label"), el("span", kindLabel(hit.kind) + (hit.province ? " · " + hit.province : ""), "kind"));
      if (hit.detail) li.append(el("span", hit.detail, "detail"));
      li.addEventListener("click", () => { list.hidden = true; open(hit.iri, { kind: hit.kind }); });
      list.append(li);
    }
    if (!hits.length) list.append(el("li", W.not_found));
    list.hidden = false;
    return hits;
  }

  // ------------------------------------------------------------------ wiring
  function legend() {
    const box = $("legend");
    for (const [kind, style] of Object.entries(KIND_STYLE)) {
      const item = el("span"); const sw = el("span", null, "sw"); sw.style.background = style.color;
      item.append(sw, document.createTextNode(kindLabel(kind))); box.append(item);
    }
    for (const [type, color] of Object.entries(DOCTYPE_COLOR)) {
      const item = el("span"); const sw = el("span", null, "sw"); sw.style.background = color;
      item.append(sw, document.createTextNode(type)); box.append(item);
    }
    for (const style of Object.values(EDGE_STYLE)) {
      if (!style.label) continue;
      const item = el("span"); const ln = el("span", null, "ln");
      ln.style.borderTopColor = style.color; ln.style.borderTopStyle = style.dashes ? "dashed" : "solid";
      item.append(ln, document.createTextNode(style.label)); box.append(item);
    }
    const audit = el("span"); const sw = el("span", null, "sw"); sw.style.border = "3px solid #e00000";
    audit.append(sw, document.createTextNode(W.flagged)); box.append(audit);
  }

  function fillSelect(id, values) {
    const select = $(id);
    for (const [value, label] of values) { const o = el("option", label); o.value = value; select.append(o); }
  }

  async function init() {
    const params = new URLSearchParams(location.search);
    if (params.get("open") && params.get("direction") && params.has("depth")) {
      // the lineage the address opens is asked at once: its walk runs while the page sets up
      const url = lineageURL(params.get("open"), params.get("direction"), Number(params.get("depth")));
      const early = { at: performance.now(), answer: getJSON(url) };
      early.answer.catch(() => {});  // a failure is reported where the answer is awaited
      asked.set(url, early);
    }
    const facets = await getJSON("/api/facets");
    kinds = CONFIG.kinds;
    fillSelect("f-province", facets.provinces.map((p) => [p, p]));
    fillSelect("f-doctype", facets.doctypes.map((p) => [p, p]));
    fillSelect("f-year", facets.years.map((p) => [p, p]));
    fillSelect("f-role", Object.keys(facets.roles).map((k) => [k, REL[k] || facets.roles[k]]));
    legend();
    let timer = null;
    $("search").addEventListener("input", (ev) => { clearTimeout(timer); timer = setTimeout(() => search(ev.target.value), 120); });
    $("search-form").addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const hits = await search($("search").value);
      if (hits.length) { $("results").hidden = true; await open(hits[0].iri, { kind: hits[0].kind }); }
    });
    for (const id of ["f-province", "f-role", "f-doctype", "f-year"]) $(id).addEventListener("change", () => { applyFilters(); recluster(); });
    $("f-audit").addEventListener("change", async () => { if (auditOn()) await loadAudit(); applyFilters(true); recluster(); });
    $("f-agency").addEventListener("input", () => { applyFilters(); recluster(); });
    $("f-cluster").addEventListener("change", () => { recluster(); status(); });
    $("fit").addEventListener("click", () => readableView($("panel").dataset.iri));
    $("clear").addEventListener("click", () => { removeNodes([...data.keys()]); $("panel").replaceChildren(); });
    network.on("click", (params) => {
      const id = params.nodes[0];
      if (!id) return;
      if (network.isCluster(id)) { openGroup(id); return; }
      select(id);
    });
    network.on("doubleClick", (params) => {
      const id = params.nodes[0];
      if (!id || performance.now() - openedAt < 600) return;  // the click opened a group
      if (network.isCluster(id)) { openGroup(id); return; }
      toggle(id);
    });
    // Down / up: the selected node again, drawn the other way (readable, never a strip).
    for (const radio of document.querySelectorAll("input[name=direction]")) {
      radio.addEventListener("change", async () => {
        const iri = $("panel").dataset.iri;
        if (!iri || !data.has(iri)) return;
        removeNodes([...data.keys()]);
        await open(iri, { direction: radio.value, depth: radio.value === "up" ? 8 : 1 });
      });
    }
    window.addEventListener("resize", () => { if (data.size) recluster(); });
    if (params.get("open")) {
      await open(params.get("open"), {
        direction: params.get("direction") || undefined,
        depth: params.has("depth") ? Number(params.get("depth")) : undefined,
      });
    }
    timings.ready = performance.now();
    document.body.dataset.ready = "1";
  }

  window.kgExplorer = {
    network, nodes, edges, data, timings, open, expand, collapse, toggle, select, search, applyFilters,
    /** Where a node is drawn, in page coordinates (for tests that click the canvas). */
    pagePosition(id) {
      const pos = network.getPositions([id])[id];
      if (!pos) return null;
      const dom = network.canvasToDOM(pos);
      const rect = $("graph").getBoundingClientRect();
      return { x: rect.left + dom.x, y: rect.top + dom.y };
    },
    visibleIds() { return [...hiddenNodes].filter(([, hidden]) => !hidden).map(([id]) => id); },
    /** On-screen font size (px) of every drawn label: node font size × the view's scale. */
    labelSizes() {
      const scale = network.getScale();
      const out = {};
      for (const id of Object.keys(network.body.nodes)) {
        const node = network.body.nodes[id];
        if (!node || node.options.hidden || id.startsWith("edgeId:")) continue;
        if (!nodes.get(id) && !network.isCluster(id)) continue;
        if (nodes.get(id) && hiddenNodes.get(id) !== false) continue;
        if (!network.isCluster(id) && clusterMembers.size && [...clusterMembers.values()].some((m) => m.includes(id))) continue;
        out[id] = node.options.font.size * scale;
      }
      return out;
    },
    clusters() { return [...clusterMembers.keys()]; },
    openGroup, readableView, relayout,
  };
  init().catch((err) => { $("status").textContent = W.error + ": " + err.message; });
})();
