// Package icos is the backends.Store of the ICOS Carbon Portal: data
// objects as read-only files, named from SPARQL metadata and read from the
// data host.
//
// Keys: "<data type>/<station>/<file name>", or "<data type>/<file name>"
// for objects without a station ("objects/<id>/<file name>" reaches any
// object by its id and is never listed). Data types and stations are the
// suffixes of their IRIs (a station's without its AS_/ES_/OS_ class
// prefix); only the latest versions are listed unless ShowDeprecated is
// set; clashing file names in one directory get "(1)", "(2)" before the
// extension, as the portal's own zip downloads name them. Version is the
// object's 24-character hash id: objects never change.
//
// Metadata comes from one paged SPARQL query per data type, cached for
// MetaTTL and shared by concurrent callers (meta.go, tree.go); a 503
// (query quota) is retried with backoff, and a stale copy is served
// rather than an error. Bytes come from one whole GET of
// data_url/objects/<id> per object, kept in an unlinked temporary file
// (blobs.go) and checked against the id before any byte is served: the
// portal counts every GET as a download, so the many ranged ReadAt calls
// of the chunk cache must not become many requests.
//
// It imports backends, auth and the standard library; never fs, cache or
// cmd.
package icos
