// Package storetest is the contract suite of backends.Store: Run checks
// one store implementation against the rules written in package backends,
// as named subtests over a standard fixture that the suite defines and the
// implementation's Factory stores.
//
// Every store runs it: memstore in plain unit tests, the S3 store against
// its fake and against real servers (versitygw, Swift's s3api), and later
// Swift and the ICOS portal. Differences a store cannot avoid are declared
// in Capabilities, never by editing the checks.
//
// It imports backends and the standard library only.
package storetest
