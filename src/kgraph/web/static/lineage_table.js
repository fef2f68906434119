/* kgraph: a lineage in its compact form (/api/lineage?compact=true, LineageTable in
 * /openapi.json) read back into the records of the full answer (Subgraph): the same nodes with
 * the same fields in the same order, the same edges. The compact form writes each node once as a
 * row, each edge as indexes into the rows, and leaves out what the other fields make: a node's
 * title (tooltip) and page, an edge's label. A provincial UBND plan 8 steps down at 20,000 plans
 * is 4,845 nodes: 4.8 MB in full, whose shipping was most of the request's cost.
 */
(function (root) {
  "use strict";

  /** A node's tooltip, as kgraph.analysis.lineage.Node.tooltip writes it. */
  function title(node, heads) {
    const head = node.kind === "document" && node.doctype ? node.doctype : (heads[node.kind] || node.kind);
    const lines = [`${head}: ${node.number || node.label}`];
    for (const value of [node.text, node.province]) if (value) lines.push(value);
    for (const flag of node.flags) lines.push(`⚠ ${flag}`);
    return lines.join("\n");
  }

  /** The full answer's {root, nodes, edges[, cut_at]} from the compact one. */
  function decode(table) {
    const at = Object.fromEntries(table.columns.map((name, i) => [name, i]));
    const cell = (row, name) => row[at[name]];
    const ids = table.nodes.map((row) => cell(row, "id"));
    const nodes = table.nodes.map((row) => {
      const id = cell(row, "id");
      const document = cell(row, "document");
      const node = {
        id, kind: cell(row, "kind"), label: cell(row, "label"), title: "",
        number: cell(row, "number"), text: cell(row, "text"), doctype: cell(row, "doctype"),
        province: cell(row, "province"), year: cell(row, "year"),
        document: typeof document === "number" ? ids[document] : document,
        flags: cell(row, "flags"),
        page: id.startsWith(table.id_base) ? "/id/" + id.slice(table.id_base.length) : "",
        level: cell(row, "level"),
      };
      node.title = title(node, table.heads);
      return node;
    });
    const edges = table.edges.map(([source, target, rel]) => ({
      source: ids[source], target: ids[target], rel,
      label: rel in table.relations ? table.relations[rel] : rel,
    }));
    const answer = { root: table.root, nodes, edges };
    if (table.cut_at !== undefined && table.cut_at !== null) answer.cut_at = table.cut_at;
    return answer;
  }

  root.kgLineageTable = { decode };
})(typeof window !== "undefined" ? window : globalThis);
