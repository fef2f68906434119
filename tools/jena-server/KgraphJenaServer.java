// Apache Jena's engine (ARQ over a TDB2 dataset) behind the SPARQL 1.1 Protocol and the Graph
// Store Protocol, with the JDK's own HTTP server.
//
// This is NOT Apache Jena Fuseki: Fuseki is not packaged by Debian and cannot be fetched here.
// It answers the requests kgraph sends exactly as Fuseki serving the same TDB2 dataset with
// `tdb2:unionDefaultGraph true` would (same parser, same query engine, same storage), and lays
// its URLs out as Fuseki does for a dataset called NAME:
//
//   /NAME            query (GET ?query=, POST form query= or application/sparql-query),
//                    update (POST form update= or application/sparql-update),
//                    Graph Store Protocol (?graph=IRI or ?default: GET, PUT, POST, DELETE)
//   /NAME/sparql, /NAME/query   queries only;  /NAME/update  updates only;  /NAME/data  GSP only
//   /$/ping          liveness
//
// Usage: java -cp CLASSPATH KgraphJenaServer [--port N] [--bind ADDR] [--name ds]
//                                            [--location DIR] [--timeout-s S]
// Without --location the dataset is in memory. Every update request is one write transaction.

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.jena.atlas.web.ContentType;
import org.apache.jena.graph.Node;
import org.apache.jena.graph.NodeFactory;
import org.apache.jena.graph.Triple;
import org.apache.jena.query.Dataset;
import org.apache.jena.query.Query;
import org.apache.jena.query.QueryCancelledException;
import org.apache.jena.query.QueryExecution;
import org.apache.jena.query.QueryExecutionFactory;
import org.apache.jena.query.QueryFactory;
import org.apache.jena.query.QueryParseException;
import org.apache.jena.query.ResultSet;
import org.apache.jena.query.ResultSetFormatter;
import org.apache.jena.query.Syntax;
import org.apache.jena.riot.Lang;
import org.apache.jena.riot.RDFDataMgr;
import org.apache.jena.riot.RDFLanguages;
import org.apache.jena.riot.RDFParser;
import org.apache.jena.riot.RiotException;
import org.apache.jena.riot.system.StreamRDF;
import org.apache.jena.riot.system.StreamRDFLib;
import org.apache.jena.sparql.core.DatasetDescription;
import org.apache.jena.sparql.core.DatasetGraph;
import org.apache.jena.sparql.core.DynamicDatasets;
import org.apache.jena.sparql.core.Quad;
import org.apache.jena.sparql.graph.GraphFactory;
import org.apache.jena.graph.Graph;
import org.apache.jena.query.DatasetFactory;
import org.apache.jena.system.Txn;
import org.apache.jena.tdb2.TDB2;
import org.apache.jena.tdb2.TDB2Factory;
import org.apache.jena.update.UpdateAction;
import org.apache.jena.update.UpdateFactory;
import org.apache.jena.update.UpdateRequest;

public final class KgraphJenaServer {
    private final Dataset dataset;
    private final long timeoutMillis;

    private KgraphJenaServer(Dataset dataset, long timeoutMillis) {
        this.dataset = dataset;
        this.timeoutMillis = timeoutMillis;
    }

    public static void main(String[] args) throws IOException {
        int port = 3030;
        String bind = "127.0.0.1";
        String name = "ds";
        String location = null;
        long timeoutSeconds = 60;
        for (int i = 0; i < args.length; i++) {
            String value = i + 1 < args.length ? args[i + 1] : "";
            switch (args[i]) {
                case "--port": port = Integer.parseInt(value); i++; break;
                case "--bind": bind = value; i++; break;
                case "--name": name = value; i++; break;
                case "--location": location = value; i++; break;
                case "--timeout-s": timeoutSeconds = Long.parseLong(value); i++; break;
                default:
                    System.err.println("unknown option " + args[i]);
                    System.exit(2);
            }
        }
        Dataset dataset = location == null ? TDB2Factory.createDataset()
                                           : TDB2Factory.connectDataset(location);
        // As Fuseki's `tdb2:unionDefaultGraph true`: the default graph is the union of the
        // named graphs.
        dataset.getContext().set(TDB2.symUnionDefaultGraph, true);
        KgraphJenaServer server = new KgraphJenaServer(dataset, timeoutSeconds * 1000);
        HttpServer http = HttpServer.create(new InetSocketAddress(bind, port), 64);
        http.createContext("/" + name, server::handle);
        http.createContext("/$/ping", exchange -> server.send(exchange, 200, "text/plain", "ok\n"));
        http.setExecutor(Executors.newFixedThreadPool(8));
        http.start();
        System.out.println("Jena " + org.apache.jena.Jena.VERSION + " (ARQ, TDB2"
                + (location == null ? " in memory" : " at " + location)
                + ", union default graph) at http://" + bind + ":" + port + "/" + name);
    }

