package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// metricsURL finds the line earthmount logs when --metrics-addr serves.
var metricsURL = regexp.MustCompile(`url=(http://\S+/metrics)`)

// scrapeCache reads earthmount's cache counters from the metrics endpoint
// its log names, as one line for the report; "" when unavailable.
func scrapeCache(ctx context.Context, logPath string) string {
	log, err := os.ReadFile(logPath)
	if err != nil {
		return ""
	}
	m := metricsURL.FindSubmatch(log)
	if m == nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, string(m[1]), nil)
	if err != nil {
		return ""
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	want := []string{"prefetch_issued_total", "prefetch_used_total", "prefetch_skipped_total", "evictions_total", "hits_total", "misses_total", "peak_bytes"}
	got := map[string]string{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		if n, found := strings.CutPrefix(name, "earthmount_cache_"); ok && found {
			got[n] = val
		}
	}
	var parts []string
	for _, n := range want {
		if v, ok := got[n]; ok {
			parts = append(parts, fmt.Sprintf("%s %s", strings.TrimSuffix(n, "_total"), v))
		}
	}
	return strings.Join(parts, ", ")
}

// cpuSeconds returns the user plus system CPU time process pid has used,
// from /proc/PID/stat (fields 14 and 15, in clock ticks of 1/100 s, the
// value of USER_HZ on Linux).
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields count after ")".
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("cpu of %d: malformed stat", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("cpu of %d: malformed stat", pid)
	}
	var ticks float64
	for _, v := range f[11:13] { // utime, stime: fields 14 and 15
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, fmt.Errorf("cpu of %d: %w", pid, err)
		}
		ticks += n
	}
	return ticks / 100, nil
}
