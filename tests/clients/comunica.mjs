// Run one SPARQL query or update with Comunica at its defaults against a SPARQL endpoint, for tests/web/test_clients.py.
// Usage: node comunica.mjs ENDPOINT QUERY [USER:PASSWORD]
// Prints SELECT bindings as a JSON list of {variable: term string}, an ASK answer as true/false, CONSTRUCT quads as
// N-Triples-like lines; an update prints "done". The endpoint is named as a sparql@ source, so Comunica speaks the
// SPARQL protocol to it (and sends an update there, with httpAuth as HTTP Basic).
import { QueryEngine } from "@comunica/query-sparql";

const [endpoint, query, auth] = process.argv.slice(2);
const engine = new QueryEngine();
const context = { sources: [{ type: "sparql", value: endpoint }], destination: { type: "sparql", value: endpoint } };
if (auth) context.httpAuth = auth;

const result = await engine.query(query, context);
if (result.resultType === "bindings") {
  const rows = [];
  for (const bindings of await (await result.execute()).toArray()) {
    const row = {};
    for (const [variable, term] of bindings) row[variable.value] = term.termType === "Literal" && term.language ? `"${term.value}"@${term.language}` : term.value;
    rows.push(row);
  }
  console.log(JSON.stringify(rows));
} else if (result.resultType === "boolean") {
  console.log(JSON.stringify(await result.execute()));
} else if (result.resultType === "quads") {
  const quads = await (await result.execute()).toArray();
  console.log(quads.map((q) => `${q.subject.value} ${q.predicate.value} ${q.object.value}`).sort().join("\n"));
} else {
  await result.execute();
  console.log("done");
}
