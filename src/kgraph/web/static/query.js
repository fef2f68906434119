/* kgraph query page: a form per named query above YASGUI.
 *
 * The form runs GET /api/queries/{name}?param=value (values as people write them; the server
 * normalises them as `kgraph query` does) and draws the rows itself: row numbers in their own
 * column, full headings, plain values (no "…"@vi), links to this server's pages. The URL always
 * holds the query and its values (?q=implementers&doc=28-CT/TW): copy it, reload it, share it.
 * The editor below holds the same query with the values bound; its edits survive a reload
 * (sessionStorage). Every string from the graph reaches the DOM through textContent.
 */
(function () {
  "use strict";
  const config = JSON.parse(document.getElementById("kgraph-config").textContent);
  const words = config.words;
  const lang = config.lang;
  const $ = (id) => document.getElementById(id);
  const el = (tag, text, cls) => {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  };
  const byName = new Map(config.queries.map((q) => [q.name, q]));
  const EDITOR_KEY = "kgraph-query-editor";

  // ------------------------------------------------------------------ the form
  function current() { return byName.get($("q-name").value) || config.queries[0]; }

  function values() {
    const out = {};
    for (const input of $("q-params").querySelectorAll("input[data-param]")) {
      if (input.value.trim() !== "") out[input.dataset.param] = input.value.trim();
    }
    return out;
  }

  function buildParams(query, given) {
    const box = $("q-params");
    box.replaceChildren();
    $("q-description").textContent = query.description[lang] || query.description.en;
    for (const p of query.parameters) {
      const row = el("div", null, "q-param");
      const label = el("label");
      const id = "q-param-" + p.name;
      label.htmlFor = id;
      label.append(el("span", lang === "vi" ? p.label_vi : p.name, "name"));
      const input = el("input");
      input.id = id; input.type = "search"; input.name = p.name; input.dataset.param = p.name;
      input.placeholder = p.example ? `${words.example} ${p.example}` : "";
      input.required = p.required;
      input.value = given[p.name] !== undefined ? given[p.name] : (p.example || "");
      if (p.suggest) {
        const list = el("datalist"); list.id = id + "-list";
        input.setAttribute("list", list.id);
        input.dataset.suggest = p.suggest;
        input.addEventListener("input", () => suggest(input, list));
        row.append(list);
      }
      input.addEventListener("input", syncUrl);
      const need = p.required ? words.required : words.optional;
      const help = el("small", lang === "vi" ? need : `${p.description} (${need})`, "help");
      row.prepend(label, input, help);
      box.append(row);
    }
    syncUrl();
  }

  let suggestSeq = 0;
  async function suggest(input, list) {
    const q = input.value.trim();
    const seq = ++suggestSeq;
    if (q.length < 1) { list.replaceChildren(); return; }
    const hits = await searchHits(q, input.dataset.suggest);
    if (seq !== suggestSeq) return;
    list.replaceChildren(...hits.map((h) => {
      const o = el("option"); o.value = h.label;
      o.label = h.kind === "document" ? (h.detail || h.label) : (h.province || h.label);
      return o;
    }));
  }

  async function searchHits(q, kind) {
    const response = await fetch("/api/search?" + new URLSearchParams({ q, limit: "40" }));
    if (!response.ok) return [];
    const hits = await response.json();
    return hits.filter((h) => !kind || h.kind === kind).slice(0, 12);
  }

  let offset = 0;  // first row of the JSON page shown (CSV: every row)

  function apiUrl(format) {
    const params = new URLSearchParams(values());
    if (format) params.set("format", format);
    if (format === "json" && offset) params.set("offset", String(offset));
    if (lang !== "vi") params.set("lang", lang);
    return `/api/queries/${current().name}?` + params;
  }

  function permalink() {
    const params = new URLSearchParams({ q: current().name, ...values() });
    if (lang !== "vi") params.set("lang", lang);
    return location.pathname + "?" + params;
  }

  function syncUrl() {
    const link = permalink();
    $("q-permalink").href = link;
    $("q-csv").href = apiUrl("csv");
    $("q-json").href = apiUrl("json");
    history.replaceState(null, "", link);
  }

  // ------------------------------------------------------------------ results
  const localBase = config.localBase;

  function cellContent(value) {
    if (!value) return document.createTextNode("");
    if (value.type === "iri") {
      if (value.href) {
        const a = el("a", value.value.slice(localBase.length)); a.href = value.href + (lang !== "vi" ? "?lang=en" : "");
        a.title = value.value; return a;
      }
      const span = el("span", value.value, "iri"); return span;
    }
    const span = el("span", value.text, "literal");
    if (value.lang) span.lang = value.lang;
    return span;
  }

  function drawTable(answer) {
    const table = $("q-results");
    table.replaceChildren();
    const head = el("thead"); const tr = el("tr");
    const num = el("th", "#", "rownum"); num.scope = "col"; tr.append(num);
    for (const v of answer.variables) {
      const th = el("th", config.columns[v] || v); th.scope = "col"; th.title = "?" + v; th.dataset.variable = v;
      tr.append(th);
    }
    head.append(tr); table.append(head);
    const body = el("tbody");
    answer.rows.forEach((row, i) => {
      const r = el("tr");
      r.append(el("td", answer.offset + i + 1, "rownum"));
      for (const v of answer.variables) { const td = el("td"); td.append(cellContent(row[v])); r.append(td); }
      body.append(r);
    });
    table.append(body);
    table.hidden = answer.rows.length === 0;
  }

  async function hint() {
    const box = $("q-hint");
    box.replaceChildren(); box.hidden = true;
    const inputs = [...$("q-params").querySelectorAll("input[data-suggest]")].filter((i) => i.value.trim());
    for (const input of inputs) {
      const hits = await searchHits(input.value.trim(), input.dataset.suggest);
      if (!hits.length) continue;
      box.append(el("span", words.hint + " "));
      hits.slice(0, 6).forEach((h, k) => {
        const b = el("button", h.label, "suggestion"); b.type = "button";
        b.addEventListener("click", () => { input.value = h.label; syncUrl(); run(); });
        if (k) box.append(document.createTextNode(" "));
        box.append(b);
      });
      box.hidden = false;
      return;
    }
  }

  function showPages(answer) {
    const total = answer.total;
    $("q-pages").hidden = !answer.next && !answer.previous;
    $("q-previous").disabled = !answer.previous;
    $("q-next").disabled = !answer.next;
    if (!answer.count) return words.none;
    if (answer.count === total) return `${total} ${words.rows}`;
    return words.page_rows.replace("{first}", answer.offset + 1)
      .replace("{last}", answer.offset + answer.count).replace("{total}", total);
  }

  let runSeq = 0;
  let lastAnswer = null;
  async function run(page) {
    offset = page || 0;
    const seq = ++runSeq;
    syncUrl();
    $("q-status").textContent = words.running;
    $("q-hint").hidden = true;
    $("q-results").replaceChildren();  // never a previous answer under the new question
    $("q-results").hidden = true;
    $("q-pages").hidden = true;
    delete document.body.dataset.rows;
    const response = await fetch(apiUrl("json"), { headers: { Accept: "application/json" } });
    if (seq !== runSeq) return;
    if (!response.ok) {
      let message = String(response.status);
      try { message = (await response.json()).detail || message; } catch (err) { /* not JSON */ }
      $("q-status").textContent = `${words.error}: ${message}`;
      $("q-results").hidden = true;
      return;
    }
    const answer = await response.json();
    lastAnswer = answer;
    drawTable(answer);
    $("q-status").textContent = showPages(answer);
    document.body.dataset.rows = String(answer.count);
    document.body.dataset.total = String(answer.total);
    if (!answer.count) await hint();
  }

  // ------------------------------------------------------------------ the editor
  const endpoint = new URL(config.endpoint, window.location.href).href;
  const Yasqe = Yasgui.Yasqe;
  // No request may leave this server: drop the autocompleters that ask lov.linkeddata.es.
  Yasqe.defaults.autocompleters = Yasqe.defaults.autocompleters.filter(
    (name) => name !== "class" && name !== "property");
  Yasqe.defaults.prefixCcApi = null;
  const yasgui = new Yasgui($("yasgui"), {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    endpointCatalogueOptions: { getData: () => [{ endpoint: endpoint }] },
    persistenceId: null,
    populateFromUrl: false,
    yasr: { prefixes: config.prefixes, persistenceId: null },
    yasqe: { persistenceId: null },
  });
  const tab = yasgui.getTab();

  // YASQE marks errors by the SPARQL 1.1 grammar. Where the store runs LATERAL joins
  // (config.lateral: the embedded store, whose named queries' texts use them) a text holding
  // one is left to /sparql's own check, which names an error and its position; YASQE would
  // mark the LATERAL itself as one.
  function markErrors() {
    const yasqe = tab.getYasqe();  // a change event passes CodeMirror's editor, not YASQE
    const lateral = config.lateral && /\bLATERAL\b/i.test(yasqe.getValue());
    if (yasqe.config.syntaxErrorCheck === lateral) yasqe.setCheckSyntaxErrors(!lateral);
  }

  function showInEditor(text) {
    tab.setQuery(text);
    markErrors();
  }

  async function toEditor() {
    const response = await fetch(apiUrl("sparql"));
    if (response.ok) showInEditor(await response.text());
    $("editor-title").scrollIntoView();
  }

  // YASGUI's share button gives a link to this page that reopens the editor's query.
  tab.getShareableLink = () => {
    const params = new URLSearchParams({ sparql: tab.getYasqe().getValue() });
    if (lang !== "vi") params.set("lang", lang);
    return location.origin + location.pathname + "?" + params;
  };
  tab.getYasqe().on("change", (yasqe) => {
    markErrors();
    try { sessionStorage.setItem(EDITOR_KEY, yasqe.getValue()); } catch (err) { /* private mode */ }
  });
  // Plain values in YASR's table too (no "…"@vi, no datatype suffix; row numbers off).
  const yasr = tab.getYasr();
  if (yasr && yasr.plugins && yasr.plugins.table) {
    yasr.plugins.table.persistentConfig = Object.assign({}, yasr.plugins.table.persistentConfig, { compact: true, isEllipsed: false });
  }
  // Result links to minted IRIs open their page on this server, not on w3id.org.
  $("yasgui").addEventListener("click", (event) => {
    const link = event.target.closest("a[href]");
    if (link && link.href.startsWith(config.localBase)) {
      event.preventDefault();
      window.location.assign("/id/" + link.href.slice(config.localBase.length));
    }
  });

  // ------------------------------------------------------------------ start
  const params = new URLSearchParams(location.search);
  const chosen = byName.has(params.get("q")) ? params.get("q") : config.queries[0].name;
  $("q-name").value = chosen;
  const given = {};
  for (const p of byName.get(chosen).parameters) if (params.has(p.name)) given[p.name] = params.get(p.name);
  buildParams(byName.get(chosen), given);
  let saved = null;
  try { saved = sessionStorage.getItem(EDITOR_KEY); } catch (err) { /* private mode */ }
  if (params.has("sparql")) showInEditor(params.get("sparql"));
  else if (saved) showInEditor(saved);  // this tab's edits survive a reload
  else toEditor().then(() => window.scrollTo(0, 0));
  $("q-name").addEventListener("change", () => { buildParams(current(), {}); $("q-results").hidden = true; $("q-status").textContent = ""; run(); toEditor().then(() => window.scrollTo(0, 0)); });
  $("q-form").addEventListener("submit", (event) => { event.preventDefault(); run(); });
  $("q-next").addEventListener("click", () => { if (lastAnswer) run(lastAnswer.offset + lastAnswer.limit); });
  $("q-previous").addEventListener("click", () => { if (lastAnswer) run(Math.max(0, lastAnswer.offset - lastAnswer.limit)); });
  $("q-to-editor").addEventListener("click", toEditor);
  window.kgraphYasgui = yasgui;
  window.kgraphQuery = { run, values, permalink };
  run().then(() => { document.body.dataset.ready = "1"; });
})();
