//go:build race

package cache

// raceEnabled: the race detector slows everything down several times, so
// timing assertions get more room.
const raceEnabled = true
