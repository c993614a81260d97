// Package faultproxy is an HTTP reverse proxy on 127.0.0.1 that makes a
// share of the requests through it fail the ways object stores fail:
// 500, 503 SlowDown, 429, 401, a body cut short, a body that stalls
// half way, a Content-Length smaller than the range asked for (a
// complete-looking short body), and one larger than the body sent. Integration tests put it in front of
// versitygw and Swift to check that earthmount retries what heals and
// never passes a short or mixed read on as data.
//
// It is test infrastructure: nothing outside integration/ may import it.
// It imports only the standard library.
package faultproxy
