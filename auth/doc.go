// Package auth holds credential and token sources that the backends
// consume, and the Secret type that keeps them out of logs. Sources are
// lazy: nothing is contacted before the first access that needs them.
//
// auth imports no backend and no storage SDK.
package auth
