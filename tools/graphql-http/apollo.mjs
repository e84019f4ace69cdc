// Apollo Client's own links (@apollo/client 4) against the router, one sub-command each.
//
//   node tools/graphql-http/apollo.mjs batch http://127.0.0.1:4000/graphql '{ hello }' '{ users(first: 2) { id } }'
//   node tools/graphql-http/apollo.mjs persisted http://127.0.0.1:4000/graphql 'query Hello { hello }' ...
//   node tools/graphql-http/apollo.mjs defer http://127.0.0.1:4000/graphql 'query { a ... @defer { b } }'
//   node tools/graphql-http/apollo.mjs subscribe http://127.0.0.1:4000/graphql 'subscription { ... }' '{}' 'Bearer ...'
//
// Each sub-command prints one JSON object on stdout: what the client got back
// (data, or its error's message and codes) and what it sent over the wire
// (the requests its fetch made: method and body), so a test can check both
// the answers and that the client used the protocol it is meant to use.
// Sub-commands are a plain switch on argv[2]; add new ones as new cases.
import { createHash } from 'node:crypto';
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from '@apollo/client';
import { Defer20220824Handler } from '@apollo/client/incremental';
import { BatchHttpLink } from '@apollo/client/link/batch-http';
import { PersistedQueryLink } from '@apollo/client/link/persisted-queries';

const [command, url, ...queries] = process.argv.slice(2);

/** A fetch that records every request it makes (method, parsed body). */
const recorder = () => {
  const sent = [];
  const fetchRecorded = async (input, init = {}) => {
    const body = typeof init.body === 'string' ? JSON.parse(init.body) : null;
    sent.push({ method: init.method ?? 'GET', url: String(input), body });
    return fetch(input, init);
  };
  return { sent, fetch: fetchRecorded };
};

/** One query's outcome as plain JSON: data, or the error's message and GraphQL codes. */
const outcome = async (client, query) => {
  try {
    const r = await client.query({ query: gql(query), fetchPolicy: 'no-cache' });
    if (r.error) {
      return { data: r.data ?? null, error: r.error.message, codes: codes(r.error) };
    }
    return { data: r.data ?? null, error: null, codes: [] };
  } catch (e) {
    return { data: null, error: e.message, codes: codes(e) };
  }
};

const codes = (e) => (e?.errors ?? []).map((x) => x?.extensions?.code ?? null);

const client = (link) => new ApolloClient({ link, cache: new InMemoryCache() });

const sha256 = (text) => createHash('sha256').update(text).digest('hex');

let result;
switch (command) {
  case 'batch': {
    // BatchHttpLink: every query issued in the same tick goes in one POST (a JSON array)
    const wire = recorder();
    const link = new BatchHttpLink({ uri: url, fetch: wire.fetch, batchMax: 10, batchInterval: 20 });
    const c = client(link);
    const answers = await Promise.all(queries.map((q) => outcome(c, q)));
    result = { answers, sent: wire.sent };
    break;
  }
  case 'persisted': {
    // PersistedQueryLink (sha256 from node:crypto) over a plain HttpLink: the hash
    // first; on PersistedQueryNotFound the link retries with the full text
    const wire = recorder();
    const link = ApolloLink.from([
      new PersistedQueryLink({ sha256 }),
      new HttpLink({ uri: url, fetch: wire.fetch }),
    ]);
    const c = client(link);
    const answers = [];
    for (const q of queries) answers.push(await outcome(c, q));
    result = { answers, sent: wire.sent };
    break;
  }
  case 'subscribe': {
    // HttpLink alone: Apollo Client sends a subscription as a POST that accepts
    // `multipart/mixed;subscriptionSpec=1.0` and reads the parts as they arrive.
    //   apollo.mjs subscribe URL 'subscription ...' ['{"n": 2}'] ['Bearer ...']
    // Each event is printed as one JSON line ({"data": ...} or {"error", "codes"})
    // as the client delivers it; the last line is the summary object below.
    const [query, variables, authorization] = queries;
    const wire = recorder();
    const headers = authorization ? { authorization } : {};
    const accepted = [];
    const fetchSeen = (input, init = {}) => {
      accepted.push(new Headers(init.headers).get('accept'));
      return wire.fetch(input, init);
    };
    const c = client(new HttpLink({ uri: url, fetch: fetchSeen, headers }));
    const end = await new Promise((resolve) => {
      c.subscribe({ query: gql(query), variables: JSON.parse(variables || '{}') }).subscribe({
        next: (r) => {
          const line = r.error
            ? { data: r.data ?? null, error: r.error.message, codes: codes(r.error) }
            : { data: r.data ?? null };
          console.log(JSON.stringify(line));
        },
        error: (e) => resolve({ end: 'error', error: e.message, codes: codes(e) }),
        complete: () => resolve({ end: 'complete', error: null, codes: [] }),
      });
    });
    result = { ...end, sent: wire.sent, accept: accepted };
    break;
  }
  case 'defer': {
    // HttpLink reads multipart @defer (deferSpec=20220824) once the client is
    // given that incremental handler; every result it delivers is printed
    const wire = recorder();
    const c = new ApolloClient({
      link: new HttpLink({ uri: url, fetch: wire.fetch }),
      cache: new InMemoryCache(),
      incrementalHandler: new Defer20220824Handler(),
    });
    const results = await new Promise((resolve) => {
      const seen = [];
      const sub = c.watchQuery({ query: gql(queries[0]), fetchPolicy: 'no-cache' }).subscribe({
        next: (r) => {
          if (r.data !== undefined) seen.push({ data: r.data, dataState: r.dataState ?? null });
          if (!r.loading && r.dataState !== 'streaming') {
            sub.unsubscribe();
            resolve(seen);
          }
        },
        error: (e) => resolve([...seen, { error: e.message }]),
      });
    });
    result = { results, sent: wire.sent };
    break;
  }
  default:
    console.error(`unknown sub-command ${command}: batch | persisted | subscribe | defer`);
    process.exit(2);
}
console.log(JSON.stringify(result));