    // ------------------------------------------------------------------ dispatch

    private void handle(HttpExchange exchange) throws IOException {
        try {
            String path = exchange.getRequestURI().getPath();
            String service = path.substring(path.lastIndexOf('/') + 1);
            String method = exchange.getRequestMethod();
            Map<String, List<String>> params = parse(exchange.getRequestURI().getRawQuery());
            String media = mediaType(exchange.getRequestHeaders().getFirst("Content-Type"));
            byte[] body = readAll(exchange.getRequestBody());
            if (method.equals("POST") && media.equals("application/x-www-form-urlencoded")) {
                parse(new String(body, StandardCharsets.UTF_8)).forEach(
                    (k, v) -> params.computeIfAbsent(k, x -> new ArrayList<>()).addAll(v));
                body = new byte[0];
            }
            boolean queryOk = !service.equals("update") && !service.equals("data");
            boolean updateOk = !service.equals("sparql") && !service.equals("query")
                    && !service.equals("data");
            boolean gspOk = !service.equals("sparql") && !service.equals("query")
                    && !service.equals("update");
            if (queryOk && (params.containsKey("query")
                    || media.equals("application/sparql-query"))) {
                String text = params.containsKey("query") ? first(params, "query")
                        : new String(body, StandardCharsets.UTF_8);
                query(exchange, text, params);
            } else if (updateOk && method.equals("POST") && (params.containsKey("update")
                    || media.equals("application/sparql-update"))) {
                String text = params.containsKey("update") ? first(params, "update")
                        : new String(body, StandardCharsets.UTF_8);
                update(exchange, text);
            } else if (gspOk && (params.containsKey("graph") || params.containsKey("default"))) {
                graphStore(exchange, method, params, media, body);
            } else {
                send(exchange, 400, "text/plain", "no query, update or graph in the request\n");
            }
        } catch (QueryParseException exc) {
            send(exchange, 400, "text/plain", "Parse error: " + exc.getMessage() + "\n");
        } catch (RiotException exc) {
            send(exchange, 400, "text/plain", "Bad RDF: " + exc.getMessage() + "\n");
        } catch (QueryCancelledException exc) {
            send(exchange, 503, "text/plain", "Query timed out\n");
        } catch (RuntimeException exc) {
            send(exchange, 500, "text/plain", exc.getClass().getSimpleName() + ": "
                    + exc.getMessage() + "\n");
        } finally {
            exchange.close();
        }
    }

    // ------------------------------------------------------------------ SPARQL query

    private void query(HttpExchange exchange, String text, Map<String, List<String>> params)
            throws IOException {
        Query query = QueryFactory.create(text, Syntax.syntaxARQ);
        List<String> defaults = params.getOrDefault("default-graph-uri", List.of());
        List<String> named = params.getOrDefault("named-graph-uri", List.of());
        DatasetDescription description = !defaults.isEmpty() || !named.isEmpty()
                ? DatasetDescription.create(defaults, named)
                : DatasetDescription.create(query);
        String accept = String.valueOf(exchange.getRequestHeaders().getFirst("Accept"));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        String[] type = new String[1];
        Txn.executeRead(dataset, () -> {
            DatasetGraph dsg = dataset.asDatasetGraph();
            if (description != null && !description.isEmpty()) {
                dsg = DynamicDatasets.dynamicDataset(description, dsg, false);
            }
            try (QueryExecution execution = QueryExecutionFactory.create(
                    query, DatasetFactory.wrap(dsg))) {
                execution.getContext().set(TDB2.symUnionDefaultGraph, true);
                execution.setTimeout(timeoutMillis, TimeUnit.MILLISECONDS);
                if (query.isSelectType()) {
                    type[0] = writeResults(out, execution.execSelect(), null, accept);
                } else if (query.isAskType()) {
                    type[0] = writeResults(out, null, execution.execAsk(), accept);
                } else {
                    Iterator<Triple> triples = query.isConstructType()
                            ? execution.execConstructTriples() : execution.execDescribeTriples();
                    RDFDataMgr.writeTriples(out, triples);
                    type[0] = "application/n-triples";
                }
            }
        });
        send(exchange, 200, type[0], out.toByteArray());
    }

