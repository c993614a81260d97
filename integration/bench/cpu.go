package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuUse is where the CPU went during one (a) read: on a 2-core machine a
// FUSE read at loopback speed is bounded by CPU, not by the network, and
// these numbers show it.
type cpuUse struct {
	busy   float64       // share of all cores not idle, 0..1
	daemon time.Duration // user+system time of the FUSE process (0 for direct)
	client time.Duration // of cp, or of this process for the direct download
	other  time.Duration // the rest of the busy time: servers, kernel threads
}

// cpuMeter takes the "before" readings; stop takes the "after" ones.
type cpuMeter struct {
	pid          int // FUSE daemon, 0 for none
	busy, total  uint64
	daemon, self time.Duration
}

func startCPU(pid int) *cpuMeter {
	m := &cpuMeter{pid: pid}
	m.busy, m.total = machineTicks()
	m.daemon = procCPU(pid)
	m.self = selfCPU()
	return m
}

// stop returns the use since start. client is cp's CPU time for a mount;
// 0 means "this process" (the direct download runs in it).
func (m *cpuMeter) stop(client time.Duration) cpuUse {
	busy, total := machineTicks()
	u := cpuUse{daemon: procCPU(m.pid) - m.daemon, client: client}
	if total > m.total {
		u.busy = float64(busy-m.busy) / float64(total-m.total)
	}
	if m.pid == 0 {
		u.client = selfCPU() - m.self
	}
	u.other = max(0, time.Duration(busy-m.busy)*clockTick-u.daemon-u.client)
	return u
}

func (u cpuUse) String() string {
	s := fmt.Sprintf("machine %.0f%% busy, ", 100*u.busy)
	if u.daemon > 0 {
		s += fmt.Sprintf("daemon %.1f s, ", u.daemon.Seconds())
	}
	return s + fmt.Sprintf("client %.1f s, other %.1f s", u.client.Seconds(), u.other.Seconds())
}

// machineTicks sums /proc/stat's first line: busy and total jiffies over
// all cores (idle and iowait count as not busy).
func machineTicks() (busy, total uint64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "cpu" {
		return 0, 0
	}
	for i, s := range f[1:] {
		if i >= 8 { // guest time is already in user
			break
		}
		n, _ := strconv.ParseUint(s, 10, 64)
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total
}

// clockTick is USER_HZ, 100 on every Linux architecture Go supports here.
const clockTick = 10 * time.Millisecond

// procCPU is a process's user+system time from /proc/PID/stat.
func procCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which may hold spaces: state is
	// field 3, utime 14 and stime 15.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * clockTick
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
