// Package icosemu is a local emulator of the ICOS Carbon Portal for
// earthmount's tests and demos: cpauth (password login, tokens, licence
// flag), the data host (object downloads with the portal's licence
// decisions, ranges, ETags) and the meta host (SPARQL for the fixed
// queries of backends/icos, dispatched on their "# fuse:<name>" comment).
// It follows /work/shared/reference/icos-api.md §8, with realistic
// fixtures: real data type and station ids, synthetic bytes whose ids are
// minted from them.
//
// Everything is served by one HTTP server under three path prefixes
// (/auth, /data, /meta). Tests count logins, queries and downloads,
// inject faults (SPARQL quota 503s, broken or slow downloads, corrupted
// bytes) and move the emulator's clock.
//
// It lives under integration/ and never ships: nothing outside
// integration/ may import it. It imports only the standard library.
package icosemu