    private static String writeResults(OutputStream out, ResultSet rows, Boolean answer,
                                       String accept) {
        if (accept.contains("application/sparql-results+json") || accept.contains("json")
                || accept.equals("null") || accept.contains("*/*")) {
            if (rows != null) ResultSetFormatter.outputAsJSON(out, rows);
            else ResultSetFormatter.outputAsJSON(out, answer);
            return "application/sparql-results+json";
        }
        if (accept.contains("xml")) {
            if (rows != null) ResultSetFormatter.outputAsXML(out, rows);
            else ResultSetFormatter.outputAsXML(out, answer);
            return "application/sparql-results+xml";
        }
        if (accept.contains("text/tab-separated-values")) {
            if (rows != null) ResultSetFormatter.outputAsTSV(out, rows);
            else ResultSetFormatter.outputAsTSV(out, answer);
            return "text/tab-separated-values";
        }
        if (rows != null) ResultSetFormatter.outputAsCSV(out, rows);
        else ResultSetFormatter.outputAsCSV(out, answer);
        return "text/csv";
    }

    // ------------------------------------------------------------------ SPARQL update

    private void update(HttpExchange exchange, String text) throws IOException {
        UpdateRequest request = UpdateFactory.create(text, Syntax.syntaxARQ);
        Txn.executeWrite(dataset, () -> UpdateAction.execute(request, dataset));
        send(exchange, 204, null, new byte[0]);
    }

    // ------------------------------------------------------------------ Graph Store Protocol

    private void graphStore(HttpExchange exchange, String method,
                            Map<String, List<String>> params, String media, byte[] body)
            throws IOException {
        Node graph = params.containsKey("graph")
                ? NodeFactory.createURI(first(params, "graph")) : Quad.defaultGraphIRI;
        DatasetGraph dsg = dataset.asDatasetGraph();
        switch (method) {
            case "GET": {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                Txn.executeRead(dataset, () -> RDFDataMgr.writeTriples(
                        out, org.apache.jena.atlas.iterator.Iter.map(
                                dsg.find(graph, Node.ANY, Node.ANY, Node.ANY),
                                Quad::asTriple)));
                send(exchange, 200, "application/n-triples", out.toByteArray());
                return;
            }
            case "PUT":
            case "POST": {
                Lang lang = RDFLanguages.contentTypeToLang(media);
                if (lang == null) lang = Lang.NTRIPLES;
                Graph parsed = GraphFactory.createDefaultGraph();
                StreamRDF sink = StreamRDFLib.graph(parsed);
                RDFParser.source(new java.io.ByteArrayInputStream(body)).lang(lang).parse(sink);
                Txn.executeWrite(dataset, () -> {
                    if (method.equals("PUT")) dsg.deleteAny(graph, Node.ANY, Node.ANY, Node.ANY);
                    parsed.find().forEachRemaining(t -> dsg.add(graph, t.getSubject(),
                            t.getPredicate(), t.getObject()));
                });
                send(exchange, 204, null, new byte[0]);
                return;
            }
            case "DELETE":
                Txn.executeWrite(dataset,
                        () -> dsg.deleteAny(graph, Node.ANY, Node.ANY, Node.ANY));
                send(exchange, 204, null, new byte[0]);
                return;
            default:
                send(exchange, 405, "text/plain", "method not allowed\n");
        }
    }

    // ------------------------------------------------------------------ helpers

    private static Map<String, List<String>> parse(String raw) {
        Map<String, List<String>> params = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) return params;
        for (String pair : raw.split("&")) {
            if (pair.isEmpty()) continue;
            int eq = pair.indexOf('=');
            String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq),
                    StandardCharsets.UTF_8);
            String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1),
                    StandardCharsets.UTF_8);
            params.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
        }
        return params;
    }

    private static String first(Map<String, List<String>> params, String key) {
        return params.get(key).get(0);
    }

    private static String mediaType(String header) {
        if (header == null) return "";
        return ContentType.create(header).getContentTypeStr().toLowerCase();
    }

    private static byte[] readAll(InputStream in) throws IOException {
        return in.readAllBytes();
    }

    private void send(HttpExchange exchange, int status, String type, String text)
            throws IOException {
        send(exchange, status, type, text.getBytes(StandardCharsets.UTF_8));
    }

    private void send(HttpExchange exchange, int status, String type, byte[] body)
            throws IOException {
        if (type != null) {
            exchange.getResponseHeaders().set("Content-Type",
                    type.startsWith("text/") || type.contains("json")
                            ? type + "; charset=utf-8" : type);
        }
        exchange.getResponseHeaders().set("Server", "kgraph-jena-server (Apache Jena "
                + org.apache.jena.Jena.VERSION + ")");
        if (status == 204 || body.length == 0) {
            exchange.sendResponseHeaders(status, -1);
        } else {
            exchange.sendResponseHeaders(status, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        }
    }
}
