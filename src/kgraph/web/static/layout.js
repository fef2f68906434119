/* kgraph layered layout, shared by the explorer and the `kgraph viz` export.
 *
 * vis-network's hierarchical layout puts every node of a level on one row: 200 duties under a
 * plan make a strip of dots that no zoom can read. Here levels still run top-down, but
 *  - the nodes of a level are ordered by their parent (siblings stay together, in the order
 *    of their parents above them), then by kind and label;
 *  - a level wider than `maxWidth` wraps into several rows; a sibling group that fits in a row
 *    is never split, and groups are separated by a wider gap;
 *  - rows are centred, so the picture keeps roughly the shape of the window at any size.
 * Pure function: node sizes in, positions out (canvas pixels); no DOM, no vis.
 */
(function (root) {
  "use strict";
  const COLLATOR = new Intl.Collator("vi", { numeric: true });  // one collator: sorting 2,000 labels

  /** Width and height of a node's box, estimated from its label (vis wraps at `maxLabel`). */
  function estimateSize(label, fontSize, maxLabel) {
    const text = String(label || "");
    const lines = text.split("\n");
    const charWidth = fontSize * 0.56;
    let width = 0;
    let rows = 0;
    for (const line of lines) {
      const w = line.length * charWidth;
      width = Math.max(width, Math.min(w, maxLabel));
      rows += Math.max(1, Math.ceil(w / maxLabel));
    }
    return { width: width + 20, height: rows * fontSize * 1.3 + 18 };
  }

  /**
   * nodes: [{id, level, width, height, kind, label}]; edges: [{from, to}] (parent → child).
   * options: maxWidth (row width in canvas px), gapX, groupGap, rowGap, levelGap.
   * Returns a Map id -> {x, y} and the picture's bounds.
   */
  function layered(nodes, edges, options) {
    const o = Object.assign({ maxWidth: 1400, gapX: 22, groupGap: 60, rowGap: 36, levelGap: 96 }, options || {});
    const byLevel = new Map();
    for (const n of nodes) {
      if (!byLevel.has(n.level)) byLevel.set(n.level, []);
      byLevel.get(n.level).push(n);
    }
    const parents = new Map();
    for (const e of edges) {
      if (!parents.has(e.to)) parents.set(e.to, []);
      parents.get(e.to).push(e.from);
    }
    const order = new Map();
    const positions = new Map();
    let next = 0;
    let y = 0;
    let left = 0;
    let right = 0;
    const levels = [...byLevel.keys()].sort((a, b) => a - b);
    for (const level of levels) {
      const members = byLevel.get(level);
      const parentOf = new Map();
      for (const n of members) {
        const placed = (parents.get(n.id) || []).filter((p) => order.has(p));
        parentOf.set(n.id, placed.length ? placed.reduce((a, b) => (order.get(a) <= order.get(b) ? a : b)) : null);
      }
      const rank = new Map(members.map((n) => [n.id, parentOf.get(n.id) === null ? -1 : order.get(parentOf.get(n.id))]));
      members.sort((a, b) => rank.get(a.id) - rank.get(b.id) || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0)
        || COLLATOR.compare(String(a.label), String(b.label)));
      const groups = [];
      for (const n of members) {
        const last = groups[groups.length - 1];
        if (last && last.parent === parentOf.get(n.id)) last.items.push(n);
        else groups.push({ parent: parentOf.get(n.id), items: [n] });
      }
      const rows = [];
      let row = { items: [], width: 0 };
      const push = () => { if (row.items.length) rows.push(row); row = { items: [], width: 0 }; };
      for (const group of groups) {
        const width = group.items.reduce((s, n) => s + n.width, 0) + o.gapX * (group.items.length - 1);
        if (row.items.length && width <= o.maxWidth && row.width + o.groupGap + width > o.maxWidth) push();
        group.items.forEach((n, i) => {
          const gap = row.items.length ? (i === 0 ? o.groupGap : o.gapX) : 0;
          if (row.items.length && row.width + gap + n.width > o.maxWidth) push();
          const g = row.items.length ? (i === 0 ? o.groupGap : o.gapX) : 0;
          row.items.push({ node: n, gap: g });
          row.width += g + n.width;
        });
      }
      push();
      for (const r of rows) {
        const height = Math.max(...r.items.map((it) => it.node.height));
        let x = -r.width / 2;
        left = Math.min(left, x);
        right = Math.max(right, -x);
        for (const it of r.items) {
          x += it.gap;
          positions.set(it.node.id, { x: x + it.node.width / 2, y: y + height / 2 });
          order.set(it.node.id, next++);
          x += it.node.width;
        }
        y += height + o.rowGap;
      }
      y += o.levelGap - o.rowGap;
    }
    return { positions, bounds: { left, right, top: 0, bottom: Math.max(0, y - o.levelGap) } };
  }

  root.kgLayout = { layered, estimateSize };
})(typeof window !== "undefined" ? window : globalThis);
